/**
 * Remote interactive queries of window and session stores with two real `tributary run` processes
 * on the real broker and Redis: `GET /stores/per-window/<key>?from&to` (a window fetch) and
 * `GET /stores/sessions/<key>` (the key's sessions) give every key's windows and sessions through
 * either instance, the other instance's keys by forwarding, and through the survivor after the
 * other is killed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeHelpers, createTopic, freePort, produce, resetRedis, unique, waitUntil, type TestMessage } from '../integration/kafka-helpers.ts';
import { startRunner, stopRunners } from './runner.ts';

interface WindowAnswer { status: number; body: { windows?: { start: number; value: number }[]; host?: string } }
interface SessionAnswer { status: number; body: { sessions?: { start: number; end: number; value: number }[]; host?: string } }

async function ask<T>(port: number, path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.json() } as T;
}

const BASE = 1_000_000; // a multiple of the 10 s window
const KEYS = Array.from({ length: 12 }, (_, i) => `key-${i}`);

/**
 * key-i gets a record every second from BASE, i + 1 of them, in time order across keys; the even
 * keys one more a minute later (a second window and a second session).
 */
function input(): TestMessage[] {
  const out: TestMessage[] = [];
  for (let n = 0; n < KEYS.length; n++) KEYS.forEach((key, i) => (i >= n ? out.push({ key, value: 'x', timestamp: BASE + n * 1_000 }) : undefined));
  KEYS.forEach((key, i) => (i % 2 === 0 ? out.push({ key, value: 'x', timestamp: BASE + 60_000 }) : undefined));
  return out;
}

function expectedWindows(i: number): { start: number; value: number }[] {
  const windows = [{ start: BASE, value: Math.min(i + 1, 10) }];
  if (i >= 10) windows.push({ start: BASE + 10_000, value: i - 9 });
  if (i % 2 === 0) windows.push({ start: BASE + 60_000, value: 1 });
  return windows;
}

function expectedSessions(i: number): { start: number; end: number; value: number }[] {
  const sessions = [{ start: BASE, end: BASE + i * 1_000, value: i + 1 }];
  if (i % 2 === 0) sessions.push({ start: BASE + 60_000, end: BASE + 60_000, value: 1 });
  return sessions;
}

describe('remote interactive queries of window and session stores', () => {
  afterAll(async () => {
    await stopRunners();
    await closeHelpers();
  });

  it('answers a window fetch and a session fetch of every key through either instance', async () => {
    const app = unique('iq-windows');
    const [inputTopic, output] = [`${app}-in`, `${app}-out`];
    await Promise.all([createTopic(inputTopic, 4), createTopic(output, 4)]);
    await resetRedis(app);
    await produce(inputTopic, input());
    const ports = [await freePort(), await freePort()];
    const runners = ports.map((port) =>
      startRunner(app, inputTopic, output, ['--redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', '--metrics-port', String(port), '--advertised-url', `http://127.0.0.1:${port}`], { fixture: 'windowed-counts.ts' }),
    );
    const windowHosts = new Set<string>();
    const sessionHosts = new Set<string>();
    /** True once every key's windows and sessions come back right through `port`; records who answered. */
    const allRight = async (port: number): Promise<boolean> => {
      const windows = await Promise.all(KEYS.map((key) => ask<WindowAnswer>(port, `/stores/per-window/${key}?from=${BASE}&to=${BASE + 100_000}`).catch(() => undefined)));
      const sessions = await Promise.all(KEYS.map((key) => ask<SessionAnswer>(port, `/stores/sessions/${key}`).catch(() => undefined)));
      const right =
        windows.every((a, i) => a?.status === 200 && JSON.stringify(a.body.windows) === JSON.stringify(expectedWindows(i))) &&
        sessions.every((a, i) => a?.status === 200 && JSON.stringify(a.body.sessions) === JSON.stringify(expectedSessions(i)));
      if (!right) return false;
      windowHosts.clear();
      sessionHosts.clear();
      for (const a of windows) windowHosts.add(a!.body.host!);
      for (const a of sessions) sessionHosts.add(a!.body.host!);
      return true;
    };
    const hostsSeen = new Set<string>();
    for (const port of ports) {
      // Once both instances hold tasks, each answers its own keys and forwards the others' keys to the other instance.
      await waitUntil(`every key's windows and sessions through instance ${port}, from both hosts`, async () => (await allRight(port)) && windowHosts.size === 2 && sessionHosts.size === 2, 90_000, 500);
      for (const host of [...windowHosts, ...sessionHosts]) hostsSeen.add(host);
    }
    expect([...hostsSeen].sort()).toEqual(ports.map((p) => `http://127.0.0.1:${p}`).sort());
    // A window range outside the data is an empty answer, not an error; a window store needs the range.
    expect((await ask<WindowAnswer>(ports[0]!, `/stores/per-window/key-3?from=0&to=1000`)).body.windows).toEqual([]);
    expect((await ask<WindowAnswer>(ports[1]!, '/stores/per-window/key-3')).status).toBe(400);

    // The survivor of a SIGKILL takes the other's tasks, restores their window and session stores
    // from Redis, and answers every key itself.
    runners[0]!.child.kill('SIGKILL');
    await runners[0]!.exited;
    await waitUntil('every key from the survivor itself', async () => (await allRight(ports[1]!)) && windowHosts.size === 1 && sessionHosts.size === 1, 90_000, 500);
    expect([...windowHosts]).toEqual([`http://127.0.0.1:${ports[1]}`]);
  }, 180_000);
});
