/**
 * Faults with real `tributary run` processes on the real broker and Redis:
 * - a runner is killed with SIGKILL mid-stream and restarted: the final aggregates are exact
 *   (no record lost, none counted twice in state);
 * - two and three runners share the partitions of one group; one leaves mid-stream and the
 *   others take over its tasks from Redis, with exact totals.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeHelpers, createTopic, latestByKey, produce, redisUrl, resetRedis, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { startRunner as start, stopRunners, topicEnd as outputSize, type Runner } from './runner.ts';

const appIds: string[] = [];

afterAll(async () => {
  await stopRunners();
  await Promise.allSettled(appIds.map((id) => resetRedis(id)));
  await closeHelpers();
});

/** Progress is measured in output records, so every update is written: the record cache is off. */
function startRunner(applicationId: string, input: string, output: string): Runner {
  return start(applicationId, input, output, ['--redis', redisUrl, '--cache-max-entries', '0']);
}

interface Totals {
  count: number;
  sum: number;
}

/** Produces `count` records over `keys` keys; returns the expected totals per key. */
async function produceBatch(topic: string, from: number, count: number, keys: number, expected: Map<string, Totals>): Promise<void> {
  const messages = [];
  for (let i = from; i < from + count; i++) {
    const key = `k${i % keys}`;
    const n = (i % 7) + 1;
    messages.push({ key, value: JSON.stringify({ n }) });
    const t = expected.get(key) ?? { count: 0, sum: 0 };
    expected.set(key, { count: t.count + 1, sum: t.sum + n });
  }
  await produce(topic, messages);
}

/** Waits until the output's last value of every key equals the expected totals; a double count would overshoot and never match. */
async function expectExactTotals(output: string, expected: Map<string, Totals>, runners: Runner[]): Promise<void> {
  let latest = new Map<string, string | null>();
  try {
    await waitUntil(
      'exact totals for every key',
      async () => {
        latest = await latestByKey(output);
        return [...expected].every(([key, totals]) => latest.get(key) === JSON.stringify(totals));
      },
      90_000,
      1_000,
    );
  } catch (error) {
    const wrong = [...expected].filter(([key, totals]) => latest.get(key) !== JSON.stringify(totals)).slice(0, 5);
    throw new Error(
      `${(error as Error).message}; e.g. ${wrong.map(([k, t]) => `${k}: expected ${JSON.stringify(t)}, got ${latest.get(k)}`).join('; ')}\n` +
        runners.map((r) => r.output()).join('\n---\n'),
    );
  }
  for (const [key, totals] of expected) expect(latest.get(key)).toBe(JSON.stringify(totals));
}

describe('runner faults', () => {
  it('SIGKILL mid-stream, restart: the final aggregates are exact', async () => {
    const input = unique('faults-in');
    const output = unique('faults-out');
    const id = unique('crash');
    appIds.push(id);
    await createTopic(input, 4);
    await createTopic(output, 4);
    const expected = new Map<string, Totals>();
    await produceBatch(input, 0, 40_000, 200, expected);
    const first = startRunner(id, input, output);
    await waitUntil('the first runner to commit some output', async () => (await outputSize(output)) > 2_000, 90_000, 100);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    const before = await outputSize(output);
    expect(before).toBeLessThan(40_000);
    await produceBatch(input, 40_000, 5_000, 200, expected);
    const second = startRunner(id, input, output);
    await expectExactTotals(output, expected, [first, second]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(/SIGTERM: draining, committing/);
  });

  it('three runners share a group, one leaves mid-stream, the others take over from Redis with exact totals', async () => {
    const input = unique('group-in');
    const output = unique('group-out');
    const id = unique('group');
    appIds.push(id);
    await createTopic(input, 6);
    await createTopic(output, 6);
    const expected = new Map<string, Totals>();
    const runners = [startRunner(id, input, output), startRunner(id, input, output), startRunner(id, input, output)];
    await produceBatch(input, 0, 6_000, 120, expected);
    await waitUntil('the runners to produce output', async () => (await outputSize(output)) > 500, 90_000, 200);
    // The six tasks of the aggregation are spread over the three members.
    const lastTasks = (r: Runner): string[] => [...r.output().matchAll(/^tasks: (.*)$/gm)].at(-1)?.[1]?.split(', ').filter((t) => /^\d+_\d+$/.test(t)) ?? [];
    await waitUntil('every runner to run tasks', () => runners.every((r) => lastTasks(r).length > 0) && new Set(runners.flatMap(lastTasks)).size === 6, 60_000);
    // One runner leaves gracefully (commits, leaves the group): the others take over its tasks.
    runners[0]!.child.kill('SIGTERM');
    expect(await runners[0]!.exited).toBe(0);
    await produceBatch(input, 6_000, 6_000, 120, expected);
    await expectExactTotals(output, expected, runners);
    // Then one of the two left is killed: the last one takes over everything from the checkpoints.
    runners[1]!.child.kill('SIGKILL');
    await runners[1]!.exited;
    await produceBatch(input, 12_000, 3_000, 120, expected);
    await expectExactTotals(output, expected, runners);
    runners[2]!.child.kill('SIGTERM');
    expect(await runners[2]!.exited).toBe(0);
  });
});
