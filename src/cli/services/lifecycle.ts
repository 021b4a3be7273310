/**
 * Bringing the services up and down: one lock so that concurrent commands do not race, pid files so
 * that `down` stops only what `up` started, and leases so that concurrent test runs share them.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KAFKA_BROKERS,
  KAFKA_VERSION,
  REDIS_URL,
  ServicesError,
  managedPid,
  paths,
  processAlive,
  readPid,
  sleep,
  stopProcess,
} from './common.ts';
import { KAFKA_STOP_TIMEOUT_MS, kafkaAnswers, kafkaUp, missingForKafka } from './kafka.ts';
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


interface Stopped {
  kafka: number | null;
  redis: number | null;
}

export async function stopManaged(options: ServicesDownOptions): Promise<Stopped> {
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

export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
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

export async function upLocked(options: ServicesUpOptions): Promise<ServicesUpResult> {
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

export function updateAutoStop(change: (current: AutoStop) => AutoStop): AutoStop {
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
