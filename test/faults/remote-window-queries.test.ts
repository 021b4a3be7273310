/**
 * Remote interactive queries of window, session and versioned stores with two real `tributary run`
 * processes on the real broker and Redis: `GET /stores/per-window/<key>?from&to` (a window fetch),
 * `GET /stores/sessions/<key>` (the key's sessions), `GET /stores/versions/<key>?asOf=` and
 * `?fromTime=&toTime=` (a versioned table's version as of a time, and its versions in a range) give
 * every key's answer through either instance, the other instance's keys by forwarding, and
 * through the survivor after the other is killed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeHelpers, createTopic, freePort, produce, resetRedis, unique, waitUntil, type TestMessage } from '../integration/kafka-helpers.ts';
import { startRunner, stopRunners } from './runner.ts';

interface WindowAnswer { status: number; body: { windows?: { start: number; value: number }[]; host?: string } }
interface SessionAnswer { status: number; body: { sessions?: { start: number; end: number; value: number }[]; host?: string } }
interface Version { value: string; timestamp: number; validTo?: number }
interface VersionAnswer { status: number; body: Partial<Version> & { versions?: Version[]; host?: string; error?: string } }

async function ask<T>(port: number, path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
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

// The versioned table's history is recent: the broker's time-based retention would delete records as old as BASE before a slow start reads them.
const NOW = Math.floor(Date.now() / 1_000) * 1_000;

/** The versioned table's changelog: key-i is `a` from NOW, `b` from NOW + 10 s, deleted at NOW + 20 s when i is odd, and `c` from NOW + 30 s; sent newest first, so most versions arrive out of order. */
function versionHistory(): TestMessage[] {
  const out: TestMessage[] = [];
  KEYS.forEach((key, i) => {
    out.push({ key, value: `${key}-c`, timestamp: NOW + 30_000 });
    if (i % 2 === 1) out.push({ key, value: null, timestamp: NOW + 20_000 });
    out.push({ key, value: `${key}-b`, timestamp: NOW + 10_000 }, { key, value: `${key}-a`, timestamp: NOW });
  });
  return out;
}

/** key-i's versions valid in [NOW + 5 s, NOW + 25 s], oldest first. */
function expectedVersions(i: number): Version[] {
  const key = KEYS[i]!;
  return [{ value: `${key}-a`, timestamp: NOW, validTo: NOW + 10_000 }, { value: `${key}-b`, timestamp: NOW + 10_000, validTo: NOW + (i % 2 === 1 ? 20_000 : 30_000) }];
}

function expectedSessions(i: number): { start: number; end: number; value: number }[] {
  const sessions = [{ start: BASE, end: BASE + i * 1_000, value: i + 1 }];
  if (i % 2 === 0) sessions.push({ start: BASE + 60_000, end: BASE + 60_000, value: 1 });
  return sessions;
}

describe('remote interactive queries of window, session and versioned stores', () => {
  afterAll(async () => {
    await stopRunners();
    await closeHelpers();
  });

  it('answers a window fetch, a session fetch and versioned as-of and range reads of every key through either instance', async () => {
    const app = unique('iq-windows');
    const [inputTopic, output, versioned] = [`${app}-in`, `${app}-out`, `${app}-versioned`];
    await Promise.all([createTopic(inputTopic, 4), createTopic(output, 4), createTopic(versioned, 4)]);
    await resetRedis(app);
    await produce(inputTopic, input());
    await produce(versioned, versionHistory());
    const ports = [await freePort(), await freePort()];
    const runners = ports.map((port) =>
      startRunner(app, inputTopic, output, ['--redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', '--metrics-port', String(port), '--advertised-url', `http://127.0.0.1:${port}`], { fixture: 'windowed-counts.ts', env: { WINDOWED_VERSIONED: versioned } }),
    );
    const windowHosts = new Set<string>();
    const sessionHosts = new Set<string>();
    const versionHosts = new Set<string>();
    /** True once every key's windows and sessions come back right through `port`; records who answered. */
    const allRight = async (port: number): Promise<boolean> => {
      const windows = await Promise.all(KEYS.map((key) => ask<WindowAnswer>(port, `/stores/per-window/${key}?from=${BASE}&to=${BASE + 100_000}`).catch(() => undefined)));
      const sessions = await Promise.all(KEYS.map((key) => ask<SessionAnswer>(port, `/stores/sessions/${key}`).catch(() => undefined)));
      const ranges = await Promise.all(KEYS.map((key) => ask<VersionAnswer>(port, `/stores/versions/${key}?fromTime=${NOW + 5_000}&toTime=${NOW + 25_000}&order=ascending`).catch(() => undefined)));
      const asOf = await Promise.all(KEYS.map((key) => ask<VersionAnswer>(port, `/stores/versions/${key}?asOf=${NOW + 25_000}`).catch(() => undefined)));
      const right =
        windows.every((a, i) => a?.status === 200 && JSON.stringify(a.body.windows) === JSON.stringify(expectedWindows(i))) &&
        sessions.every((a, i) => a?.status === 200 && JSON.stringify(a.body.sessions) === JSON.stringify(expectedSessions(i))) &&
        ranges.every((a, i) => a?.status === 200 && JSON.stringify(a.body.versions) === JSON.stringify(expectedVersions(i))) &&
        // As of NOW + 25 s an odd key is deleted (404), an even key has `b`, valid until `c`.
        asOf.every((a, i) => (i % 2 === 1 ? a?.status === 404 : a?.status === 200 && a.body.value === `${KEYS[i]}-b` && a.body.timestamp === NOW + 10_000 && a.body.validTo === NOW + 30_000));
      if (!right) return false;
      windowHosts.clear();
      sessionHosts.clear();
      versionHosts.clear();
      for (const a of windows) windowHosts.add(a!.body.host!);
      for (const a of sessions) sessionHosts.add(a!.body.host!);
      for (const a of ranges) versionHosts.add(a!.body.host!);
      return true;
    };
    const hostsSeen = new Set<string>();
    for (const port of ports) {
      // Once both instances hold tasks, each answers its own keys and forwards the others' keys to the other instance
      // (the assignor may give one instance every task of a sub-topology, so a store's keys may all live on one host).
      await waitUntil(`every key's windows and sessions through instance ${port}, from both hosts`, async () => (await allRight(port)) && new Set([...windowHosts, ...sessionHosts, ...versionHosts]).size === 2, 90_000, 500);
      for (const host of [...windowHosts, ...sessionHosts, ...versionHosts]) hostsSeen.add(host);
    }
    expect([...hostsSeen].sort()).toEqual(ports.map((p) => `http://127.0.0.1:${p}`).sort());
    // A window range outside the data is an empty answer, not an error; a window store needs the range.
    expect((await ask<WindowAnswer>(ports[0]!, `/stores/per-window/key-3?from=0&to=1000`)).body.windows).toEqual([]);
    expect((await ask<WindowAnswer>(ports[1]!, '/stores/per-window/key-3')).status).toBe(400);
    // A versioned store's latest version without parameters; a bad timestamp is a 400 saying what to give.
    expect((await ask<VersionAnswer>(ports[0]!, '/stores/versions/key-4')).body).toMatchObject({ value: 'key-4-c', timestamp: NOW + 30_000 });
    const bad = await ask<VersionAnswer>(ports[1]!, '/stores/versions/key-4?asOf=yesterday');
    expect([bad.status, bad.body.error]).toEqual([400, "store 'versions': ?asOf= must be a timestamp in epoch milliseconds, got 'yesterday'"]);

    // The survivor of a SIGKILL takes the other's tasks, restores their window and session stores
    // from Redis, and answers every key itself.
    runners[0]!.child.kill('SIGKILL');
    await runners[0]!.exited;
    await waitUntil('every key from the survivor itself', async () => (await allRight(ports[1]!)) && windowHosts.size === 1 && sessionHosts.size === 1 && versionHosts.size === 1, 90_000, 500);
    expect([...windowHosts]).toEqual([`http://127.0.0.1:${ports[1]}`]);
    expect([...versionHosts]).toEqual([`http://127.0.0.1:${ports[1]}`]);
  }, 180_000);
});
