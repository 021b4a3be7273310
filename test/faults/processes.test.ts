/**
 * `tributary run --processes 2`: two runner processes in one consumer group share the tasks of a
 * word count through a repartition topic; the counts are exact, and SIGTERM stops both.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { brokers, closeHelpers, createTopic, produce, readAll, redisUrl, resetRedis, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { parseRunArgs } from '../../src/cli/run.ts';
import { childEnvironment, withoutProcessesFlag } from '../../src/cli/processes.ts';
import { UsageError, main } from '../../src/cli/cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const appIds: string[] = [];

afterAll(async () => {
  await Promise.allSettled(appIds.map((id) => resetRedis(id)));
  await closeHelpers();
});

describe('tributary run --processes', () => {
  it('checks its value and needs Kafka', () => {
    expect(() => parseRunArgs(['t.ts', '--processes', '2'], {})).toThrow(/--processes needs --brokers/);
    expect(() => parseRunArgs(['t.ts', '--processes', '0', '--brokers', 'b:1'], {})).toThrow(/--processes must be at least 1/);
    expect(parseRunArgs(['t.ts', '--brokers', 'b:1'], { TRIBUTARY_PROCESSES: '3' }).processes).toBe(3);
    expect(withoutProcessesFlag(['t.ts', '--processes', '2', '--quiet', '--processes=4'])).toEqual(['t.ts', '--quiet']);
    // each process is numbered and heartbeats every 500 ms unless told otherwise
    expect(childEnvironment(1, { PATH: '/bin' })).toEqual({ PATH: '/bin', TRIBUTARY_PROCESS_INDEX: '1', TRIBUTARY_HEARTBEAT_MS: '500' });
    expect(childEnvironment(0, { TRIBUTARY_HEARTBEAT_MS: '2000' }).TRIBUTARY_HEARTBEAT_MS).toBe('2000');
  });

  it('refuses in-memory task state, which would not move with a task between the processes', async () => {
    // the check runs before any process starts: the broker address is never dialled
    const refused = main(['run', 'test/fixtures/topologies/word-count.ts', '--brokers', '127.0.0.1:1', '--processes', '2']);
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(/--processes 2 needs --redis for a topology with state stores \(.+\): without Redis a task's state lives in one process's memory/);
  });

  it('two processes share the tasks of one group, count exactly, and stop on SIGTERM', async () => {
    const input = unique('pr-lines');
    const output = unique('pr-counts');
    const id = unique('pr');
    appIds.push(id);
    await Promise.all([createTopic(input, 4), createTopic(output, 4)]);
    const truth = new Map<string, number>();
    const lines = Array.from({ length: 2_000 }, (_, i) => {
      const words = [`w${i % 37}`, `w${(i * 7) % 53}`, `w${(i * 13) % 11}`];
      for (const word of words) truth.set(word, (truth.get(word) ?? 0) + 1);
      return { key: `l${i}`, value: words.join(' ') };
    });
    await produce(input, lines);
    const child = spawn(process.execPath, ['bin/tributary.js', 'run', 'test/fixtures/topologies/word-count.ts', '--brokers', brokers.join(','), '--redis', redisUrl, '--application-id', id, '--processes', '2', '--quiet'], {
      cwd: root,
      env: { ...process.env, WORDS_INPUT: input, WORDS_OUTPUT: output, TRIBUTARY_SESSION_TIMEOUT_MS: '6000', TRIBUTARY_HEARTBEAT_MS: '500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // Both processes end up with tasks of their own (8 tasks: 2 sub-topologies × 4 partitions).
      const tasksOf = (i: number): string[] => (text.match(new RegExp(`^\\[${i}\\] tasks: (.*)$`, 'gm'))?.at(-1) ?? '').replace(/^\[\d\] tasks: /, '').split(', ').filter((t) => /^\d_\d$/.test(t));
      await waitUntil('both processes to run tasks', () => tasksOf(0).length > 0 && tasksOf(1).length > 0 && tasksOf(0).length + tasksOf(1).length === 8, 90_000, 200);
      const latest = new Map<string, number>();
      await waitUntil('every word at its count', async () => {
        for (const { key, valueBytes } of await readAll(output)) if (key !== null && valueBytes !== null) latest.set(key, Number(valueBytes.readBigInt64BE()));
        return [...truth].every(([word, count]) => latest.get(word) === count);
      }, 90_000, 500);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${text}`);
    }
    child.kill('SIGTERM');
    expect(await exited, text).toBe(0);
    expect(text).toMatch(/SIGTERM: stopping 2 processes/);
    expect(text).toMatch(/^\[0\] stopped after/m);
    expect(text).toMatch(/^\[1\] stopped after/m);
  }, 180_000);
});
