/** The local Redis server: the machine's `redis-server` on loopback, persisting nothing. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { HOST, REDIS_PORT, ServicesError, lastLines, cachePaths, portOpen, readPid, seconds, sleep, withTail } from './common.ts';

const REDIS_START_TIMEOUT_MS = 15_000;
export const REDIS_STOP_TIMEOUT_MS = 10_000;

/** Resolves true when a Redis server answers PING (any RESP reply, e.g. -NOAUTH, counts). */
export function redisAnswers(timeoutMs = 1000): Promise<boolean> {
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


const REDIS_MISSING =
  `redis-server was not found. Install it (Debian, as root: apt-get install -y redis-server) ` +
  `and run 'tributary services up' again.`;

export function missingForRedis(): string[] {
  return spawnSync('redis-server', ['--version']).error ? [REDIS_MISSING] : [];
}

// ---------------------------------------------------------------------------------------------
// Redis

/** Brings Redis up; resolves true when this call started it. */
export async function redisUp(say: (m: string) => void): Promise<boolean> {
  const p = cachePaths();
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

