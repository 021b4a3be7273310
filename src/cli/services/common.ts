/**
 * What the local development services share: the cache folder's layout, the loopback addresses,
 * and small process, port and file helpers.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const HOST = '127.0.0.1';
/** Kafka's client port unless `--kafka-port` / `TRIBUTARY_KAFKA_PORT` says otherwise; the controller listens on the next port. */
export const DEFAULT_KAFKA_PORT = 9092;
export const REDIS_PORT = 6379;
export const REDIS_URL = `redis://${HOST}:${REDIS_PORT}`;

/** A problem the user can fix; the message says what to do. */
export class ServicesError extends Error {
  override readonly name = 'ServicesError';
}

/** Where the services keep what is shared by every Kafka version: the run folder, the lock, Redis. */
export interface CachePaths {
  cacheDir: string;
  runDir: string;
  lockFile: string;
  redisRun: string;
  redisLog: string;
  redisPid: string;
}

export function cachePaths(): CachePaths {
  const cacheDir = resolve(process.env.TRIBUTARY_CACHE || join(homedir(), '.cache', 'tributary'));
  const runDir = join(cacheDir, 'run');
  const redisRun = join(runDir, 'redis');
  return {
    cacheDir,
    runDir,
    lockFile: join(runDir, 'services.lock'),
    redisRun,
    redisLog: join(redisRun, 'redis.log'),
    redisPid: join(redisRun, 'redis.pid'),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function tail(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function withTail(message: string, file: string, lines = 15): string {
  const t = tail(file, lines);
  return t ? `${message}\nLast lines of ${file}:\n${t}` : message;
}

/** Resolves true when something accepts a TCP connection on host:port. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
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


/** Whether pid is a live (non-zombie) process whose command line contains `marker`. */
export function processAlive(pid: number, marker?: string): boolean {
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

export function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The pid recorded in `file` if that process is still alive and is the service; clears a stale file. */
export function managedPid(file: string, marker: string): number | null {
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

export interface RunResult {
  code: number | null;
  output: string;
  missing: boolean;
}

/** Runs a command to completion, collecting stdout+stderr; `missing` when the program is not found. */
export function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
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

export function lastLines(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function stopProcess(pid: number, marker: string, timeoutMs: number): Promise<void> {
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
