/**
 * Bringing the services up and down: one lock so that concurrent commands do not race, pid files so
 * that `down` stops only what `up` started, and leases so that concurrent test runs share them.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REDIS_URL, ServicesError, cachePaths, managedPid, processAlive, readPid, sleep, stopProcess } from './common.ts';
import {
  KAFKA_STOP_TIMEOUT_MS,
  instanceId,
  kafkaAnswers,
  kafkaBrokers,
  kafkaInstalled,
  kafkaInstances,
  kafkaPaths,
  kafkaTarget,
  kafkaUp,
  missingForKafka,
  type KafkaTarget,
} from './kafka.ts';
import { REDIS_STOP_TIMEOUT_MS, missingForRedis, redisAnswers, redisUp } from './redis.ts';

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
  /** The Apache Kafka release to run (3.9.x or 4.x); default TRIBUTARY_KAFKA_VERSION, else DEFAULT_KAFKA_VERSION. */
  kafkaVersion?: string;
  /** Kafka's client port (the controller takes the next one); default TRIBUTARY_KAFKA_PORT, else 9092. */
  kafkaPort?: number;
}

export interface ServicesUpResult extends ServiceEndpoints {
  /** What this call started (false: it was already running, or was not asked for). */
  started: { kafka: boolean; redis: boolean };
  /** The version of the broker in `brokers`; null when it was not asked for, or runs without tributary. */
  kafkaVersion: string | null;
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
  /** The broker on the asked-for port; `version` is what runs there, or what `up` would start (null: a broker tributary did not start). */
  kafka: ServiceState & { version: string | null; installed: boolean };
  /** Every broker that `up` started and that still runs, on any port. */
  kafkaInstances: { version: string; port: number; pid: number; logFile: string }[];
  redis: ServiceState;
}

/** What to stop: `'all'` Kafka instances tributary started, or those with these ids. */
export interface StopWhat {
  kafka: 'all' | string[];
  redis: boolean;
}

export interface Stopped {
  kafka: { version: string; port: number; pid: number }[];
  redis: number | null;
}

export async function stopManaged(what: StopWhat): Promise<Stopped> {
  const stopped: Stopped = { kafka: [], redis: null };
  for (const instance of kafkaInstances()) {
    if (what.kafka !== 'all' && !what.kafka.includes(instanceId(instance))) continue;
    await stopProcess(instance.pid, instance.paths.kafkaConfig, KAFKA_STOP_TIMEOUT_MS);
    rmSync(instance.paths.kafkaPid, { force: true });
    stopped.kafka.push({ version: instance.version, port: instance.port, pid: instance.pid });
  }
  if (what.redis) {
    const p = cachePaths();
    const pid = managedPid(p.redisPid, 'redis-server');
    if (pid !== null) {
      await stopProcess(pid, 'redis-server', REDIS_STOP_TIMEOUT_MS);
      stopped.redis = pid;
    }
    rmSync(p.redisPid, { force: true });
  }
  const stoppedIds = stopped.kafka.map(instanceId);
  updateAutoStop((auto) => ({
    kafka: what.kafka === 'all' ? [] : auto.kafka.filter((id) => !stoppedIds.includes(id) && !what.kafka.includes(id)),
    redis: auto.redis && !what.redis,
  }));
  return stopped;
}

// ---------------------------------------------------------------------------------------------
// a lock, so that two `up`s (or an `up` and a `down`) do not race

export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const p = cachePaths();
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
 * Makes sure Kafka answers on 127.0.0.1:9092 (or the asked-for port) and Redis on 127.0.0.1:6379,
 * starting them if needed (fetching the Kafka version first, once). Idempotent: services that
 * already answer are reused.
 */
export async function servicesUp(options: ServicesUpOptions = {}): Promise<ServicesUpResult> {
  return withLock(() => upLocked(options));
}

export async function upLocked(options: ServicesUpOptions): Promise<ServicesUpResult> {
  const say = options.quiet ? (): void => undefined : (m: string): void => void process.stderr.write(`${m}\n`);
  const wantKafka = options.kafka ?? true;
  const wantRedis = options.redis ?? true;
  const target = kafkaTarget(options);
  const started = { kafka: false, redis: false };
  let kafkaVersion: string | null = null;
  // Everything that is missing, in one message, before anything is started.
  const missing: string[] = [];
  if (wantKafka && !(await kafkaAnswers(target.port))) missing.push(...missingForKafka(target));
  if (wantRedis && !(await redisAnswers())) missing.push(...missingForRedis());
  if (missing.length === 1) throw new ServicesError(missing[0]);
  if (missing.length > 1) throw new ServicesError(`Missing prerequisites:\n  - ${missing.join('\n  - ')}`);
  try {
    if (wantRedis) started.redis = await redisUp(say);
    if (wantKafka) ({ started: started.kafka, version: kafkaVersion } = await kafkaUp(target, say));
  } catch (error) {
    // Leave things as they were: stop what this call started.
    if (started.redis) await stopManaged({ kafka: [], redis: true }).catch(() => undefined);
    throw error;
  }
  return { brokers: kafkaBrokers(target), redisUrl: REDIS_URL, started, kafkaVersion };
}

/** The lease bookkeeping id of what `upLocked` started on this target. */
function startedIds(target: KafkaTarget, up: ServicesUpResult): string[] {
  return up.started.kafka ? [instanceId({ version: target.release.version, port: target.port })] : [];
}

/** Stops the services that `servicesUp` started (known from their pid files); leaves others alone. */
export async function servicesDown(options: ServicesDownOptions = {}): Promise<void> {
  await withLock(() => stopManaged({ kafka: (options.kafka ?? true) ? 'all' : [], redis: options.redis ?? true }));
}

// ---------------------------------------------------------------------------------------------
// leases: several test runs on one machine sharing the services

/** What test runs started and the last lease holder stops: Kafka instances by id, and Redis. */
interface AutoStop {
  kafka: string[];
  redis: boolean;
}

function autoStopFile(): string {
  return join(cachePaths().runDir, 'autostop.json');
}

function leasesDir(): string {
  return join(cachePaths().runDir, 'leases');
}

export function updateAutoStop(change: (current: AutoStop) => AutoStop): AutoStop {
  let current: AutoStop = { kafka: [], redis: false };
  try {
    const parsed = JSON.parse(readFileSync(autoStopFile(), 'utf8')) as { kafka?: unknown; redis?: unknown };
    const kafka = Array.isArray(parsed.kafka) ? parsed.kafka.filter((id): id is string => typeof id === 'string') : [];
    current = { kafka, redis: parsed.redis === true };
  } catch {
    /* none */
  }
  const next = change(current);
  if (next.kafka.length > 0 || next.redis) writeFileSync(autoStopFile(), `${JSON.stringify(next)}\n`);
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
    const kafka = startedIds(kafkaTarget(options), up);
    mkdirSync(leasesDir(), { recursive: true });
    writeFileSync(join(leasesDir(), String(process.pid)), `${JSON.stringify(up.started)}\n`);
    updateAutoStop((auto) => ({ kafka: [...new Set([...auto.kafka, ...kafka])], redis: auto.redis || up.started.redis }));
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
          updateAutoStop(() => ({ kafka: [], redis: false }));
          return;
        }
        if (otherLeaseHolders().length > 0) return;
        const auto = updateAutoStop((a) => a);
        if (auto.kafka.length > 0 || auto.redis) await stopManaged(auto);
        updateAutoStop(() => ({ kafka: [], redis: false }));
      });
    },
  };
}

/** Whether Kafka (on the asked-for port) and Redis answer, and whether `up` started them. */
export async function servicesStatus(options: Pick<ServicesUpOptions, 'kafkaVersion' | 'kafkaPort'> = {}): Promise<ServicesStatus> {
  const p = cachePaths();
  const target = kafkaTarget(options);
  const [kafkaRunning, redisRunning] = await Promise.all([kafkaAnswers(target.port), redisAnswers()]);
  const instances = kafkaInstances();
  const onPort = instances.find((i) => i.port === target.port);
  const redisPid = managedPid(p.redisPid, 'redis-server');
  return {
    cacheDir: p.cacheDir,
    kafka: {
      running: kafkaRunning,
      managed: onPort !== undefined,
      pid: onPort?.pid ?? null,
      endpoint: kafkaBrokers(target).join(','),
      logFile: (onPort?.paths ?? kafkaPaths(target)).kafkaServerLog,
      version: onPort?.version ?? (kafkaRunning ? null : target.release.version),
      installed: onPort !== undefined || kafkaInstalled(target),
    },
    kafkaInstances: instances.map((i) => ({ version: i.version, port: i.port, pid: i.pid, logFile: i.paths.kafkaServerLog })),
    redis: {
      running: redisRunning,
      managed: redisPid !== null,
      pid: redisPid,
      endpoint: REDIS_URL,
      logFile: p.redisLog,
    },
  };
}
