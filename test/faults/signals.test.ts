/**
 * Signals to `tributary run` at awkward moments: a SIGTERM while the runner is still joining the
 * group (the join waits for the session of a member that was SIGKILLed to expire) must stop it,
 * with exit code 0, instead of leaving it running after the join.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeHelpers, createTopic, produce, redisUrl, resetRedis, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { startRunner, stopRunners, topicEnd } from './runner.ts';

const appIds: string[] = [];

afterAll(async () => {
  await stopRunners();
  await Promise.allSettled(appIds.map((id) => resetRedis(id)));
  await closeHelpers();
});

describe('signals to the runner', () => {
  it('a SIGTERM while joining stops the runner, and it exits 0', async () => {
    const input = unique('sig-in');
    const output = unique('sig-out');
    const id = unique('sig');
    appIds.push(id);
    await Promise.all([createTopic(input, 2), createTopic(output, 2)]);
    await produce(input, Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: JSON.stringify({ n: 1 }) })));
    const first = startRunner(id, input, output, ['--redis', redisUrl]);
    await waitUntil('the first runner to write output', async () => (await topicEnd(output)) > 0, 90_000, 200);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    // The group still has the dead member until its session (6 s here) expires: this one waits in the join.
    const second = startRunner(id, input, output, ['--redis', redisUrl]);
    await waitUntil('the second runner to start joining', () => /tributary: running /.test(second.output()), 60_000, 50);
    second.child.kill('SIGTERM');
    const code = await Promise.race([second.exited, new Promise<'still running'>((resolve) => setTimeout(resolve, 45_000, 'still running'))]);
    expect(code, second.output()).toBe(0);
    expect(second.output()).toMatch(/SIGTERM: draining/);
  }, 150_000);
});
