/**
 * `tributary run topologies/word-count.ts --brokers ... --redis ...` as a user runs it: the real
 * CLI process on the real broker and Redis counts the words of the `text-lines` topic exactly,
 * serves its metrics, and stops cleanly on SIGINT.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { brokers, closeHelpers, createTopic, produce, readAll, redisUrl, resetRedis, unique, waitUntil } from './kafka-helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const applicationId = unique('cli-word-count');

afterAll(async () => {
  await resetRedis(applicationId);
  await closeHelpers();
});

it('counts words end to end through tributary run, with metrics, and stops on SIGINT', async () => {
  // word-count.ts reads text-lines and writes word-counts; earlier runs may have left lines there,
  // so the expected counts are computed from everything the topic holds.
  await createTopic('text-lines', 4).catch(() => undefined);
  await createTopic('word-counts', 4).catch(() => undefined);
  const marker = unique('marker').replace('-', '');
  await produce('text-lines', Array.from({ length: 300 }, (_, i) => ({ key: `l${i}`, value: `hello kafka ${marker} streams ${i % 3 === 0 ? 'again' : ''}` })));
  const expected = new Map<string, number>();
  for (const line of await readAll('text-lines')) {
    for (const word of (line.value ?? '').toLowerCase().split(/\W+/).filter((w) => w.length > 0)) expected.set(word, (expected.get(word) ?? 0) + 1);
  }
  const port = 19_464 + Math.floor(Math.random() * 500);
  const child = spawn(process.execPath, ['bin/tributary.js', 'run', 'topologies/word-count.ts', '--brokers', brokers.join(','), '--redis', redisUrl, '--application-id', applicationId, '--metrics-port', String(port), '--commit-interval', '200'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await waitUntil('the marker word counted', async () => {
      const counts = new Map((await readAll('word-counts')).map((m) => [m.key, m.valueBytes]));
      return [...expected].every(([word, n]) => counts.get(word)?.readBigInt64BE(0) === BigInt(n));
    }, 90_000, 1_000);
    // Counters reach Prometheus once a second: wait for the first sync after the counting.
    let metrics = '';
    await waitUntil('the processed counter in /metrics', async () => {
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /tributary_records_processed_total\{[^}]*task="1_\d"/.test(metrics);
    }, 10_000, 200);
    expect(metrics).toMatch(/tributary_records_processed_total\{[^}]*task="1_\d"[^}]*\} \d+/);
    expect(metrics).toMatch(/tributary_state\{[^}]*state="RUNNING"[^}]*\} 1/);
    expect(metrics).toContain(`application_id="${applicationId}"`);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  expect(output).toMatch(new RegExp(`running ${applicationId} .* on Kafka at .* with state in Redis`));
  expect(output).toMatch(/tasks: 0_0, 0_1, 0_2, 0_3, 1_0, 1_1, 1_2, 1_3/);
  expect(output).toMatch(/SIGINT: draining, committing and leaving the group/);
  expect(output).toMatch(/stopped after [\d,]+ ms: [\d,]+ input records processed/);
  expect(expected.get(marker)).toBe(300);
}, 120_000);
