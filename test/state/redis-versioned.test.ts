import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Serdes } from '../../src/serdes/index.ts';
import { InMemoryVersionedKeyValueStore } from '../../src/state/memory-versioned.ts';
import { RedisStateBackend } from '../../src/state/redis-backend.ts';
import type { StoreSpec } from '../../src/state/store.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let redis: Redis;
const applications: string[] = [];
const backends: RedisStateBackend[] = [];

const spec: StoreSpec = { name: 'prices', type: 'key-value', versioned: { historyRetentionMs: 100, segmentIntervalMs: 10 }, keySerde: Serdes.string() as never, valueSerde: Serdes.int32() as never };

/** A fresh backend connection over a fresh store, as a restarted process has. */
async function openTask(applicationId: string) {
  const store = new InMemoryVersionedKeyValueStore<string, number>('prices', spec.versioned!);
  const backend = new RedisStateBackend(url, applicationId);
  await backend.connect();
  backends.push(backend);
  const task = backend.forTask('0_1', new Map([[store.name, store]]), new Map([[spec.name, spec]]));
  const restored = await task.open();
  return { store, task, restored };
}

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

describe('RedisStateBackend: versioned stores', () => {
  it('versions and deletions reach the hash :ver:<store> at commit and come back, with the stream time, in a new process', async () => {
    const app = `test-redis-versioned-${randomBytes(4).toString('hex')}`;
    applications.push(app);
    const first = await openTask(app);
    first.store.put('apple', 10, 0);
    first.store.put('apple', 12, 40);
    first.store.put('apple', 11, 20);
    first.store.put('pear', 5, 30);
    first.store.put('pear', null, 60);
    await first.task.commit(new Map([['prices:0', 5]]));

    const hash = await redis.hgetall(`trib:{${app}:0_1}:ver:prices`);
    expect(Object.keys(hash).sort()).toEqual(['0|Sapple', '20|Sapple', '30|Spear', '40|Sapple', '60|Spear']);
    expect(hash['60|Spear']).toBe('D');

    const second = await openTask(app);
    expect(second.restored.offsets).toEqual(new Map([['prices:0', 5]]));
    expect(second.restored.entries).toBe(5);
    expect(second.store.observedStreamTime).toBe(60);
    expect(second.store.get('apple', 25)).toEqual({ value: 11, timestamp: 20, validTo: 40 });
    expect(second.store.get('pear', 45)).toEqual({ value: 5, timestamp: 30, validTo: 60 });
    expect(second.store.get('pear')).toBeUndefined();
    // The restored stream time refuses what the first process would have refused.
    expect(second.store.put('apple', 1, -41)).toBe(Number.MIN_SAFE_INTEGER);
  });

  it('versions swept out of the history leave Redis at the next commit', async () => {
    const app = `test-redis-versioned-${randomBytes(4).toString('hex')}`;
    applications.push(app);
    const first = await openTask(app);
    first.store.put('apple', 10, 0);
    first.store.put('apple', 12, 40);
    await first.task.commit(new Map());
    first.store.put('other', 1, 500);
    await first.task.commit(new Map());
    const hash = await redis.hgetall(`trib:{${app}:0_1}:ver:prices`);
    expect(Object.keys(hash).sort()).toEqual(['40|Sapple', '500|Sother']);
  });
});
