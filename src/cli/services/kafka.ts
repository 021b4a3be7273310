/**
 * The local Apache Kafka broker: fetched once per version from Maven Central with the machine's
 * Maven into the cache folder, configured as a single KRaft node on loopback, formatted and started
 * with the machine's Java. Each (version, port) pair is an instance with its own run folder, so
 * versions can be switched, or run side by side on different ports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  DEFAULT_KAFKA_PORT,
  HOST,
  ServicesError,
  cachePaths,
  lastLines,
  managedPid,
  portOpen,
  processAlive,
  run,
  seconds,
  sleep,
  withTail,
} from './common.ts';
import { DEFAULT_KAFKA_VERSION, kafkaRelease, type KafkaRelease } from './kafka-release.ts';

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const KAFKA_START_TIMEOUT_MS = Number(process.env.TRIBUTARY_KAFKA_START_TIMEOUT_MS ?? 120_000);
export const KAFKA_STOP_TIMEOUT_MS = 30_000;

/** Which Kafka to run, and where it listens. */
export interface KafkaTarget {
  release: KafkaRelease;
  port: number;
  controllerPort: number;
  /** The version was asked for (option or TRIBUTARY_KAFKA_VERSION), not the default. */
  versionChosen: boolean;
}

export interface KafkaTargetOptions {
  kafkaVersion?: string;
  kafkaPort?: number;
}

/** The target from options, else TRIBUTARY_KAFKA_VERSION / TRIBUTARY_KAFKA_PORT, else the defaults. */
export function kafkaTarget(options: KafkaTargetOptions = {}): KafkaTarget {
  const chosen = options.kafkaVersion || process.env.TRIBUTARY_KAFKA_VERSION || undefined;
  const port = options.kafkaPort ?? (process.env.TRIBUTARY_KAFKA_PORT ? Number(process.env.TRIBUTARY_KAFKA_PORT) : DEFAULT_KAFKA_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new ServicesError(`Kafka port '${options.kafkaPort ?? process.env.TRIBUTARY_KAFKA_PORT}' is not a port number (1-65534; the controller takes the next one).`);
  }
  return { release: kafkaRelease(chosen ?? DEFAULT_KAFKA_VERSION), port, controllerPort: port + 1, versionChosen: chosen !== undefined };
}

export function kafkaBrokers(target: KafkaTarget): string[] {
  return [`${HOST}:${target.port}`];
}

/** Files of one version's installation and one instance's run folder. */
export interface KafkaPaths {
  kafkaHome: string;
  kafkaLibs: string;
  kafkaComplete: string;
  kafkaRun: string;
  kafkaData: string;
  kafkaConfig: string;
  kafkaLogConfig: string;
  kafkaLogsDir: string;
  kafkaServerLog: string;
  kafkaOut: string;
  kafkaPid: string;
}

/** Before versions could be chosen, the one instance (3.9.2 on 9092) ran in `run/kafka`. */
const LEGACY_RUN_NAME = 'kafka';
const LEGACY_VERSION = '3.9.2';

function instancePaths(release: KafkaRelease, runName: string): KafkaPaths {
  const { cacheDir, runDir } = cachePaths();
  const kafkaHome = join(cacheDir, `kafka-${release.version}`);
  const kafkaRun = join(runDir, runName);
  const kafkaLogsDir = join(kafkaRun, 'logs');
  return {
    kafkaHome,
    kafkaLibs: join(kafkaHome, 'libs'),
    kafkaComplete: join(kafkaHome, '.complete'),
    kafkaRun,
    kafkaData: join(kafkaRun, 'data'),
    kafkaConfig: join(kafkaRun, 'server.properties'),
    kafkaLogConfig: join(kafkaRun, release.logConfigName),
    kafkaLogsDir,
    kafkaServerLog: join(kafkaLogsDir, 'server.log'),
    kafkaOut: join(kafkaLogsDir, 'kafka.out'),
    kafkaPid: join(kafkaRun, 'kafka.pid'),
  };
}

export function kafkaPaths(target: KafkaTarget): KafkaPaths {
  return instancePaths(target.release, `kafka-${target.release.version}-${target.port}`);
}

/** A broker that `up` started and that is still alive. */
export interface KafkaInstance {
  version: string;
  port: number;
  pid: number;
  paths: KafkaPaths;
}

/** The live brokers recorded in the run folder (stale pid files are cleared). */
export function kafkaInstances(): KafkaInstance[] {
  const { runDir } = cachePaths();
  if (!existsSync(runDir)) return [];
  const instances: KafkaInstance[] = [];
  for (const name of readdirSync(runDir)) {
    const match = /^kafka-(\d+\.\d+\.\d+)-(\d+)$/.exec(name);
    const [version, port] = match ? [match[1]!, Number(match[2])] : name === LEGACY_RUN_NAME ? [LEGACY_VERSION, DEFAULT_KAFKA_PORT] : [null, 0];
    if (version === null) continue;
    let release: KafkaRelease;
    try {
      release = kafkaRelease(version);
    } catch {
      continue;
    }
    const paths = instancePaths(release, name);
    const pid = managedPid(paths.kafkaPid, paths.kafkaConfig);
    if (pid !== null) instances.push({ version, port, pid, paths });
  }
  return instances.sort((a, b) => a.port - b.port || a.version.localeCompare(b.version));
}

/** The id an instance is known by in the lease bookkeeping. */
export function instanceId(instance: { version: string; port: number }): string {
  return `${instance.version}@${instance.port}`;
}

/** Resolves true when a Kafka broker on the port answers a metadata request. */
export async function kafkaAnswers(port: number, timeoutMs = 3000): Promise<boolean> {
  if (!(await portOpen(port))) return false;
  const kafka = new Kafka({
    clientId: 'tributary-services',
    brokers: [`${HOST}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 2000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    const probe = (async () => {
      await admin.connect();
      await admin.listTopics();
      return true;
    })();
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), timeoutMs + 500);
    });
    return await Promise.race([probe, timeout]);
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Java, Maven, fetching Kafka

function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

function checkJava(release: KafkaRelease): string {
  const java = javaCommand();
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new ServicesError(
      `Java is needed to run Apache Kafka ${release.version} but '${java}' was not found. ` +
        `Install Java 17 or newer (Debian: apt-get install -y default-jdk-headless) or set JAVA_HOME.`,
    );
  }
  const text = `${result.stderr ?? ''}${result.stdout ?? ''}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (match) {
    const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
    if (major < release.minJava) {
      throw new ServicesError(
        `Apache Kafka ${release.version} needs Java ${release.minJava} or newer, '${java}' is Java ${major}. ` +
          `Install Java 17 or newer (Debian: apt-get install -y default-jdk-headless) or set JAVA_HOME.`,
      );
    }
  }
  return java;
}

function pomXml(release: KafkaRelease): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Generated by tributary services: the runtime class path of a single-node Kafka broker. -->',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>dev.tributary.local</groupId>',
    `  <artifactId>kafka-server-${release.version}</artifactId>`,
    '  <version>1</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    ...release.artifacts.map(
      ({ groupId, artifactId, version }) =>
        `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`,
    ),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

function installed(p: KafkaPaths): boolean {
  return existsSync(p.kafkaComplete) && existsSync(p.kafkaLibs);
}

/** Whether this version's jars are in the cache already. */
export function kafkaInstalled(target: KafkaTarget): boolean {
  return installed(kafkaPaths(target));
}

/** Fetches a version's jars once into the cache; returns the libs folder. */
async function ensureKafkaInstalled(release: KafkaRelease, p: KafkaPaths, say: (m: string) => void): Promise<string> {
  if (installed(p)) return p.kafkaLibs;

  mkdirSync(p.kafkaHome, { recursive: true });
  const pom = join(p.kafkaHome, 'pom.xml');
  writeFileSync(pom, pomXml(release));
  const tmpLibs = `${p.kafkaLibs}.tmp-${process.pid}`;
  rmSync(tmpLibs, { recursive: true, force: true });

  say(`Fetching Apache Kafka ${release.version} from Maven Central into ${p.kafkaHome} (once) ...`);
  const t0 = Date.now();
  const result = await run('mvn', [
    '-B',
    '-q',
    '-f',
    pom,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${tmpLibs}`,
  ]);
  if (result.missing) throw new ServicesError(mavenMissing(release));
  if (result.code !== 0 || !existsSync(join(tmpLibs, release.serverJar))) {
    rmSync(tmpLibs, { recursive: true, force: true });
    throw new ServicesError(
      `Fetching Apache Kafka ${release.version} with Maven failed (mvn exit code ${result.code}); ` +
        `check that Maven Central can be reached and that ${release.version} is a released version, then retry. ` +
        `Maven said:\n${lastLines(result.output)}`,
    );
  }
  rmSync(p.kafkaLibs, { recursive: true, force: true });
  renameSync(tmpLibs, p.kafkaLibs);
  writeFileSync(p.kafkaComplete, `${release.version} fetched ${new Date().toISOString()}\n`);
  say(`Fetched Apache Kafka ${release.version} in ${seconds(Date.now() - t0)}.`);
  return p.kafkaLibs;
}

function mavenMissing(release: KafkaRelease): string {
  return (
    `Maven (mvn) is needed once to fetch Apache Kafka ${release.version} from Maven Central, and it was not found. ` +
    `Install it (Debian: apt-get install -y maven) and run 'tributary services up' again.`
  );
}

/** What must be installed before Kafka can be started (empty when all is there). */
export function missingForKafka(target: KafkaTarget): string[] {
  const missing: string[] = [];
  try {
    checkJava(target.release);
  } catch (error) {
    missing.push((error as Error).message);
  }
  if (!installed(kafkaPaths(target)) && spawnSync('mvn', ['-v']).error) missing.push(mavenMissing(target.release));
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Kafka

function serverProperties(target: KafkaTarget, p: KafkaPaths): string {
  return [
    '# Generated by tributary services (rewritten on every start): single-node KRaft on loopback.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${target.controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${target.port},CONTROLLER://${HOST}:${target.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${target.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${p.kafkaData}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
    '',
  ].join('\n');
}

function kafkaJvmArgs(release: KafkaRelease, p: KafkaPaths): string[] {
  return [
    '-Xmx512m',
    '-Xms256m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${p.kafkaLogsDir}`,
    release.logConfigArg(p.kafkaLogConfig),
    '-cp',
    `${p.kafkaLibs}/*`,
  ];
}

/** A random cluster id in Kafka's format (base64url of 16 bytes, not starting with '-'). */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function formatStorageIfNeeded(java: string, release: KafkaRelease, p: KafkaPaths, say: (m: string) => void): Promise<void> {
  if (existsSync(join(p.kafkaData, 'meta.properties'))) return;
  rmSync(p.kafkaData, { recursive: true, force: true });
  mkdirSync(p.kafkaData, { recursive: true });
  const clusterId = randomClusterId();
  say(`Formatting Kafka storage in ${p.kafkaData} (cluster id ${clusterId}) ...`);
  // Both lines keep kafka.tools.StorageTool; with a static controller.quorum.voters, Kafka 4 needs
  // no --standalone or --initial-controllers (those are for a dynamic quorum).
  const result = await run(
    java,
    [
      ...kafkaJvmArgs(release, p).map((a) => (a === '-Xms256m' ? '-Xms64m' : a)),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      p.kafkaConfig,
    ],
    { cwd: p.kafkaRun },
  );
  if (result.code !== 0) {
    rmSync(p.kafkaData, { recursive: true, force: true });
    throw new ServicesError(
      `Formatting Kafka storage failed (exit code ${result.code}) in ${p.kafkaData}. ` +
        `Delete ${p.kafkaRun} and retry. StorageTool said:\n${lastLines(result.output)}`,
    );
  }
}

async function waitForKafka(target: KafkaTarget, pid: number, exitInfo: () => string | null, p: KafkaPaths): Promise<void> {
  const deadline = Date.now() + KAFKA_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exited = exitInfo();
    if (exited !== null || !processAlive(pid, p.kafkaConfig)) {
      throw new ServicesError(
        withTail(
          `Kafka exited while starting (${exited ?? 'process gone'}); see ${p.kafkaServerLog} and ${p.kafkaOut}.`,
          existsSync(p.kafkaOut) && statSync(p.kafkaOut).size > 0 ? p.kafkaOut : p.kafkaServerLog,
        ),
      );
    }
    if (await kafkaAnswers(target.port)) return;
    await sleep(500);
  }
  throw new ServicesError(
    withTail(
      `Kafka (pid ${pid}) did not answer on ${HOST}:${target.port} within ${seconds(KAFKA_START_TIMEOUT_MS)}; ` +
        `see ${p.kafkaServerLog}. It was left running: stop it with 'tributary services down'.`,
      p.kafkaServerLog,
    ),
  );
}

/** What `kafkaUp` found or did. */
export interface KafkaUp {
  /** This call started the broker. */
  started: boolean;
  /** The version of the broker that answers, when known (not known for one tributary did not start). */
  version: string | null;
}

/**
 * Brings Kafka up on the target's port. A broker that already answers there is reused, unless
 * tributary started it with another version than the one asked for.
 */
export async function kafkaUp(target: KafkaTarget, say: (m: string) => void): Promise<KafkaUp> {
  const { release, port, controllerPort } = target;
  const onPort = kafkaInstances().find((i) => i.port === port);
  if (onPort && onPort.version !== release.version) {
    if (target.versionChosen) {
      throw new ServicesError(
        `Apache Kafka ${onPort.version} (started by tributary, pid ${onPort.pid}) runs on ${HOST}:${port}, not ${release.version}. ` +
          `Stop it with 'tributary services down', or run ${release.version} beside it with --kafka-port <another port>.`,
      );
    }
    say(`Apache Kafka ${onPort.version} (pid ${onPort.pid}) runs on ${HOST}:${port}; reusing it (ask for a version with --kafka-version).`);
    if (!(await kafkaAnswers(port))) await waitForKafka({ ...target, release: kafkaRelease(onPort.version) }, onPort.pid, () => null, onPort.paths);
    return { started: false, version: onPort.version };
  }
  if (await kafkaAnswers(port)) {
    say(`Kafka already answers on ${HOST}:${port}${onPort ? ` (Apache Kafka ${onPort.version}, pid ${onPort.pid})` : ''}; reusing it.`);
    return { started: false, version: onPort?.version ?? null };
  }
  const p = kafkaPaths(target);
  if (onPort) {
    // Ours and alive but not answering yet: it may be starting (or stuck).
    say(`Kafka (pid ${onPort.pid}) is running but not answering yet; waiting ...`);
    await waitForKafka(target, onPort.pid, () => null, p);
    return { started: false, version: onPort.version };
  }
  if (await portOpen(port)) {
    throw new ServicesError(
      `Port ${HOST}:${port} is taken by a process that does not answer as a Kafka broker. ` +
        `Stop it (see: ss -ltnp 'sport = :${port}') and run 'tributary services up' again, or choose another --kafka-port.`,
    );
  }
  if (await portOpen(controllerPort)) {
    throw new ServicesError(
      `Port ${HOST}:${controllerPort} (the Kafka controller listener, client port + 1) is taken by another process. ` +
        `Stop it (see: ss -ltnp 'sport = :${controllerPort}') and run 'tributary services up' again, or choose another --kafka-port.`,
    );
  }

  const java = checkJava(release);
  await ensureKafkaInstalled(release, p, say);
  mkdirSync(p.kafkaLogsDir, { recursive: true });
  writeFileSync(p.kafkaConfig, serverProperties(target, p));
  writeFileSync(p.kafkaLogConfig, release.logConfig());
  await formatStorageIfNeeded(java, release, p, say);

  say(`Starting Apache Kafka ${release.version} on ${HOST}:${port} (logs: ${p.kafkaServerLog}) ...`);
  const t0 = Date.now();
  const out = openSync(p.kafkaOut, 'w');
  let exitInfo: string | null = null;
  const child = spawn(java, [...kafkaJvmArgs(release, p), 'kafka.Kafka', p.kafkaConfig], {
    cwd: p.kafkaRun,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.once('error', (error) => (exitInfo = `could not start ${java}: ${error.message}`));
  child.once('exit', (code, signal) => (exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.unref();
  if (child.pid === undefined) {
    await sleep(50);
    throw new ServicesError(`Could not start Kafka with '${java}': ${exitInfo ?? 'unknown error'}.`);
  }
  writeFileSync(p.kafkaPid, `${child.pid}\n`);
  try {
    await waitForKafka(target, child.pid, () => exitInfo, p);
  } catch (error) {
    if (exitInfo !== null) rmSync(p.kafkaPid, { force: true });
    throw error;
  }
  say(`Kafka ${release.version} is up (pid ${child.pid}, started in ${seconds(Date.now() - t0)}).`);
  return { started: true, version: release.version };
}
