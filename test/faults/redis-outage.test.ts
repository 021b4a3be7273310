/**
 * Redis SIGKILLed mid-run and restarted (issue 12): word count through a repartition topic with
 * lines still arriving, on a Redis server of this test's own (append-only, so it comes back with
 * its data). The runner keeps running through the outage, reports it, and once Redis is back the
 * state and every word's last count equal the truth. A second runner gets a short outage timeout
 * and a Redis that does not come back: it stops with a message that names Redis and its URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createTopic, freePort, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { readCommitted, startRunner, topicEnd } from './runner.ts';
import { cleanUpCrashRuns, differences, LineFeeder, outputsByWord, redisCounts, CI_WORKLOAD } from './word-count-crashes.ts';

const PARTITIONS = 4;
const dirs: string[] = [];
const servers = new Set<ChildProcess>();

afterAll(async () => {
  for (const server of servers) server.kill('SIGKILL');
  await cleanUpCrashRuns();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A redis-server of this test, append-only in `dir`; resolves once it answers PING. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
  servers.add(server);
  server.on('exit', () => servers.delete(server));
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await waitUntil(`redis-server on ${port}`, async () => {
      try {
        if (client.status !== 'ready') await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        client.disconnect();
        return false;
      }
    }, 20_000, 100);
  } finally {
    client.disconnect();
  }
  return server;
}

async function kill(server: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

/** A Redis of this test's own, topics, lines arriving, and a word-count runner on them with `args`. */
async function outageRun(name: string, args: string[]) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-redis-outage-'));
  dirs.push(dir);
  const url = `redis://127.0.0.1:${port}`;
  const redis = await startRedis(port, dir);
  const input = unique(`${name}-lines`);
  const output = unique(`${name}-counts`);
  const id = unique(name);
  await Promise.all([createTopic(input, PARTITIONS), createTopic(output, PARTITIONS)]);
  const feeder = new LineFeeder(input, CI_WORKLOAD);
  feeder.start();
  const runner = startRunner(id, input, output, ['--redis', url, '--create-topics', ...args], { fixture: 'word-count.ts', commitIntervalMs: 500 });
  return { port, dir, url, redis, output, id, feeder, runner };
}

describe('Redis killed and restarted mid-run', () => {
  it('the runner retries through the outage, says so, and ends with exact state and counts', async () => {
    const { port, dir, url, redis: first, output, id, feeder, runner } = await outageRun('ro', []);
    let redis = first;
    await waitUntil('the runner to write output', async () => (await topicEnd(output)) > 1_000, 90_000, 200);
    await kill(redis);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await waitUntil('the runner to report the outage', () => /Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable, retrying \(\d+\)/.test(runner.output()), 20_000, 200);
    redis = await startRedis(port, dir);
    await waitUntil('the runner to resume', () => /Redis at .* is back after/.test(runner.output()), 30_000, 200);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await feeder.stop();
    const truth = feeder.truth;
    let latest = new Map<string, number>();
    let stored = new Map<string, number>();
    await waitUntil(
      'every word at its true count in the output and in Redis',
      async () => {
        latest = new Map([...outputsByWord(await readCommitted(output))].map(([word, counts]) => [word, counts.at(-1)!]));
        stored = await redisCounts(id, PARTITIONS, url);
        return [...truth].every(([word, count]) => (latest.get(word) ?? 0) >= count && (stored.get(word) ?? 0) >= count);
      },
      120_000,
      1_000,
    );
    expect(runner.child.exitCode, runner.output()).toBe(null);
    runner.child.kill('SIGTERM');
    expect(await runner.exited).toBe(0);
    expect(differences(truth, stored)).toEqual([]);
    expect(differences(truth, latest)).toEqual([]);
  }, 300_000);

  it('gives up after the outage timeout with a message that names Redis and its URL', async () => {
    const { port, redis, output, feeder, runner } = await outageRun('ro2', ['--redis-outage-timeout', '3000']);
    try {
      await waitUntil('the runner to write output', async () => (await topicEnd(output)) > 500, 90_000, 200);
      await kill(redis);
      const code = await runner.exited;
      expect(code).toBe(1);
      expect(runner.output()).toMatch(new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: unreachable for \\d+ s \\(giving up after outageTimeoutMs = 3000 ms`));
      expect(runner.output()).not.toMatch(/Reached the max retries per request limit \(which is 2\)\.?\s*$/m);
    } finally {
      await feeder.stop();
    }
  }, 180_000);
});
