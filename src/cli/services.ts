/**
 * Local development services: a single-node Apache Kafka broker in KRaft mode and a Redis server,
 * both on loopback. Used by `tributary services up|down|status` and by the vitest global setup.
 *
 * Kafka is fetched once from Maven Central with the machine's Maven into the cache folder
 * (`$TRIBUTARY_CACHE`, else `~/.cache/tributary`) and run with the machine's Java. Redis is the
 * machine's `redis-server`. What `up` starts is recorded in pid files, and `down` stops only that.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

/** The Apache Kafka release that is fetched and run (3.9.x: kafkajs 2.2.4 cannot talk to Kafka 4). */
export const KAFKA_VERSION = '3.9.2';
/** Scala build of the Kafka server artifact. */
const SCALA_BINARY = '2.13';
const SLF4J_VERSION = '1.7.36';
const RELOAD4J_VERSION = '1.2.25';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const HOST = '127.0.0.1';
export const KAFKA_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;
export const REDIS_PORT = 6379;

const KAFKA_START_TIMEOUT_MS = Number(process.env.TRIBUTARY_KAFKA_START_TIMEOUT_MS ?? 120_000);
const REDIS_START_TIMEOUT_MS = 15_000;
const KAFKA_STOP_TIMEOUT_MS = 30_000;
const REDIS_STOP_TIMEOUT_MS = 10_000;
const LOCK_TIMEOUT_MS = 15 * 60_000;

export interface ServiceEndpoints {
  brokers: string[];
  redisUrl: string;
}

export interface ServicesUpOptions {
  /** Print nothing (progress goes to stderr otherwise). */
  quiet?: boolean;
  /** Bring up Kafka (default true). */
  kafka?: boolean;
  /** Bring up Redis (default true). */
  redis?: boolean;
}

export interface ServicesUpResult extends ServiceEndpoints {
  /** What this call started (false: it was already running, or was not asked for). */
  started: { kafka: boolean; redis: boolean };
}

export interface ServicesDownOptions {
  /** Stop Kafka if `up` started it (default true). */
  kafka?: boolean;
  /** Stop Redis if `up` started it (default true). */
  redis?: boolean;
}

export interface ServiceState {
  /** Something answers on the port as this service. */
  running: boolean;
  /** Started by `tributary services up` (a live pid file), so `down` will stop it. */
  managed: boolean;
  pid: number | null;
  endpoint: string;
  logFile: string;
}

export interface ServicesStatus {
  cacheDir: string;
  kafka: ServiceState & { version: string; installed: boolean };
  redis: ServiceState;
}

/** A problem the user can fix; the message says what to do. */
export class ServicesError extends Error {
  override readonly name = 'ServicesError';
}

interface Paths {
  cacheDir: string;
  kafkaHome: string;
  kafkaLibs: string;
  kafkaComplete: string;
  runDir: string;
  lockFile: string;
  kafkaRun: string;
  kafkaData: string;
  kafkaConfig: string;
  kafkaLog4j: string;
  kafkaLogsDir: string;
  kafkaServerLog: string;
  kafkaOut: string;
  kafkaPid: string;
  redisRun: string;
  redisLog: string;
  redisPid: string;
}

function paths(): Paths {
  const cacheDir = resolve(process.env.TRIBUTARY_CACHE || join(homedir(), '.cache', 'tributary'));
  const kafkaHome = join(cacheDir, `kafka-${KAFKA_VERSION}`);
  const runDir = join(cacheDir, 'run');
  const kafkaRun = join(runDir, 'kafka');
  const kafkaLogsDir = join(kafkaRun, 'logs');
  const redisRun = join(runDir, 'redis');
  return {
    cacheDir,
    kafkaHome,
    kafkaLibs: join(kafkaHome, 'libs'),
    kafkaComplete: join(kafkaHome, '.complete'),
    runDir,
    lockFile: join(runDir, 'services.lock'),
    kafkaRun,
    kafkaData: join(kafkaRun, 'data'),
    kafkaConfig: join(kafkaRun, 'server.properties'),
    kafkaLog4j: join(kafkaRun, 'log4j.properties'),
    kafkaLogsDir,
    kafkaServerLog: join(kafkaLogsDir, 'server.log'),
    kafkaOut: join(kafkaLogsDir, 'kafka.out'),
    kafkaPid: join(kafkaRun, 'kafka.pid'),
    redisRun,
    redisLog: join(redisRun, 'redis.log'),
    redisPid: join(redisRun, 'redis.pid'),
  };
}

const KAFKA_BROKERS = [`${HOST}:${KAFKA_PORT}`];
const REDIS_URL = `redis://${HOST}:${REDIS_PORT}`;

// ---------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function tail(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function withTail(message: string, file: string, lines = 15): string {
  const t = tail(file, lines);
  return t ? `${message}\nLast lines of ${file}:\n${t}` : message;
}

/** Resolves true when something accepts a TCP connection on host:port. */
function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: HOST, port });
    const finish = (open: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      done(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Resolves true when a Redis server answers PING (any RESP reply, e.g. -NOAUTH, counts). */
function redisAnswers(timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: HOST, port: REDIS_PORT });
    let buffer = '';
    const finish = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      if (buffer.includes('\r\n')) finish(buffer.startsWith('+') || buffer.startsWith('-'));
    });
  });
}

/** Resolves true when a Kafka broker on the port answers a metadata request. */
async function kafkaAnswers(timeoutMs = 3000): Promise<boolean> {
  if (!(await portOpen(KAFKA_PORT))) return false;
  const kafka = new Kafka({
    clientId: 'tributary-services',
    brokers: KAFKA_BROKERS,
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

/** Whether pid is a live (non-zombie) process whose command line contains `marker`. */
function processAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone; EPERM: it exists but belongs to someone else, so it is not ours.
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (marker) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      return cmdline.includes(marker);
    }
    return true;
  } catch {
    // No /proc (not Linux): trust kill(0).
    return true;
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The pid recorded in `file` if that process is still alive and is the service; clears a stale file. */
function managedPid(file: string, marker: string): number | null {
  const pid = readPid(file);
  if (pid === null) return null;
  if (processAlive(pid, marker)) return pid;
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
  return null;
}

interface RunResult {
  code: number | null;
  output: string;
  missing: boolean;
}

/** Runs a command to completion, collecting stdout+stderr; `missing` when the program is not found. */
function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((done) => {
    let output = '';
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (error: NodeJS.ErrnoException) =>
      done({ code: null, output: output + String(error.message), missing: error.code === 'ENOENT' }),
    );
    child.once('close', (code) => done({ code, output, missing: false }));
  });
}

function lastLines(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Java, Maven, fetching Kafka

function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

function checkJava(): string {
  const java = javaCommand();
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new ServicesError(
      `Java is needed to run Apache Kafka ${KAFKA_VERSION} but '${java}' was not found. ` +
        `Install Java 17 or newer (Debian: apt-get install -y default-jdk-headless) or set JAVA_HOME.`,
    );
  }
  const text = `${result.stderr ?? ''}${result.stdout ?? ''}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (match) {
    const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
    if (major < 11) {
      throw new ServicesError(
        `Apache Kafka ${KAFKA_VERSION} needs Java 11 or newer, '${java}' is Java ${major}. ` +
          `Install Java 17 or newer (Debian: apt-get install -y default-jdk-headless) or set JAVA_HOME.`,
      );
    }
  }
  return java;
}

function pomXml(): string {
  const dep = (g: string, a: string, v: string): string =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Generated by tributary services: the runtime class path of a single-node Kafka broker. -->',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>dev.tributary.local</groupId>',
    `  <artifactId>kafka-server-${KAFKA_VERSION}</artifactId>`,
    '  <version>1</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    dep('org.apache.kafka', `kafka_${SCALA_BINARY}`, KAFKA_VERSION),
    dep('org.slf4j', 'slf4j-reload4j', SLF4J_VERSION),
    dep('ch.qos.reload4j', 'reload4j', RELOAD4J_VERSION),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

/** Fetches Kafka's jars once into the cache; returns the libs folder. */
async function ensureKafkaInstalled(say: (m: string) => void): Promise<string> {
  const p = paths();
  if (existsSync(p.kafkaComplete) && existsSync(p.kafkaLibs)) return p.kafkaLibs;

  mkdirSync(p.kafkaHome, { recursive: true });
  const pom = join(p.kafkaHome, 'pom.xml');
  writeFileSync(pom, pomXml());
  const tmpLibs = `${p.kafkaLibs}.tmp-${process.pid}`;
  rmSync(tmpLibs, { recursive: true, force: true });

  say(`Fetching Apache Kafka ${KAFKA_VERSION} from Maven Central into ${p.kafkaHome} (once) ...`);
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
  if (result.missing) throw new ServicesError(MAVEN_MISSING);
  if (result.code !== 0 || !existsSync(join(tmpLibs, `kafka_${SCALA_BINARY}-${KAFKA_VERSION}.jar`))) {
    rmSync(tmpLibs, { recursive: true, force: true });
    throw new ServicesError(
      `Fetching Apache Kafka ${KAFKA_VERSION} with Maven failed (mvn exit code ${result.code}); ` +
        `check that Maven Central can be reached, then retry. Maven said:\n${lastLines(result.output)}`,
    );
  }
  rmSync(p.kafkaLibs, { recursive: true, force: true });
  renameSync(tmpLibs, p.kafkaLibs);
  writeFileSync(p.kafkaComplete, `${KAFKA_VERSION} fetched ${new Date().toISOString()}\n`);
  say(`Fetched Apache Kafka ${KAFKA_VERSION} in ${seconds(Date.now() - t0)}.`);
  return p.kafkaLibs;
}

const MAVEN_MISSING =
  `Maven (mvn) is needed once to fetch Apache Kafka ${KAFKA_VERSION} from Maven Central, and it was not found. ` +
  `Install it (Debian: apt-get install -y maven) and run 'tributary services up' again.`;
const REDIS_MISSING =
  `redis-server was not found. Install it (Debian, as root: apt-get install -y redis-server) ` +
  `and run 'tributary services up' again.`;

/** What must be installed before Kafka can be started (empty when all is there). */
function missingForKafka(): string[] {
  const missing: string[] = [];
  try {
    checkJava();
  } catch (error) {
    missing.push((error as Error).message);
  }
  const p = paths();
  if (!(existsSync(p.kafkaComplete) && existsSync(p.kafkaLibs)) && spawnSync('mvn', ['-v']).error) {
    missing.push(MAVEN_MISSING);
  }
  return missing;
}

function missingForRedis(): string[] {
  return spawnSync('redis-server', ['--version']).error ? [REDIS_MISSING] : [];
}

// ---------------------------------------------------------------------------------------------
// Kafka

function serverProperties(p: Paths): string {
  return [
    '# Generated by tributary services (rewritten on every start): single-node KRaft on loopback.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${KAFKA_CONTROLLER_PORT}`,
    `listeners=PLAINTEXT://${HOST}:${KAFKA_PORT},CONTROLLER://${HOST}:${KAFKA_CONTROLLER_PORT}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${KAFKA_PORT}`,
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

function log4jProperties(): string {
  return [
    '# Generated by tributary services: the broker logs to files only.',
    'log4j.rootLogger=INFO, server',
    'log4j.appender.server=org.apache.log4j.RollingFileAppender',
    'log4j.appender.server.File=${kafka.logs.dir}/server.log',
    'log4j.appender.server.MaxFileSize=10MB',
    'log4j.appender.server.MaxBackupIndex=2',
    'log4j.appender.server.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.server.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.kafka.network.RequestChannel$=WARN',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.kafka.log=WARN',
    'log4j.logger.kafka.cluster=WARN',
    'log4j.logger.org.apache.kafka.storage.internals.log=WARN',
    'log4j.logger.kafka.coordinator.transaction=WARN',
    'log4j.logger.kafka.coordinator.group.GroupMetadataManager=WARN',
    'log4j.logger.kafka.coordinator.group.GroupMetadata$=WARN',
    'log4j.logger.kafka.server.DelayedOperationPurgatory$ExpiredOperationReaper=WARN',
    'log4j.logger.kafka.server.ClientQuotaManager$ThrottledChannelReaper=WARN',
    'log4j.logger.kafka.server.NodeToControllerRequestThread=WARN',
    'log4j.logger.kafka.server.ReplicaFetcherManager=WARN',
    'log4j.logger.org.apache.kafka.controller.ReplicationControlManager=WARN',
    'log4j.logger.org.apache.kafka.controller.ClusterControlManager=WARN',
    'log4j.logger.org.apache.kafka.image.loader.MetadataLoader=WARN',
    'log4j.logger.org.apache.kafka.queue.KafkaEventQueue=WARN',
    'log4j.logger.org.apache.kafka.clients=WARN',
    'log4j.logger.org.apache.kafka.common.config=WARN',
    'log4j.logger.kafka.server.KafkaConfig=WARN',
    '',
  ].join('\n');
}

function kafkaJvmArgs(p: Paths): string[] {
  return [
    '-Xmx512m',
    '-Xms256m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${p.kafkaLogsDir}`,
    `-Dlog4j.configuration=${pathToFileURL(p.kafkaLog4j).href}`,
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

async function formatStorageIfNeeded(java: string, p: Paths, say: (m: string) => void): Promise<void> {
  if (existsSync(join(p.kafkaData, 'meta.properties'))) return;
  rmSync(p.kafkaData, { recursive: true, force: true });
  mkdirSync(p.kafkaData, { recursive: true });
  const clusterId = randomClusterId();
  say(`Formatting Kafka storage in ${p.kafkaData} (cluster id ${clusterId}) ...`);
  const result = await run(
    java,
    [
      ...kafkaJvmArgs(p).map((a) => (a === '-Xms256m' ? '-Xms64m' : a)),
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
        `Delete ${p.runDir} and retry. StorageTool said:\n${lastLines(result.output)}`,
    );
  }
}

async function waitForKafka(pid: number, exitInfo: () => string | null, p: Paths): Promise<void> {
  const deadline = Date.now() + KAFKA_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exited = exitInfo();
    if (exited !== null || !processAlive(pid, 'kafka.Kafka')) {
      throw new ServicesError(
        withTail(
          `Kafka exited while starting (${exited ?? 'process gone'}); see ${p.kafkaServerLog} and ${p.kafkaOut}.`,
          existsSync(p.kafkaOut) && statSync(p.kafkaOut).size > 0 ? p.kafkaOut : p.kafkaServerLog,
        ),
      );
    }
    if (await kafkaAnswers()) return;
    await sleep(500);
  }
  throw new ServicesError(
    withTail(
      `Kafka (pid ${pid}) did not answer on ${HOST}:${KAFKA_PORT} within ${seconds(KAFKA_START_TIMEOUT_MS)}; ` +
        `see ${p.kafkaServerLog}. It was left running: stop it with 'tributary services down'.`,
      p.kafkaServerLog,
    ),
  );
}

/** Brings Kafka up; resolves true when this call started it. */
async function kafkaUp(say: (m: string) => void): Promise<boolean> {
  const p = paths();
  const ours = managedPid(p.kafkaPid, 'kafka.Kafka');
  if (await kafkaAnswers()) {
    say(`Kafka already answers on ${HOST}:${KAFKA_PORT}${ours ? ` (pid ${ours})` : ''}; reusing it.`);
    return false;
  }
  if (ours !== null) {
    // Ours and alive but not answering yet: it may be starting (or stuck).
    say(`Kafka (pid ${ours}) is running but not answering yet; waiting ...`);
    await waitForKafka(ours, () => null, p);
    return false;
  }
  if (await portOpen(KAFKA_PORT)) {
    throw new ServicesError(
      `Port ${HOST}:${KAFKA_PORT} is taken by a process that does not answer as a Kafka broker. ` +
        `Stop it (see: ss -ltnp 'sport = :${KAFKA_PORT}') and run 'tributary services up' again.`,
    );
  }
  if (await portOpen(KAFKA_CONTROLLER_PORT)) {
    throw new ServicesError(
      `Port ${HOST}:${KAFKA_CONTROLLER_PORT} (the Kafka controller listener) is taken by another process. ` +
        `Stop it (see: ss -ltnp 'sport = :${KAFKA_CONTROLLER_PORT}') and run 'tributary services up' again.`,
    );
  }

  const java = checkJava();
  await ensureKafkaInstalled(say);
  mkdirSync(p.kafkaLogsDir, { recursive: true });
  writeFileSync(p.kafkaConfig, serverProperties(p));
  writeFileSync(p.kafkaLog4j, log4jProperties());
  await formatStorageIfNeeded(java, p, say);

  say(`Starting Apache Kafka ${KAFKA_VERSION} on ${HOST}:${KAFKA_PORT} (logs: ${p.kafkaServerLog}) ...`);
  const t0 = Date.now();
  const out = openSync(p.kafkaOut, 'w');
  let exitInfo: string | null = null;
  const child = spawn(java, [...kafkaJvmArgs(p), 'kafka.Kafka', p.kafkaConfig], {
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
    await waitForKafka(child.pid, () => exitInfo, p);
  } catch (error) {
    if (exitInfo !== null) rmSync(p.kafkaPid, { force: true });
    throw error;
  }
  say(`Kafka is up (pid ${child.pid}, started in ${seconds(Date.now() - t0)}).`);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Redis

/** Brings Redis up; resolves true when this call started it. */
async function redisUp(say: (m: string) => void): Promise<boolean> {
  const p = paths();
  if (await redisAnswers()) {
    say(`Redis already answers on ${HOST}:${REDIS_PORT}; reusing it.`);
    return false;
  }
  if (await portOpen(REDIS_PORT)) {
    throw new ServicesError(
      `Port ${HOST}:${REDIS_PORT} is taken by a process that does not answer as Redis. ` +
        `Stop it (see: ss -ltnp 'sport = :${REDIS_PORT}') and run 'tributary services up' again.`,
    );
  }
  if (missingForRedis().length > 0) throw new ServicesError(REDIS_MISSING);
  mkdirSync(p.redisRun, { recursive: true });
  rmSync(p.redisPid, { force: true });
  say(`Starting Redis on ${HOST}:${REDIS_PORT} (log: ${p.redisLog}) ...`);
  const t0 = Date.now();
  const started = spawnSync(
    'redis-server',
    [
      '--port', String(REDIS_PORT),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'yes',
      '--pidfile', p.redisPid,
      '--logfile', p.redisLog,
      '--dir', p.redisRun,
    ],
    { encoding: 'utf8', cwd: p.redisRun, timeout: 10_000 },
  );
  if (started.status !== 0) {
    throw new ServicesError(
      withTail(
        `redis-server failed to start (exit code ${started.status}): ${lastLines(`${started.stderr}${started.stdout}`, 5)}`,
        p.redisLog,
      ),
    );
  }
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await redisAnswers()) {
      say(`Redis is up (pid ${readPid(p.redisPid) ?? '?'}, started in ${seconds(Date.now() - t0)}).`);
      return true;
    }
    await sleep(100);
  }
  throw new ServicesError(
    withTail(`Redis did not answer on ${HOST}:${REDIS_PORT} within ${seconds(REDIS_START_TIMEOUT_MS)}; see ${p.redisLog}.`, p.redisLog),
  );
}

// ---------------------------------------------------------------------------------------------
// stopping

async function stopProcess(pid: number, marker: string, timeoutMs: number): Promise<void> {
  const waitGone = async (ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!processAlive(pid, marker)) return true;
      await sleep(100);
    }
    return !processAlive(pid, marker);
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitGone(timeoutMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await waitGone(5_000))) {
    throw new ServicesError(`Process ${pid} (${marker}) did not stop, even after SIGKILL.`);
  }
}

interface Stopped {
  kafka: number | null;
  redis: number | null;
}

async function stopManaged(options: ServicesDownOptions): Promise<Stopped> {
  const p = paths();
  const stopped: Stopped = { kafka: null, redis: null };
  if (options.kafka ?? true) {
    const pid = managedPid(p.kafkaPid, 'kafka.Kafka');
    if (pid !== null) {
      await stopProcess(pid, 'kafka.Kafka', KAFKA_STOP_TIMEOUT_MS);
      stopped.kafka = pid;
    }
    rmSync(p.kafkaPid, { force: true });
  }
  if (options.redis ?? true) {
    const pid = managedPid(p.redisPid, 'redis-server');
    if (pid !== null) {
      await stopProcess(pid, 'redis-server', REDIS_STOP_TIMEOUT_MS);
      stopped.redis = pid;
    }
    rmSync(p.redisPid, { force: true });
  }
  updateAutoStop((auto) => ({
    kafka: auto.kafka && !(options.kafka ?? true),
    redis: auto.redis && !(options.redis ?? true),
  }));
  return stopped;
}

// ---------------------------------------------------------------------------------------------
// a lock, so that two `up`s (or an `up` and a `down`) do not race

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const p = paths();
  mkdirSync(p.runDir, { recursive: true });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(p.lockFile, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readPid(p.lockFile);
      if (holder === null || holder === process.pid || !processAlive(holder)) {
        rmSync(p.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new ServicesError(`Another 'tributary services' command (pid ${holder}) holds ${p.lockFile}; wait for it or delete the file.`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    if (readPid(p.lockFile) === process.pid) rmSync(p.lockFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// public API

/**
 * Makes sure Kafka answers on 127.0.0.1:9092 and Redis on 127.0.0.1:6379, starting them if needed
 * (fetching Kafka first, once). Idempotent: services that already answer are reused.
 */
export async function servicesUp(options: ServicesUpOptions = {}): Promise<ServicesUpResult> {
  return withLock(() => upLocked(options));
}

async function upLocked(options: ServicesUpOptions): Promise<ServicesUpResult> {
  const say = options.quiet ? (): void => undefined : (m: string): void => void process.stderr.write(`${m}\n`);
  const wantKafka = options.kafka ?? true;
  const wantRedis = options.redis ?? true;
  const started = { kafka: false, redis: false };
  // Everything that is missing, in one message, before anything is started.
  const missing: string[] = [];
  if (wantKafka && !(await kafkaAnswers())) missing.push(...missingForKafka());
  if (wantRedis && !(await redisAnswers())) missing.push(...missingForRedis());
  if (missing.length === 1) throw new ServicesError(missing[0]);
  if (missing.length > 1) throw new ServicesError(`Missing prerequisites:\n  - ${missing.join('\n  - ')}`);
  try {
    if (wantRedis) started.redis = await redisUp(say);
    if (wantKafka) started.kafka = await kafkaUp(say);
  } catch (error) {
    // Leave things as they were: stop what this call started.
    if (started.redis) await stopManaged({ kafka: false, redis: true }).catch(() => undefined);
    throw error;
  }
  return { brokers: [...KAFKA_BROKERS], redisUrl: REDIS_URL, started };
}

/** Stops the services that `servicesUp` started (known from their pid files); leaves others alone. */
export async function servicesDown(options: ServicesDownOptions = {}): Promise<void> {
  await withLock(() => stopManaged(options));
}

// ---------------------------------------------------------------------------------------------
// leases: several test runs on one machine sharing the services

interface AutoStop {
  kafka: boolean;
  redis: boolean;
}

function autoStopFile(): string {
  return join(paths().runDir, 'autostop.json');
}

function leasesDir(): string {
  return join(paths().runDir, 'leases');
}

function updateAutoStop(change: (current: AutoStop) => AutoStop): AutoStop {
  let current: AutoStop = { kafka: false, redis: false };
  try {
    const parsed = JSON.parse(readFileSync(autoStopFile(), 'utf8')) as Partial<AutoStop>;
    current = { kafka: parsed.kafka === true, redis: parsed.redis === true };
  } catch {
    /* none */
  }
  const next = change(current);
  if (next.kafka || next.redis) writeFileSync(autoStopFile(), `${JSON.stringify(next)}\n`);
  else rmSync(autoStopFile(), { force: true });
  return next;
}

/** Live lease holders other than this process (dead ones are cleared). */
function otherLeaseHolders(): number[] {
  const dir = leasesDir();
  if (!existsSync(dir)) return [];
  const live: number[] = [];
  for (const entry of readdirSync(dir)) {
    const pid = Number.parseInt(entry, 10);
    if (pid === process.pid) continue;
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) live.push(pid);
    else rmSync(join(dir, entry), { force: true });
  }
  return live;
}

export interface ServicesLease extends ServicesUpResult {
  /**
   * Gives the lease back. When no other live process holds a lease, the services that lease
   * holders started are stopped, unless `keep` is true (or `tributary services up` was run since).
   */
  release(options?: { keep?: boolean }): Promise<void>;
}

/**
 * Like `servicesUp`, for a test run: records a lease for this process, and the services it starts
 * are stopped when the last lease holder releases (so that concurrent test runs on one machine
 * do not stop the services under each other's feet). Services started by `tributary services up`
 * are never stopped by a release.
 */
export async function acquireServices(options: ServicesUpOptions = {}): Promise<ServicesLease> {
  const result = await withLock(async () => {
    const up = await upLocked(options);
    mkdirSync(leasesDir(), { recursive: true });
    writeFileSync(join(leasesDir(), String(process.pid)), `${JSON.stringify(up.started)}\n`);
    updateAutoStop((auto) => ({ kafka: auto.kafka || up.started.kafka, redis: auto.redis || up.started.redis }));
    return up;
  });
  let released = false;
  return {
    ...result,
    release: async (releaseOptions = {}) => {
      if (released) return;
      released = true;
      await withLock(async () => {
        rmSync(join(leasesDir(), String(process.pid)), { force: true });
        if (releaseOptions.keep) {
          updateAutoStop(() => ({ kafka: false, redis: false }));
          return;
        }
        if (otherLeaseHolders().length > 0) return;
        const auto = updateAutoStop((a) => a);
        if (auto.kafka || auto.redis) await stopManaged(auto);
        updateAutoStop(() => ({ kafka: false, redis: false }));
      });
    },
  };
}

/** Whether Kafka and Redis answer, and whether `up` started them. */
export async function servicesStatus(): Promise<ServicesStatus> {
  const p = paths();
  const [kafkaRunning, redisRunning] = await Promise.all([kafkaAnswers(), redisAnswers()]);
  const kafkaPid = managedPid(p.kafkaPid, 'kafka.Kafka');
  const redisPid = managedPid(p.redisPid, 'redis-server');
  return {
    cacheDir: p.cacheDir,
    kafka: {
      running: kafkaRunning,
      managed: kafkaPid !== null,
      pid: kafkaPid,
      endpoint: KAFKA_BROKERS.join(','),
      logFile: p.kafkaServerLog,
      version: KAFKA_VERSION,
      installed: existsSync(p.kafkaComplete),
    },
    redis: {
      running: redisRunning,
      managed: redisPid !== null,
      pid: redisPid,
      endpoint: REDIS_URL,
      logFile: p.redisLog,
    },
  };
}

export const USAGE = `Usage: tributary services <up|down|status>

  up      start Apache Kafka ${KAFKA_VERSION} (KRaft, ${HOST}:${KAFKA_PORT}) and Redis (${HOST}:${REDIS_PORT})
          if they are not already running; fetches Kafka once with Maven into $TRIBUTARY_CACHE
          (default ~/.cache/tributary). Prints KAFKA_BROKERS=... and REDIS_URL=... on stdout.
  down    stop what 'up' started
  status  show what runs (exit code 0 when both answer, 1 otherwise)
  --quiet, -q                 no progress lines
`;

function describeState(name: string, s: ServiceState, extra = ''): string {
  const state = s.running ? 'running' : s.managed ? 'not answering' : 'stopped';
  const owner = s.managed ? `started by tributary, pid ${s.pid}` : s.running ? 'not started by tributary' : '';
  return `${name.padEnd(6)} ${state.padEnd(14)} ${s.endpoint.padEnd(24)} ${[extra, owner].filter(Boolean).join('; ')}`;
}

/** `tributary services up|down|status`; resolves to the process exit code. */
export async function servicesCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const quiet = rest.includes('--quiet') || rest.includes('-q');
  const unknown = rest.filter((arg) => arg !== '--quiet' && arg !== '-q');
  if (unknown.length > 0) {
    process.stderr.write(`Unknown option '${unknown[0]}' for services ${sub}.\n\n${USAGE}`);
    return 2;
  }
  try {
    switch (sub) {
      case 'up': {
        const result = await withLock(async () => {
          const up = await upLocked({ quiet });
          // Asked for by hand: what test runs started is now meant to stay up.
          updateAutoStop(() => ({ kafka: false, redis: false }));
          return up;
        });
        process.stdout.write(`KAFKA_BROKERS=${result.brokers.join(',')}\nREDIS_URL=${result.redisUrl}\n`);
        return 0;
      }
      case 'down': {
        const stopped = await withLock(() => stopManaged({}));
        if (!quiet) {
          process.stdout.write(
            `kafka: ${stopped.kafka !== null ? `stopped (pid ${stopped.kafka})` : 'nothing to stop'}\n` +
              `redis: ${stopped.redis !== null ? `stopped (pid ${stopped.redis})` : 'nothing to stop'}\n`,
          );
        }
        return 0;
      }
      case 'status': {
        const s = await servicesStatus();
        process.stdout.write(
          `${describeState('kafka', s.kafka, `Apache Kafka ${s.kafka.version}${s.kafka.installed ? '' : ' (not fetched yet)'}`)}\n` +
            `${describeState('redis', s.redis)}\n` +
            `cache  ${s.cacheDir}\n` +
            `logs   ${s.kafka.logFile}\n       ${s.redis.logFile}\n`,
        );
        return s.kafka.running && s.redis.running ? 0 : 1;
      }
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(sub === undefined ? USAGE : `Unknown services command '${sub}'.\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tributary services ${sub}: ${message}\n`);
    return 1;
  }
}

// `tsx src/cli/services.ts up|down|status` works on its own too.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  servicesCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
