/**
 * The KafkaStreams client row of Kafka Streams on the real broker and Redis: the uncaught
 * exception handler's three responses, pause()/resume(), cleanUp(), and streamsMetadata() /
 * queryMetadataForKey() across two instances of one application.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { KafkaStreams, Serdes, StreamsBuilder, type StreamsUncaughtExceptionResponse, type Topology } from 'tributary';
import { brokers, createTopic, produce, readAll, redisUrl, testApps, unique, waitUntil } from './kafka-helpers.ts';

const testing = testApps();
const app = (topology: Topology, applicationId: string, extra: Partial<ConstructorParameters<typeof KafkaStreams>[1]> = {}): KafkaStreams =>
  testing.app(topology, applicationId, { errorHandling: 'fail', ...(process.env.CLIENT_TEST_LOG ? { log: (m: string) => console.log(m) } : {}), ...extra });

afterAll(testing.closeAll);

/** Upper-cases values; `shouldThrow(value)` makes a value fail. */
function upper(input: string, output: string, shouldThrow: (value: string) => boolean): Topology {
  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .mapValues((value) => {
      if (shouldThrow(value)) throw new Error(`poison value ${value}`);
      return value.toUpperCase();
    })
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() });
  return b.build();
}

function counts(input: string, output: string): Topology {
  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).groupByKey().count({ storeName: 'counts' }).toStream().to(output, { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  return b.build();
}

async function topics(partitions: number): Promise<[string, string]> {
  const input = unique('client-in');
  const output = unique('client-out');
  await createTopic(input, partitions);
  await createTopic(output, partitions);
  return [input, output];
}

describe('KafkaStreams client', () => {
  it('REPLACE_THREAD reopens the tasks from their checkpoint and goes on', async () => {
    const [input, output] = await topics(1);
    let failures = 0;
    const streams = app(upper(input, output, (v) => v === 'boom' && failures++ === 0), unique('client-replace'));
    const seen: Error[] = [];
    streams.setUncaughtExceptionHandler((error): StreamsUncaughtExceptionResponse => {
      seen.push(error);
      return 'REPLACE_THREAD';
    });
    await streams.start();
    await produce(input, ['a', 'boom', 'c'].map((value) => ({ key: 'k', value })));
    await waitUntil('all three outputs', async () => new Set((await readAll(output)).map((m) => m.value)).size === 3, 60_000);
    expect(new Set((await readAll(output)).map((m) => m.value))).toEqual(new Set(['A', 'BOOM', 'C']));
    expect(seen.map((e) => e.message).join()).toMatch(/poison value boom/);
    expect(streams.replacedTasks).toBe(1);
    expect(streams.state).toBe('RUNNING');
  }, 90_000);

  it('SHUTDOWN_CLIENT (and no handler) moves this instance to ERROR', async () => {
    const [input, output] = await topics(1);
    const streams = app(upper(input, output, (v) => v === 'boom'), unique('client-shutdown'));
    streams.setUncaughtExceptionHandler(() => 'SHUTDOWN_CLIENT');
    await streams.start();
    await produce(input, [{ key: 'k', value: 'boom' }]);
    await expect(streams.whenStopped()).rejects.toThrow(/poison value boom/);
    expect(streams.state).toBe('ERROR');
  }, 90_000);

  it('SHUTDOWN_APPLICATION stops every instance of the application', async () => {
    const [input, output] = await topics(2);
    const id = unique('client-shutdown-app');
    // Only the first instance to meet the record fails on it: the other stops because of the marker.
    let failures = 0;
    const poison = (v: string): boolean => v === 'boom' && failures++ === 0;
    const first = app(upper(input, output, poison), id);
    const second = app(upper(input, output, poison), id);
    for (const s of [first, second]) s.setUncaughtExceptionHandler(() => 'SHUTDOWN_APPLICATION');
    await Promise.all([first.start(), second.start()]);
    await waitUntil('both instances have a task', () => first.taskIds().length === 1 && second.taskIds().length === 1, 60_000);
    await produce(input, [{ key: 'k', value: 'boom', partition: 0 }]);
    const results = await Promise.allSettled([first.whenStopped(), second.whenStopped()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const reasons = results.map((r) => (r.status === 'rejected' ? String(r.reason) : ''));
    expect(reasons.some((r) => /poison value boom/.test(r) && !/another instance/.test(r))).toBe(true);
    expect(reasons.some((r) => /another instance shut the whole application down \(SHUTDOWN_APPLICATION\): .*poison value boom/.test(r))).toBe(true);
  }, 90_000);

  it('pause() stops processing while staying in the group; resume() goes on', async () => {
    const [input, output] = await topics(1);
    const streams = app(upper(input, output, () => false), unique('client-pause'));
    await streams.start();
    await streams.waitForState('RUNNING');
    await produce(input, [{ key: 'k', value: 'one' }]);
    await waitUntil('the first output', async () => (await readAll(output)).length === 1, 60_000);
    streams.pause();
    expect(streams.isPaused()).toBe(true);
    await produce(input, [{ key: 'k', value: 'two' }]);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await readAll(output)).length).toBe(1);
    expect(streams.state).toBe('RUNNING');
    expect(streams.taskIds()).toEqual(['0_0']);
    streams.resume();
    expect(streams.isPaused()).toBe(false);
    await waitUntil('the second output after resume()', async () => (await readAll(output)).length === 2, 60_000);
    expect((await readAll(output)).map((m) => m.value)).toEqual(['ONE', 'TWO']);
  }, 90_000);

  it("cleanUp() deletes the application's Redis state, and only when not running", async () => {
    const [input, output] = await topics(1);
    const id = unique('client-cleanup');
    const streams = app(counts(input, output), id);
    await streams.start();
    await produce(input, [{ key: 'k', value: 'x' }]);
    await waitUntil('a count', async () => (await readAll(output)).length >= 1, 60_000);
    await expect(streams.cleanUp()).rejects.toThrow(/before start\(\) or after close\(\)/);
    await streams.close();
    const redis = new Redis(redisUrl);
    try {
      const keys = async () => (await redis.keys(`trib:{${id}:*`)).length;
      expect(await keys()).toBeGreaterThan(0);
      const deleted = await streams.cleanUp();
      expect(deleted).toBeGreaterThan(0);
      expect(await keys()).toBe(0);
      // A new run restores nothing: the count starts over from the committed group offset (past the record).
      const again = app(counts(input, output), id);
      await again.start();
      await again.waitForState('RUNNING');
      await produce(input, [{ key: 'k', value: 'y' }]);
      await waitUntil('the count after cleanUp', async () => (await readAll(output)).length >= 2, 60_000);
      expect((await readAll(output)).at(-1)!.valueBytes!.readBigInt64BE()).toBe(1n);
    } finally {
      await redis.quit();
    }
  }, 90_000);

  it('streamsMetadata() and queryMetadataForKey() name the instance that holds a key', async () => {
    const [input, output] = await topics(4);
    const id = unique('client-metadata');
    const urls = ['http://127.0.0.1:1', 'http://127.0.0.1:2'];
    const instances = urls.map((advertisedUrl) => app(counts(input, output), id, { advertisedUrl }));
    expect(() => app(counts(input, output), id, { advertisedUrl: 'not a url' })).toThrow(/advertisedUrl must be a URL/);
    await Promise.all(instances.map((s) => s.start()));
    const keys = Array.from({ length: 10 }, (_, i) => `user-${i}`);
    await produce(input, keys.map((key) => ({ key, value: 'v' })));
    await waitUntil(
      'both instances hold tasks and every key is counted',
      async () => {
        const metadata = await instances[0]!.streamsMetadata();
        if (metadata.length !== 2 || metadata.some((m) => m.tasks.length === 0) || metadata.flatMap((m) => m.tasks).length !== 4) return false;
        if (!keys.every((key) => instances.some((s) => s.store('counts').get(key) === 1))) return false;
        // the counts reach the output at the next commit (the record cache), after the stores
        const out = new Set((await readAll(output)).map((m) => m.key));
        return keys.every((key) => out.has(key));
      },
      60_000,
    );
    const metadata = await instances[1]!.streamsMetadata();
    expect(metadata.map((m) => m.host)).toEqual(urls);
    expect(metadata.flatMap((m) => m.tasks).sort()).toEqual(['0_0', '0_1', '0_2', '0_3']);
    expect(metadata.every((m) => m.stateStoreNames.includes('counts'))).toBe(true);
    const written = new Map((await readAll(output)).map((m) => [m.key!, m.partition]));
    for (const key of keys) {
      const where = await instances[0]!.queryMetadataForKey('counts', key);
      expect(where.partition).toBe(written.get(key));
      const host = instances[urls.indexOf(where.activeHost!)]!;
      const other = instances[1 - urls.indexOf(where.activeHost!)]!;
      expect(host.store('counts').get(key)).toBe(1);
      expect(other.store('counts').get(key)).toBeUndefined();
    }
    await expect(instances[0]!.queryMetadataForKey('nope', 'x')).rejects.toThrow(/no store named 'nope'/);
  }, 90_000);
});
