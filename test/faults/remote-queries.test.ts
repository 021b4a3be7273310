/**
 * Remote interactive queries with two real `tributary run` processes on the real broker and Redis:
 * each answers `GET /stores/totals/<key>` for every key (its own from its tasks, the other's by
 * forwarding), and after one is killed the survivor answers every key once the group rebalanced.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeHelpers, createTopic, freePort, produce, resetRedis, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { startRunner, stopRunners, type Runner } from './runner.ts';

interface KeyAnswer {
  status: number;
  body: { value?: { count: number; sum: number }; host?: string; partition?: number; error?: string };
}

async function ask(port: number, path: string): Promise<KeyAnswer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: (await response.json()) as KeyAnswer['body'] };
}

const KEYS = Array.from({ length: 12 }, (_, i) => `key-${i}`);

describe('remote interactive queries', () => {
  const runners: Runner[] = [];
  afterAll(async () => {
    await stopRunners();
    await closeHelpers();
  });

  it('answers every key through either instance, and through the survivor after the other dies', async () => {
    const app = unique('iq-remote');
    const input = `${app}-in`;
    const output = `${app}-out`;
    await createTopic(input, 4);
    await createTopic(output, 4);
    await resetRedis(app);
    // key-i gets i + 1 records of n = 1 … i + 1: count i + 1, sum (i + 1)(i + 2) / 2.
    await produce(input, KEYS.flatMap((key, i) => Array.from({ length: i + 1 }, (_, n) => ({ key, value: JSON.stringify({ n: n + 1 }) }))));
    const ports = [await freePort(), await freePort()];
    for (const port of ports) {
      runners.push(startRunner(app, input, output, ['--redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', '--metrics-port', String(port), '--advertised-url', `http://127.0.0.1:${port}`]));
    }
    const expected = (i: number) => ({ count: i + 1, sum: ((i + 1) * (i + 2)) / 2 });
    const hosts = new Set<string>();
    for (const port of ports) {
      await waitUntil(
        `every key through instance ${port}`,
        async () => {
          const answers = await Promise.all(KEYS.map((key) => ask(port, `/stores/totals/${key}`).catch(() => undefined)));
          if (!answers.every((a, i) => a?.status === 200 && JSON.stringify(a.body.value) === JSON.stringify(expected(i)))) return false;
          for (const a of answers) hosts.add(a!.body.host!);
          return true;
        },
        90_000,
        500,
      );
    }
    // Both instances answered keys: some were forwarded to the other one.
    expect([...hosts].sort()).toEqual(ports.map((p) => `http://127.0.0.1:${p}`).sort());
    expect((await ask(ports[0]!, '/stores/totals/no-such-key')).status).toBe(404);
    const range = await fetch(`http://127.0.0.1:${ports[1]}/stores/totals`).then((r) => r.json() as Promise<{ entries: { key: string }[] }>);
    expect(range.entries.map((e) => e.key).sort()).toEqual([...KEYS].sort());

    runners[0]!.child.kill('SIGKILL');
    await runners[0]!.exited;
    await waitUntil(
      'every key from the survivor itself',
      async () => {
        const answers = await Promise.all(KEYS.map((key) => ask(ports[1]!, `/stores/totals/${key}`).catch(() => undefined)));
        return answers.every((a, i) => a?.status === 200 && a.body.host === `http://127.0.0.1:${ports[1]}` && JSON.stringify(a.body.value) === JSON.stringify(expected(i)));
      },
      90_000,
      500,
    );
  }, 180_000);
});
