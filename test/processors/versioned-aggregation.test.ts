/*
 * Aggregation results, cogroups and foreign-key join results materialized as versioned stores
 * (`count(Materialized.as(Stores.persistentVersionedKeyValueStore("s", retention)))`), which Kafka
 * Streams allows: KStreamAggregate, KStreamReduce, KTableAggregate, KTableReduce and the
 * foreign-key join's result KTableSource all put through KeyValueStoreWrapper, so each update is
 * put at its timestamp (an aggregate's: the max of the record's and the previous aggregate's), a
 * put refused as older than the history retention (PUT_RETURN_CODE_NOT_PUT) is neither kept nor
 * forwarded, and the rest are forwarded with isLatest from the put's return code; versioned stores
 * are not cached. Kafka's own tests only check that these build (InternalStreamsBuilderTest's
 * versioned-semantics cases, ported here as behaviour); the expected values follow from that code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Joined, Materialized, Serdes, Stores, Suppressed, TimeWindows, TopologyTestDriver } from 'tributary';
import { captureAll, consumed, drain, intKeys, kvt, newBuilder, nullableIntKeys, nullableStrings, strings, toStringJoiner } from './join-test-utils.ts';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

const longs = Serdes.int64();
const versioned = <V>(name: string, retention: Parameters<typeof Stores.persistentVersionedKeyValueStore>[1] = '1h') => Materialized.as<number, V>(Stores.persistentVersionedKeyValueStore(name, retention));

describe('a grouped stream aggregated into a versioned store', () => {
  it('count: each update is a version at max(record, previous) time, so as-of reads give the count at any time', async () => {
    const builder = newBuilder();
    const counts = builder.stream<number, string>('input', consumed).groupByKey().count(versioned<number>('C'));
    const changes = captureAll(builder, counts, { sendOldValues: true });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    await input.pipeInput(1, 'a', 10);
    await input.pipeInput(1, 'b', 20);
    await input.pipeInput(1, 'c', 15); // out of order: the aggregate's time stays 20
    await input.pipeInput(2, 'x', 12);
    expect(changes).toEqual([
      kvt(1, { newValue: 1, oldValue: 0 }, 10), // a key's first old value is the initializer's, as KStreamAggregate forwards
      kvt(1, { newValue: 2, oldValue: 1 }, 20),
      kvt(1, { newValue: 3, oldValue: 2 }, 20),
      kvt(2, { newValue: 1, oldValue: 0 }, 12),
    ]);
    const store = driver.getVersionedKeyValueStore<number, number>('C')!;
    expect(store.get(1)).toEqual({ value: 3, timestamp: 20 });
    expect(store.get(1, 15)).toEqual({ value: 1, timestamp: 10, validTo: 20 });
    expect(store.get(1, 9)).toBeUndefined();
    expect(store.getVersions(1, { order: 'ascending' })).toEqual([{ value: 1, timestamp: 10, validTo: 20 }, { value: 3, timestamp: 20 }]);
  });

  it('a new key\'s first record older than the history retention is refused by the store: not counted, not forwarded, counted as dropped', async () => {
    const builder = newBuilder();
    const counts = builder.stream<number, string>('input', consumed).groupByKey().count(versioned<number>('C', 10));
    const changes = captureAll(builder, counts, { sendOldValues: true });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    await input.pipeInput(1, 'a', 100);
    await input.pipeInput(2, 'x', 95); // within the retention
    await input.pipeInput(3, 'y', 89); // 89 < 100 - 10: NOT_PUT
    await input.pipeInput(1, 'b', 50); // an existing key: put at max(50, 100), accepted
    expect(changes).toEqual([
      kvt(1, { newValue: 1, oldValue: 0 }, 100),
      kvt(2, { newValue: 1, oldValue: 0 }, 95),
      kvt(1, { newValue: 2, oldValue: 1 }, 100),
    ]);
    expect(driver.metrics().dropped).toBe(1);
    expect(driver.getVersionedKeyValueStore<number, number>('C')!.get(3)).toBeUndefined();
  });

  it('reduce and aggregate: the same versions; a stream-table join with a grace period reads the aggregate as of each record', async () => {
    const builder = newBuilder();
    const grouped = builder.stream<number, string>('input', consumed).groupByKey();
    const reduced = grouped.reduce((agg, v) => `${agg}${v}`, versioned<string>('R', '5m'));
    const lengths = grouped.aggregate(() => 0, (_k, v, n) => n + v.length, { ...versioned<number>('A', '5m'), valueSerde: longs });
    builder.stream<number, string>('orders', consumed).join(reduced, toStringJoiner, Joined.with(intKeys, strings, strings, 'J', 10)).to('out', { keySerde: intKeys, valueSerde: strings });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    const orders = driver.createInputTopic('orders', intKeys, strings);
    const out = driver.createOutputTopic('out', nullableIntKeys, strings);
    await input.pipeInput(1, 'a', 0);
    await input.pipeInput(1, 'bb', 8);
    await orders.pipeInput(1, 'o5', 5);
    await orders.pipeInput(1, 'o9', 9);
    await orders.pipeInput(1, 'flush', 40);
    expect(drain(out)).toEqual([kvt(1, 'o5+a', 5), kvt(1, 'o9+abb', 9)]);
    expect(driver.getVersionedKeyValueStore<number, string>('R')!.get(1, 7)?.value).toBe('a');
    expect(driver.getVersionedKeyValueStore<number, number>('A')!.getVersions(1, { order: 'ascending' }).map((v) => v.value)).toEqual([1, 3]);
  });

  it('a versioned aggregation cannot be suppressed (Kafka Streams refuses it too)', () => {
    const builder = newBuilder();
    const counts = builder.stream<number, string>('input', consumed).groupByKey().count(versioned<number>('C'));
    expect(() => counts.suppress(Suppressed.untilTimeLimit('1s'))).toThrow(/suppress\(\) is only supported for non-versioned KTables/);
  });

  it('a windowed aggregation cannot be versioned: its store is a window store', () => {
    const builder = newBuilder();
    const windowed = builder.stream<number, string>('input', consumed).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10));
    expect(() => windowed.count({ storeName: 'W', versioned: { historyRetention: '1m' } })).toThrow(/store 'W': a windowed aggregation is kept in a window or session store, which cannot be versioned/);
  });
});

describe('a grouped table aggregated into a versioned store', () => {
  it('count: updates are versions; a tombstone upstream subtracts and the result stays latest', async () => {
    const builder = newBuilder();
    const counts = builder.table<number, string>('input', consumed).groupBy((_k, v) => [v.length, v] as const, { keySerde: intKeys, valueSerde: strings }).count(versioned<number>('C'));
    const changes = captureAll(builder, counts, { sendOldValues: true });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, nullableStrings);
    await input.pipeInput(1, 'a', 10);
    await input.pipeInput(2, 'b', 20);
    await input.pipeInput(1, 'cc', 30); // moves key 1 from group 1 to group 2
    await input.pipeInput(2, null, 40);
    expect(changes).toEqual([
      kvt(1, { newValue: 1, oldValue: null }, 10),
      kvt(1, { newValue: 2, oldValue: 1 }, 20),
      kvt(1, { newValue: 1, oldValue: 2 }, 30),
      kvt(2, { newValue: 1, oldValue: null }, 30),
      kvt(1, { newValue: 0, oldValue: 1 }, 40),
    ]);
    const store = driver.getVersionedKeyValueStore<number, number>('C')!;
    expect(store.get(1, 25)).toEqual({ value: 2, timestamp: 20, validTo: 30 });
    expect(store.get(1)).toEqual({ value: 0, timestamp: 40 });
  });

  it('InternalStreamsBuilderTest.shouldSetUseVersionedSemanticsWithIntermediateAggregationMaterializedAsVersioned: a filter below a versioned count keeps versioned semantics (a join with grace accepts it)', () => {
    const builder = newBuilder();
    const counts = builder.table<number, string>('t1', consumed, versioned<string>('versioned', '5m')).groupBy((k, v) => [k, v] as const).count(versioned<number>('versioned2', '5m'));
    const filtered = counts.filter((_k, v) => v !== null);
    builder.stream<number, string>('s', consumed).join(filtered, (v, n) => `${v}${n}`, { name: 'G', gracePeriod: '1m' }).to('out');
    expect(builder.build().describe()).toContain('Processor: G (stores: [versioned2, G-Buffer])');
  });

  it('InternalStreamsBuilderTest.shouldNotSetUseVersionedSemanticsWithIntermediateAggregation: without a versioned store the count is not versioned (a grace join refuses it)', () => {
    const builder = newBuilder();
    const counts = builder.table<number, string>('t1', consumed, versioned<string>('versioned', '5m')).groupBy((k, v) => [k, v] as const).count();
    const filtered = counts.filter((_k, v) => v !== null);
    expect(() => builder.stream<number, string>('s', consumed).join(filtered, (v, n) => `${v}${n}`, { name: 'G', gracePeriod: '1m' })).toThrow(/keeps no history/);
  });
});

describe('a cogroup aggregated into a versioned store', () => {
  it('both inputs update one versioned aggregate, forwarded at once (no cache) with isLatest', async () => {
    const builder = newBuilder();
    const clicks = builder.stream<number, string>('clicks', consumed).groupByKey();
    const buys = builder.stream<number, string>('buys', consumed).groupByKey();
    const summary = clicks
      .cogroup<string>((_k, v, agg) => `${agg}c${v}`)
      .cogroup(buys, (_k, v, agg) => `${agg}b${v}`)
      .aggregate(() => '', versioned<string>('S'));
    const changes = captureAll(builder, summary, { sendOldValues: true });
    driver = new TopologyTestDriver(builder.build(), { cacheMaxEntries: 100 } as never);
    await driver.createInputTopic('clicks', intKeys, strings).pipeInput(1, '1', 10);
    await driver.createInputTopic('buys', intKeys, strings).pipeInput(1, '2', 20);
    expect(changes).toEqual([kvt(1, { newValue: 'c1', oldValue: '' }, 10), kvt(1, { newValue: 'c1b2', oldValue: 'c1' }, 20)]);
    expect(driver.getVersionedKeyValueStore<number, string>('S')!.get(1, 15)?.value).toBe('c1');
  });
});

describe('a foreign-key join result materialized as a versioned store', () => {
  it('an out-of-order left update gives a result that goes into the history with isLatest false and the latest value as old value', async () => {
    const builder = newBuilder();
    const left = builder.table<number, string>('left', consumed);
    const right = builder.table<number, string>('right', consumed);
    const joined = left.join(right, (v) => Number(v.split('|')[0]), (v, o) => `${v}+${o}`, versioned<string>('FK'));
    const changes = captureAll(builder, joined, { sendOldValues: true });
    driver = new TopologyTestDriver(builder.build());
    const leftIn = driver.createInputTopic('left', intKeys, strings);
    await driver.createInputTopic('right', intKeys, strings).pipeInput(7, 'r', 0);
    await leftIn.pipeInput(1, '7|b', 20);
    await leftIn.pipeInput(1, '7|a', 10);
    await leftIn.pipeInput(1, '7|c', 30);
    expect(changes).toEqual([
      kvt(1, { newValue: '7|b+r', oldValue: null }, 20),
      kvt(1, { newValue: '7|a+r', oldValue: '7|b+r', isLatest: false }, 10),
      kvt(1, { newValue: '7|c+r', oldValue: '7|b+r' }, 30),
    ]);
    const store = driver.getVersionedKeyValueStore<number, string>('FK')!;
    expect(store.get(1, 15)).toEqual({ value: '7|a+r', timestamp: 10, validTo: 20 });
    expect(store.get(1)).toEqual({ value: '7|c+r', timestamp: 30 });
  });
});
