/**
 * Exactly-once with real `tributary run --guarantee exactly-once` processes on the real broker and
 * Redis: whether the runner is killed with SIGKILL mid-stream or stopped gracefully, a
 * read_committed reader of the output sees exactly one output per input record, and every key's
 * counts are exactly 1, 2, ..., n (no repeat, no gap).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { KafkaStreams, Serdes, StreamsBuilder, type Topology } from 'tributary';
import { KafkaTransport } from '../../src/transport/kafka-transport.ts';
import { ProducerFencedError } from '../../src/transport/transport.ts';
import { brokers, closeHelpers, createTopic, produce, redisUrl, resetRedis, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { faultAdmin as getAdmin, readCommitted, startRunner as start, stopRunners, topicEnd as written, type Runner } from './runner.ts';

const appIds: string[] = [];

afterAll(async () => {
  await stopRunners();
  await Promise.allSettled(appIds.map((id) => resetRedis(id)));
  await closeHelpers();
});

/** The checks count every update (1..n per key), so the record cache, which merges them, is off. */
function startRunner(applicationId: string, input: string, output: string, redis = true): Runner {
  return start(applicationId, input, output, ['--guarantee', 'exactly-once', '--cache-max-entries', '0', ...(redis ? ['--redis', redisUrl] : [])]);
}

/** Resolves once the runner has joined the group and runs tasks. */
function running(runner: Runner): Promise<void> {
  return waitUntil('the runner to run tasks', () => /^tasks: /m.test(runner.output()), 60_000, 50);
}

/** Stops a runner gracefully (it drains, commits its transactions and leaves the group). */
async function stop(runner: Runner): Promise<void> {
  await running(runner);
  runner.child.kill('SIGTERM');
  expect(await runner.exited).toBe(0);
  expect(runner.output()).toMatch(/SIGTERM: draining, committing/);
}

interface Output {
  key: string;
  count: number;
  sum: number;
}

/** Produces `count` records over `keys` keys; returns, per key, the sums after each record. */
async function produceBatch(topic: string, from: number, count: number, keys: number, expected: Map<string, number[]>): Promise<void> {
  const messages = [];
  for (let i = from; i < from + count; i++) {
    const key = `k${i % keys}`;
    const n = (i % 7) + 1;
    messages.push({ key, value: JSON.stringify({ n }) });
    const sums = expected.get(key) ?? [];
    sums.push((sums.at(-1) ?? 0) + n);
    expected.set(key, sums);
  }
  await produce(topic, messages);
}

/** Produces in chunks with pauses, so that a runner is killed while input still arrives. */
async function produceSlowly(topic: string, from: number, count: number, keys: number, expected: Map<string, number[]>): Promise<void> {
  for (let i = from; i < from + count; i += 500) {
    await produceBatch(topic, i, Math.min(500, from + count - i), keys, expected);
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** Waits for one committed output per input record, then checks every key's sequence: counts 1..n with their running sums. */
async function expectExactlyOnce(output: string, expected: Map<string, number[]>, runners: Runner[]): Promise<number> {
  const total = [...expected.values()].reduce((n, sums) => n + sums.length, 0);
  let outputs: Output[] = [];
  try {
    await waitUntil(
      `${total} committed outputs`,
      async () => {
        outputs = (await readCommitted(output)).map(({ key, value }) => ({ key, ...(JSON.parse(value.toString()) as { count: number; sum: number }) }));
        return outputs.length >= total;
      },
      120_000,
      1_000,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} (got ${outputs.length})\n${runners.map((r) => r.output()).join('\n---\n')}`);
  }
  expect(outputs.length).toBe(total);
  const byKey = new Map<string, Output[]>();
  for (const o of outputs) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  expect(byKey.size).toBe(expected.size);
  for (const [key, sums] of expected) {
    const seen = byKey.get(key) ?? [];
    expect(seen.map((o) => o.count), key).toEqual(sums.map((_, i) => i + 1));
    expect(seen.map((o) => o.sum), key).toEqual(sums);
  }
  return outputs.length;
}

describe('transactional producers', () => {
  it('a newer producer with the same transactional id fences the older one', async () => {
    const topic = unique('eos-fence');
    await createTopic(topic, 2);
    const transport = new KafkaTransport({ brokers, clientId: 'eos-fence' });
    await transport.connect();
    const record = (value: string) => ({ topic, key: Buffer.from('k'), value: Buffer.from(value), timestamp: Date.now(), headers: {} });
    try {
      const id = unique('eos-fence-id');
      const older = await transport.transactionalProducer(id);
      const ends = await older.commit([record('1'), { ...record('2'), partition: 1 }, { ...record('3'), partition: 1 }], [], unique('group'));
      // A fresh topic: each partition's end is the number of records this transaction wrote to it.
      expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(3);
      expect(ends.get(`${topic}:1`)).toBeGreaterThanOrEqual(2);
      const newer = await transport.transactionalProducer(id);
      await expect(older.commit([record('lost')], [], unique('group'))).rejects.toBeInstanceOf(ProducerFencedError);
      await newer.commit([record('4')], [], unique('group'));
      // The commit returns once the transaction is prepared; its markers follow a moment later.
      let values: string[] = [];
      await waitUntil('the newer transaction to be visible', async () => {
        values = (await readCommitted(topic)).map((r) => r.value.toString()).sort();
        return values.length >= 4;
      }, 30_000, 200);
      expect(values).toEqual(['1', '2', '3', '4']);
      await Promise.allSettled([older.close(), newer.close()]);
    } finally {
      await transport.close();
    }
  });
});

describe('exactly-once runner', () => {
  it('SIGKILL mid-stream, restart: exactly one output per input, every key counts 1..n', async () => {
    const input = unique('eos-in');
    const output = unique('eos-out');
    const id = unique('eos-crash');
    appIds.push(id);
    await createTopic(input, 4);
    await createTopic(output, 4);
    const expected = new Map<string, number[]>();
    await produceBatch(input, 0, 2_000, 100, expected);
    const first = startRunner(id, input, output);
    await running(first);
    const producing = produceSlowly(input, 2_000, 18_000, 100, expected);
    await waitUntil('the first runner to commit some output', async () => (await written(output)) > 5_000, 90_000, 50);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    await producing;
    expect(await written(output)).toBeLessThan(20_000);
    const second = startRunner(id, input, output);
    expect(await expectExactlyOnce(output, expected, [first, second])).toBe(20_000);
    await stop(second);
  });

  it('graceful restart: exactly one output per input, every key counts 1..n', async () => {
    const input = unique('eos-in');
    const output = unique('eos-out');
    const id = unique('eos-restart');
    appIds.push(id);
    await createTopic(input, 4);
    await createTopic(output, 4);
    const expected = new Map<string, number[]>();
    await produceBatch(input, 0, 10_000, 100, expected);
    const first = startRunner(id, input, output);
    await waitUntil('the first runner to commit some output', async () => (await written(output)) > 2_000, 90_000, 100);
    await stop(first);
    await produceBatch(input, 10_000, 10_000, 100, expected);
    const second = startRunner(id, input, output);
    expect(await expectExactlyOnce(output, expected, [first, second])).toBe(20_000);
    await stop(second);
  });

  it('tasks move between runners (one joins, one is killed) and outputs stay exactly once', async () => {
    const input = unique('eos-in');
    const output = unique('eos-out');
    const id = unique('eos-group');
    appIds.push(id);
    await createTopic(input, 4);
    await createTopic(output, 4);
    const expected = new Map<string, number[]>();
    await produceBatch(input, 0, 1_000, 100, expected);
    const first = startRunner(id, input, output);
    await running(first);
    const producing = produceSlowly(input, 1_000, 19_000, 100, expected);
    await waitUntil('some output', async () => (await written(output)) > 3_000, 90_000, 50);
    // A second member joins: the first commits the tasks it hands over, the second restores them.
    const second = startRunner(id, input, output);
    await running(second);
    await waitUntil('more output', async () => (await written(output)) > 9_000, 90_000, 50);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    await producing;
    expect(await expectExactlyOnce(output, expected, [first, second])).toBe(20_000);
    await stop(second);
  });

  it('without Redis, the changelogs alone restore the state after a SIGKILL', async () => {
    const input = unique('eos-in');
    const output = unique('eos-out');
    const id = unique('eos-noredis');
    await createTopic(input, 4);
    await createTopic(output, 4);
    const expected = new Map<string, number[]>();
    await produceBatch(input, 0, 1_000, 50, expected);
    const first = startRunner(id, input, output, false);
    await running(first);
    const producing = produceSlowly(input, 1_000, 9_000, 50, expected);
    await waitUntil('the first runner to commit some output', async () => (await written(output)) > 3_000, 90_000, 50);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    await producing;
    expect(await written(output)).toBeLessThan(10_000);
    const second = startRunner(id, input, output, false);
    expect(await expectExactlyOnce(output, expected, [first, second])).toBe(10_000);
    await stop(second);
  });

  it('a word count through a repartition topic restores from the changelog when Redis is behind it', async () => {
    const input = unique('eos-lines');
    const output = unique('eos-words');
    const id = unique('eos-wc');
    appIds.push(id);
    await createTopic(input, 2);
    await createTopic(output, 2);
    const words = ['kafka', 'streams', 'redis', 'exactly', 'once', 'fox'];
    const lines = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `${words[(from + i) % 6]} ${words[(from + i * 5) % 6]} ${words[(from + i) % 4]}`);
    const all: string[] = [];
    const run = async (batch: string[], check: (app: KafkaStreams) => boolean): Promise<KafkaStreams> => {
      all.push(...batch);
      await produce(input, batch.map((line, i) => ({ key: `l${all.length + i}`, value: line })));
      const app = eosApp(wordCount(input, output), id);
      await app.start();
      await waitUntil('the words counted', () => check(app), 60_000, 50);
      await app.close();
      return app;
    };
    const counts = (): Map<string, number> => {
      const expected = new Map<string, number>();
      for (const line of all) for (const word of line.split(' ')) expected.set(word, (expected.get(word) ?? 0) + 1);
      return expected;
    };
    const exact = (app: KafkaStreams): boolean => [...counts()].every(([w, n]) => app.store<string, number>('counts').get(w) === n);
    await run(lines(0, 1_500), exact);
    // Redis as it was after the first run, while the second run goes on writing the changelog.
    const snapshot = await dumpRedis(id);
    await run(lines(1_500, 1_500), exact);
    await restoreRedis(id, snapshot);
    await run(lines(3_000, 500), exact);
    // The counts survived a Redis that was a whole run behind: the third run replayed the changelog.
    const committed = await readCommitted(output);
    const seen = new Map<string, number[]>();
    for (const { key, value } of committed) seen.set(key, [...(seen.get(key) ?? []), Number(Serdes.int64().deserialize(value, output))]);
    for (const [word, n] of counts()) expect(seen.get(word), word).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const configs = await (await getAdmin()).describeConfigs({ resources: [{ type: 2, name: `${id}-counts-changelog`, configNames: ['cleanup.policy'] }], includeSynonyms: false });
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('compact');
  });
});

function eosApp(topology: Topology, applicationId: string): KafkaStreams {
  return new KafkaStreams(topology, {
    applicationId,
    brokers,
    redis: redisUrl,
    processingGuarantee: 'exactly-once',
    commitIntervalMs: 100,
    cacheMaxEntries: 0,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    watchdog: false,
    log: () => undefined,
  });
}

function wordCount(input: string, output: string): Topology {
  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.split(' '))
    .groupBy((_k, word) => word, { valueSerde: Serdes.string() })
    .count({ storeName: 'counts' })
    .toStream()
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  return b.build();
}

/** Every Redis key of an application, dumped. */
async function dumpRedis(applicationId: string): Promise<Map<string, Buffer>> {
  const redis = new Redis(redisUrl);
  try {
    const dump = new Map<string, Buffer>();
    const keys = await redis.keys(`trib:{${applicationId}:*`);
    for (const key of keys) dump.set(key, (await redis.dumpBuffer(key))!);
    return dump;
  } finally {
    redis.disconnect();
  }
}

/** Puts an application's Redis keys back as they were dumped (and deletes the ones created since). */
async function restoreRedis(applicationId: string, dump: Map<string, Buffer>): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const keys = await redis.keys(`trib:{${applicationId}:*`);
    if (keys.length > 0) await redis.del(...keys);
    for (const [key, value] of dump) await redis.restore(key, 0, value);
  } finally {
    redis.disconnect();
  }
}
