import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Serdes } from '../../src/serdes/index.ts';
import { FencedError, type RestoreProgress } from '../../src/state/backend.ts';
import { InMemoryKeyValueStore } from '../../src/state/memory-kv.ts';
import { InMemorySessionStore } from '../../src/state/memory-session.ts';
import { InMemoryWindowStore } from '../../src/state/memory-window.ts';
import { RedisStateBackend, RedisUnavailableError } from '../../src/state/redis-backend.ts';
import type { StateStore, StoreSpec } from '../../src/state/store.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let redis: Redis;
const applications: string[] = [];
const backends: RedisStateBackend[] = [];

function newApplication(): string {
  const id = `test-redis-backend-${randomBytes(4).toString('hex')}`;
  applications.push(id);
  return id;
}

async function connected(applicationId: string): Promise<RedisStateBackend> {
  const backend = new RedisStateBackend(url, applicationId);
  await backend.connect();
  backends.push(backend);
  return backend;
}

/** One process's view of a task: a fresh backend connection over fresh stores, as after a restart. */
async function openTask(applicationId: string, stores: StateStore[], specs: StoreSpec[] = [], onProgress?: (p: RestoreProgress) => void) {
  const backend = await connected(applicationId);
  const task = backend.forTask('0_3', new Map(stores.map((s) => [s.name, s])), new Map(specs.map((s) => [s.name, s])));
  const restored = await task.open(onProgress);
  return { task, restored };
}

const key = (applicationId: string, suffix: string): string => `trib:{${applicationId}:0_3}:${suffix}`;

beforeAll(() => {
  redis = new Redis(url);
});

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
  for (const id of applications.splice(0)) await RedisStateBackend.reset(url, id);
});

afterAll(async () => {
  await redis.quit();
});

describe('RedisStateBackend: key-value stores', () => {
  it('puts and deletes reach Redis at commit and come back in a new process', async () => {
    const app = newApplication();
    const counts = new InMemoryKeyValueStore<string, number>('counts');
    const first = await openTask(app, [counts]);
    expect(first.restored).toEqual({ epoch: 1, offsets: new Map(), entries: 0, applied: new Map() });

    counts.put('a', 1);
    counts.put('b', 2);
    counts.put('c', 3);
    await first.task.commit(new Map([['words:3', 10]]));
    counts.delete('a');
    counts.put('b', 20);
    // The positions applied from a repartition topic commit in the same transaction as the state.
    await first.task.commit(new Map([['words:3', 12]]), new Map([['app-rep:3|0_1/words:1', '41/2']]));
    expect(await redis.hlen(key(app, 'kv:counts'))).toBe(2);

    const restarted = new InMemoryKeyValueStore<string, number>('counts');
    const second = await openTask(app, [restarted]);
    expect(second.restored).toEqual({ epoch: 2, offsets: new Map([['words:3', 12]]), entries: 2, applied: new Map([['app-rep:3|0_1/words:1', '41/2']]) });
    expect(restarted.all()).toEqual([{ key: 'b', value: 20 }, { key: 'c', value: 3 }]);
  });

  it('restored entries are not recorded as changes, later writes are', async () => {
    const app = newApplication();
    const store = new InMemoryKeyValueStore<string, number>('s');
    const first = await openTask(app, [store]);
    store.put('x', 1);
    await first.task.commit(new Map());

    const again = new InMemoryKeyValueStore<string, number>('s');
    await openTask(app, [again]);
    expect(again.changes.enabled).toBe(true);
    expect(again.changes.size).toBe(0);
    again.put('y', 2);
    expect(again.changes.take()).toEqual([{ id: 'y', key: 'y', value: 2 }]);
  });

  it('timestamped values keep their timestamp, with a value serde and without one', async () => {
    const app = newApplication();
    const counted = new InMemoryKeyValueStore<string, { value: number; timestamp: number }>('counted');
    const aggregated = new InMemoryKeyValueStore<string, { value: { sum: number; names: string[] }; timestamp: number }>('aggregated');
    const specs: StoreSpec[] = [
      { name: 'counted', type: 'key-value', timestamped: true, keySerde: Serdes.string(), valueSerde: Serdes.int64() as never },
      { name: 'aggregated', type: 'key-value', timestamped: true },
    ];
    const first = await openTask(app, [counted, aggregated], specs);
    counted.put('k', { value: 1000, timestamp: 1_700_000_000_123 });
    aggregated.put('k', { value: { sum: 7.5, names: ['a', 'b'] }, timestamp: 99 });
    await first.task.commit(new Map());

    const counted2 = new InMemoryKeyValueStore<string, { value: number; timestamp: number }>('counted');
    const aggregated2 = new InMemoryKeyValueStore<string, unknown>('aggregated');
    await openTask(app, [counted2, aggregated2], specs);
    expect(counted2.get('k')).toEqual({ value: 1000, timestamp: 1_700_000_000_123 });
    expect(aggregated2.get('k')).toEqual({ value: { sum: 7.5, names: ['a', 'b'] }, timestamp: 99 });
    // The string serde wrote the key; the int64 serde the count, not UTF-8 so in base64, after the timestamp.
    expect(await redis.hgetall(key(app, 'kv:counted'))).toEqual({ Sk: `T1700000000123:b${Buffer.from([0, 0, 0, 0, 0, 0, 0x03, 0xe8]).toString('base64')}` });
    expect(await redis.hgetall(key(app, 'kv:aggregated'))).toEqual({ sk: 'T99:J{"sum":7.5,"names":["a","b"]}' });
  });

  it('number, object and array keys come back as they went in, apart from equal-looking strings', async () => {
    const app = newApplication();
    const store = new InMemoryKeyValueStore<unknown, string>('keys');
    // The builder gives DSL stores the default string key serde even when keys are numbers.
    const specs: StoreSpec[] = [{ name: 'keys', type: 'key-value', keySerde: Serdes.string() as never, valueSerde: Serdes.string() as never }];
    const first = await openTask(app, [store], specs);
    store.put(1, 'number one');
    store.put('1', 'string one');
    store.put({ user: 7, region: 'eu' }, 'object');
    store.put([1, 'x'], 'array');
    store.put(Buffer.from([0, 255]), 'bytes');
    await first.task.commit(new Map());

    const restored = new InMemoryKeyValueStore<unknown, string>('keys');
    await openTask(app, [restored], specs);
    expect(restored.get(1)).toBe('number one');
    expect(restored.get('1')).toBe('string one');
    expect(restored.get({ user: 7, region: 'eu' })).toBe('object');
    expect(restored.get([1, 'x'])).toBe('array');
    const keys = restored.all().map((e) => e.key);
    expect(keys.filter((k) => typeof k === 'number')).toEqual([1]);
    expect(keys.filter((k) => typeof k === 'string')).toEqual(['1']);
    expect(keys.find((k) => Buffer.isBuffer(k))).toEqual(Buffer.from([0, 255]));
  });

  it('a value serde that cannot hold the values (string serde over objects) falls back to JSON', async () => {
    const app = newApplication();
    const store = new InMemoryKeyValueStore<string, unknown>('agg');
    const specs: StoreSpec[] = [{ name: 'agg', type: 'key-value', valueSerde: Serdes.string() as never }];
    const first = await openTask(app, [store], specs);
    store.put('text', 'plain');
    store.put('object', { total: 3, last: null });
    await first.task.commit(new Map());

    const restored = new InMemoryKeyValueStore<string, unknown>('agg');
    await openTask(app, [restored], specs);
    expect(restored.get('text')).toBe('plain');
    expect(restored.get('object')).toEqual({ total: 3, last: null });
  });

  it('custom stores and stores without a change log are left alone', async () => {
    const app = newApplication();
    const custom: StateStore = { name: 'custom', type: 'custom' };
    const kv = new InMemoryKeyValueStore<string, number>('kv');
    const { task } = await openTask(app, [custom, kv]);
    kv.put('a', 1);
    await task.commit(new Map());
    const keys = (await redis.keys(`trib:{${app}:*`)).sort();
    expect(keys).toEqual([key(app, 'epoch'), key(app, 'kv:kv')]);
  });
});

describe('RedisStateBackend: window stores', () => {
  const spec = (retentionMs: number, retainDuplicates = false): StoreSpec => ({ name: 'win', type: 'window', retentionMs, windowSizeMs: 10, retainDuplicates });
  const windowStore = (retentionMs: number, retainDuplicates = false) =>
    new InMemoryWindowStore<string, number>('win', { retentionMs, windowSizeMs: 10, retainDuplicates });

  it('windows and their deletes survive a restart, indexed by window start', async () => {
    const app = newApplication();
    const store = windowStore(1000);
    const first = await openTask(app, [store], [spec(1000)]);
    store.put('a', 1, 0);
    store.put('a', 2, 10);
    store.put('b', 3, 10);
    store.put('b', 4, 20);
    await first.task.commit(new Map());
    store.put('a', null, 10);
    store.put('b', 40, 20);
    await first.task.commit(new Map());

    expect(await redis.zrange(key(app, 'win:win:idx'), 0, -1, 'WITHSCORES').then((r) => r.filter((_, i) => i % 2 === 1))).toEqual(['0', '10', '20']);
    const restored = windowStore(1000);
    const { restored: state } = await openTask(app, [restored], [spec(1000)]);
    expect(state.entries).toBe(3);
    expect(restored.all().map((e) => [e.key.key, e.key.window.start, e.value])).toEqual([['a', 0, 1], ['b', 10, 3], ['b', 20, 40]]);
  });

  it('windows expired by retention are deleted from the hash and the index at the next commit', async () => {
    const app = newApplication();
    const store = windowStore(100);
    const first = await openTask(app, [store], [spec(100)]);
    store.put('a', 1, 0);
    store.put('b', 2, 50);
    await first.task.commit(new Map());
    expect(await redis.hlen(key(app, 'win:win'))).toBe(2);
    store.put('c', 3, 120); // stream time 120: windows starting before 21 expire
    await first.task.commit(new Map());
    expect(await redis.hlen(key(app, 'win:win'))).toBe(2);
    expect(await redis.zrangebyscore(key(app, 'win:win:idx'), '-inf', 20)).toEqual([]);
    expect(await redis.zcard(key(app, 'win:win:idx'))).toBe(2);
  });

  // Small hashes come back from HSCAN in insertion order, so both orders are exercised: newest
  // first, the restore refuses the expired windows; oldest first, it expires them as it goes.
  for (const order of ['newest first', 'oldest first'] as const) {
    it(`windows that expired while the application was down are skipped on restore and deleted at the next commit (${order})`, async () => {
      const app = newApplication();
      const longLived = windowStore(10_000);
      const first = await openTask(app, [longLived], [spec(10_000)]);
      const starts = Array.from({ length: 51 }, (_, i) => i * 10);
      for (const start of order === 'newest first' ? starts.reverse() : starts) longLived.put(`k${start}`, start, start);
      await first.task.commit(new Map());
      expect(await redis.hlen(key(app, 'win:win'))).toBe(51);

      // Restarted with a retention of 100: only windows starting after 400 are live.
      const shortLived = windowStore(100);
      const second = await openTask(app, [shortLived], [spec(100)]);
      expect(shortLived.all().map((e) => [e.key.key, e.key.window.start, e.value])).toEqual(
        [410, 420, 430, 440, 450, 460, 470, 480, 490, 500].map((start) => [`k${start}`, start, start]),
      );
      await second.task.commit(new Map());
      expect(await redis.hlen(key(app, 'win:win'))).toBe(10);
      expect(await redis.zcard(key(app, 'win:win:idx'))).toBe(10);
      expect(await redis.zrangebyscore(key(app, 'win:win:idx'), '-inf', 400)).toEqual([]);
    });
  }

  it('with retainDuplicates every value of a key and window survives, in order, and later puts add to them', async () => {
    const app = newApplication();
    const store = windowStore(1000, true);
    const first = await openTask(app, [store], [spec(1000, true)]);
    store.put('a', 1, 0);
    store.put('a', 2, 0);
    store.put('a', 3, 10);
    await first.task.commit(new Map());

    const second = windowStore(1000, true);
    const reopened = await openTask(app, [second], [spec(1000, true)]);
    expect(second.fetch('a', 0, 10)).toEqual([{ key: 0, value: 1 }, { key: 0, value: 2 }, { key: 10, value: 3 }]);
    second.put('a', 4, 0);
    await reopened.task.commit(new Map());
    expect(await redis.hlen(key(app, 'win:win'))).toBe(4);

    const third = windowStore(1000, true);
    await openTask(app, [third], [spec(1000, true)]);
    expect(third.fetch('a', 0, 10)).toEqual([{ key: 0, value: 1 }, { key: 0, value: 2 }, { key: 0, value: 4 }, { key: 10, value: 3 }]);
  });

  it('expiry of duplicates deletes every one of them', async () => {
    const app = newApplication();
    const store = windowStore(100, true);
    const first = await openTask(app, [store], [spec(100, true)]);
    store.put('a', 1, 0);
    store.put('a', 2, 0);
    store.put('a', 3, 50);
    await first.task.commit(new Map());
    store.put('b', 4, 150); // windows starting before 51 expire
    await first.task.commit(new Map());
    expect(await redis.hlen(key(app, 'win:win'))).toBe(1);
    expect(await redis.zrange(key(app, 'win:win:idx'), 0, -1, 'WITHSCORES').then((r) => r[1])).toBe('150');
  });
});

describe('RedisStateBackend: session stores', () => {
  const spec: StoreSpec = { name: 'sess', type: 'session', retentionMs: 100, timestamped: false };
  const sessionStore = () => new InMemorySessionStore<string, number>('sess', { retentionMs: 100 });

  it('sessions, merges and removals survive a restart, indexed by session end', async () => {
    const app = newApplication();
    const store = sessionStore();
    const first = await openTask(app, [store], [spec]);
    store.put({ key: 'u1', window: { start: 0, end: 5 } }, 1);
    store.put({ key: 'u1', window: { start: 20, end: 25 } }, 1);
    store.put({ key: 'u2', window: { start: 3, end: 3 } }, 1);
    await first.task.commit(new Map());
    // u1's sessions merge into one.
    store.remove({ key: 'u1', window: { start: 0, end: 5 } });
    store.remove({ key: 'u1', window: { start: 20, end: 25 } });
    store.put({ key: 'u1', window: { start: 0, end: 25 } }, 3);
    await first.task.commit(new Map());

    expect(await redis.zrange(key(app, 'sess:sess:idx'), 0, -1, 'WITHSCORES').then((r) => r.filter((_, i) => i % 2 === 1))).toEqual(['3', '25']);
    const restored = sessionStore();
    await openTask(app, [restored], [spec]);
    expect(restored.all()).toEqual([
      { key: { key: 'u1', window: { start: 0, end: 25 } }, value: 3 },
      { key: { key: 'u2', window: { start: 3, end: 3 } }, value: 1 },
    ]);
  });

  it('expired sessions are deleted from Redis', async () => {
    const app = newApplication();
    const store = sessionStore();
    const first = await openTask(app, [store], [spec]);
    store.put({ key: 'old', window: { start: 0, end: 10 } }, 1);
    await first.task.commit(new Map());
    store.put({ key: 'new', window: { start: 200, end: 210 } }, 2);
    await first.task.commit(new Map());
    expect(await redis.hlen(key(app, 'sess:sess'))).toBe(1);
    expect(await redis.zrange(key(app, 'sess:sess:idx'), 0, -1, 'WITHSCORES').then((r) => r[1])).toBe('210');
  });
});

describe('RedisStateBackend: checkpoints and fencing', () => {
  it('the checkpoint keeps the latest offset of every partition', async () => {
    const app = newApplication();
    const { task } = await openTask(app, []);
    await task.commit(new Map([['orders:3', 100], ['payments:3', 7]]));
    await task.commit(new Map([['orders:3', 150]]));
    expect(await redis.hgetall(key(app, 'checkpoint'))).toEqual({ 'orders:3': '150', 'payments:3': '7' });
    const { restored } = await openTask(app, []);
    expect(restored.offsets).toEqual(new Map([['orders:3', 150], ['payments:3', 7]]));
  });

  it('a commit by an owner that was fenced by a newer one rejects with FencedError and writes nothing', async () => {
    const app = newApplication();
    const zombieStore = new InMemoryKeyValueStore<string, number>('s');
    const zombie = await openTask(app, [zombieStore]);
    zombieStore.put('a', 1);
    await zombie.task.commit(new Map([['in:3', 1]]));

    const ownerStore = new InMemoryKeyValueStore<string, number>('s');
    const owner = await openTask(app, [ownerStore]);
    expect(owner.restored.epoch).toBe(2);

    zombieStore.put('a', 999);
    zombieStore.put('b', 2);
    const refused = await zombie.task.commit(new Map([['in:3', 50]])).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FencedError);
    expect(refused).toMatchObject({ taskId: '0_3', ownEpoch: 1, currentEpoch: 2 });
    expect(zombieStore.changes.size).toBe(0);
    expect(await redis.hgetall(key(app, 'kv:s'))).toEqual({ sa: 'J1' });
    expect(await redis.hget(key(app, 'checkpoint'), 'in:3')).toBe('1');

    await expect(zombie.task.commit(new Map())).rejects.toThrow(/task 0_3 was claimed by another owner \(epoch 2, ours 1\)/);

    ownerStore.put('a', 5);
    await owner.task.commit(new Map([['in:3', 2]]));
    const check = new InMemoryKeyValueStore<string, number>('s');
    await openTask(app, [check]);
    expect(check.all()).toEqual([{ key: 'a', value: 5 }]);
  });
});

describe('RedisStateBackend: large state', () => {
  it('commits 50 000 changes in one script, restores them in pages with progress, and deletes 20 000 in one commit', async () => {
    const app = newApplication();
    const store = new InMemoryKeyValueStore<string, { n: number }>('big');
    const window = new InMemoryWindowStore<number, number>('bigwin', { retentionMs: 1e9, windowSizeMs: 10 });
    const { task } = await openTask(app, [store, window]);
    for (let i = 0; i < 50_000; i++) store.put(`key-${i}`, { n: i });
    for (let i = 0; i < 10_000; i++) window.put(i, i * 2, (i % 100) * 10);
    await task.commit(new Map([['big:3', 50_000]]));
    expect(await redis.hlen(key(app, 'kv:big'))).toBe(50_000);
    expect(await redis.zcard(key(app, 'win:bigwin:idx'))).toBe(10_000);

    const progress: RestoreProgress[] = [];
    const restoredStore = new InMemoryKeyValueStore<string, { n: number }>('big');
    const restoredWindow = new InMemoryWindowStore<number, number>('bigwin', { retentionMs: 1e9, windowSizeMs: 10 });
    const { task: restoredTask, restored } = await openTask(app, [restoredStore, restoredWindow], [], (p) => progress.push(p));
    expect(restored.entries).toBe(60_000);
    expect(restored.offsets.get('big:3')).toBe(50_000);
    expect(restoredStore.get('key-31337')).toEqual({ n: 31337 });
    expect(restoredWindow.fetch(4321, 210)).toBe(8642);

    const big = progress.filter((p) => p.store === 'big');
    expect(big.length).toBeGreaterThan(10);
    expect(big.every((p, i) => p.taskId === '0_3' && p.total === 50_000 && (i === 0 || p.loaded >= big[i - 1]!.loaded))).toBe(true);
    expect(big.at(-1)).toEqual({ taskId: '0_3', store: 'big', loaded: 50_000, total: 50_000 });
    expect(progress.filter((p) => p.store === 'bigwin').at(-1)).toMatchObject({ loaded: 10_000, total: 10_000 });

    for (let i = 0; i < 20_000; i++) restoredStore.delete(`key-${i}`);
    await restoredTask.commit(new Map([['big:3', 70_000]]));
    expect(await redis.hlen(key(app, 'kv:big'))).toBe(30_000);
    expect(await redis.hexists(key(app, 'kv:big'), 'skey-19999')).toBe(0);
    expect(await redis.hget(key(app, 'kv:big'), 'skey-20000')).toBe('J{"n":20000}');
  });
});

describe('RedisStateBackend: connecting', () => {
  it('an unreachable server fails connect() quickly with a message naming the URL', async () => {
    const started = Date.now();
    const backend = new RedisStateBackend('redis://127.0.0.1:1', 'unreachable');
    const error = await backend.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toMatch(/^cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a password in the URL is not printed', async () => {
    const error = await new RedisStateBackend('redis://:hunter2@127.0.0.1:1', 'unreachable').connect().catch((e: unknown) => e);
    expect((error as Error).message).toContain('redis://:***@127.0.0.1:1');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('reset deletes every key of one application and no other', async () => {
    const app = newApplication();
    const other = newApplication();
    for (const id of [app, other]) {
      const store = new InMemoryKeyValueStore<string, number>('s');
      const { task } = await openTask(id, [store]);
      store.put('a', 1);
      await task.commit(new Map([['t:0', 1]]));
    }
    expect(await RedisStateBackend.reset(url, app)).toBe(3);
    expect(await redis.keys(`trib:{${app}:*`)).toEqual([]);
    expect((await redis.keys(`trib:{${other}:*`)).length).toBe(3);
  });
});
