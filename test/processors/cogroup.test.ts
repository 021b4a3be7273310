import { afterEach, describe, expect, it } from 'vitest';
import {
  Materialized, Serdes, SessionWindows, SlidingWindows, StreamsBuilder, TimeWindows, TopologyTestDriver,
  type KGroupedStream, type Serde,
} from 'tributary';
import { STRING_INIT, TOSTRING_ADDER } from './windowed-test-utils.ts';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
/** CogroupedKStreamImplTest's STRING_AGGREGATOR and STRING_INITIALIZER. */
const STRING_AGGREGATOR = (_k: string, v: string, agg: string): string => agg + v;
const STRING_INITIALIZER = (): string => '';
const STRING_SUM_AGGREGATOR = (_k: string, v: string, agg: number): number => agg + Number.parseInt(v, 10);
const SUM_AGGREGATOR = (_k: string, v: number, agg: number): number => agg + v;
const SUM_INITIALIZER = (): number => 0;
/** Kafka Streams' `MockAggregator.TOSTRING_REMOVER`: `agg + "-" + value`. */
const TOSTRING_REMOVER = (_k: string, v: string, agg: string): string => `${agg}-${v}`;
/** SessionWindowedCogroupedKStreamImplTest's session merger. */
const sessionMerger = (_k: string, a: string, b: string): string => `${a}+${b}`;

type Kvt<V> = { key: string; value: V | null; timestamp: number };
const kvt = <V>(key: string, value: V | null, timestamp: number): Kvt<V> => ({ key, value, timestamp });

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function start(builder: StreamsBuilder, options: { cacheMaxEntries?: number } = {}): TopologyTestDriver {
  driver = new TopologyTestDriver(builder.build(), options);
  return driver;
}

function pipe(d: TopologyTestDriver, topic: string) {
  const input = d.createInputTopic<string, string | null>(topic, Serdes.string(), Serdes.nullable(Serdes.string()));
  return (key: string, value: string | null, ts: number) => input.pipeInput(key, value, ts);
}

function read<V>(d: TopologyTestDriver, valueSerde: Serde<V>, topic = 'output'): Kvt<V>[] {
  return d.createOutputTopic(topic, Serdes.string(), Serdes.nullable(valueSerde)).readRecordsToList().map((r) => kvt(r.key, r.value, r.timestamp));
}

function readWindowed(d: TopologyTestDriver): (Kvt<string> & { start: number; end: number })[] {
  return d.createOutputTopic('output', Serdes.windowed(Serdes.string()), Serdes.nullable(Serdes.string())).readRecordsToList()
    .map((r) => ({ key: r.key.key, start: r.key.window.start, end: r.key.window.end, value: r.value, timestamp: r.timestamp }));
}

const withoutWindow = (records: (Kvt<string> & { start: number; end: number })[]): Kvt<string>[] => records.map(({ key, value, timestamp }) => kvt(key, value, timestamp));

describe('CogroupedKStreamImplTest', () => {
  function twoGrouped(builder: StreamsBuilder): [KGroupedStream<string, string>, KGroupedStream<string, string>] {
    return [builder.stream<string, string>('one', strings).groupByKey(), builder.stream<string, string>('two', strings).groupByKey()];
  }

  it('CogroupedKStreamImplTest.shouldNotHaveNullAggregatorOnCogroup / shouldNotHaveNullInitializerOnAggregate / shouldNotHaveNullWindowOnWindowedBy*: missing arguments are refused', () => {
    const builder = new StreamsBuilder();
    const [grouped] = twoGrouped(builder);
    const cogrouped = grouped.cogroup(STRING_AGGREGATOR);
    expect(() => cogrouped.cogroup(grouped, null as unknown as typeof STRING_AGGREGATOR)).toThrow(TypeError);
    expect(() => cogrouped.cogroup(null as unknown as KGroupedStream<string, string>, STRING_AGGREGATOR)).toThrow(TypeError);
    expect(() => cogrouped.aggregate(null as unknown as () => string)).toThrow(TypeError);
    expect(() => cogrouped.aggregate(null as unknown as () => string, { name: 'name' }, Materialized.as('store'))).toThrow(TypeError);
    expect(() => cogrouped.windowedBy(null as unknown as TimeWindows)).toThrow(TypeError);
    expect(() => cogrouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10)).aggregate(STRING_INIT, null as unknown as typeof sessionMerger)).toThrow(TypeError);
  });

  it('CogroupedKStreamImplTest.shouldNameProcessorsAndStoreBasedOnNamedParameter: <name>-cogroup-agg-<i> and <name>-cogroup-merge on the named store', () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    one.cogroup(STRING_AGGREGATOR).cogroup(two, STRING_AGGREGATOR)
      .aggregate(STRING_INITIALIZER, { name: 'test' }, Materialized.as('store'))
      .toStream().to('output');
    const description = builder.build().describe();
    expect(description).toContain('Source: KSTREAM-SOURCE-0000000000 (topics: [one])\n      --> test-cogroup-agg-0\n');
    expect(description).toContain('Source: KSTREAM-SOURCE-0000000001 (topics: [two])\n      --> test-cogroup-agg-1\n');
    expect(description).toContain('Processor: test-cogroup-agg-0 (stores: [store])\n      --> test-cogroup-merge\n      <-- KSTREAM-SOURCE-0000000000\n');
    expect(description).toContain('Processor: test-cogroup-agg-1 (stores: [store])\n      --> test-cogroup-merge\n      <-- KSTREAM-SOURCE-0000000001\n');
    expect(description).toContain('Processor: test-cogroup-merge (stores: [])\n      --> KTABLE-TOSTREAM-0000000005\n      <-- test-cogroup-agg-0, test-cogroup-agg-1\n');
    expect(description).toContain('Sink: KSTREAM-SINK-0000000006 (topic: output)\n      <-- KTABLE-TOSTREAM-0000000005\n');
    expect(description).not.toContain('Sub-topology: 1');
  });

  it('CogroupedKStreamImplTest.shouldNameRepartitionTopic: a re-keyed input goes through <Grouped name>-repartition; generated names follow Kafka Streams\' numbering', () => {
    const builder = new StreamsBuilder();
    const stream1 = builder.stream<string, string>('one', strings);
    const stream2 = builder.stream<string, string>('two', strings);
    const groupedOne = stream1.map((k, v) => [v, k] as const).groupByKey({ name: 'repartition-test' });
    const groupedTwo = stream2.groupByKey();
    groupedOne.cogroup(STRING_AGGREGATOR).cogroup(groupedTwo, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER).toStream().to('output');
    const description = builder.build().describe();
    expect(description).toContain('Processor: KSTREAM-MAP-0000000002 (stores: [])\n      --> repartition-test-repartition-filter\n');
    expect(description).toContain('Sink: repartition-test-repartition-sink (topic: repartition-test-repartition)\n      <-- repartition-test-repartition-filter\n');
    expect(description).toContain('Source: repartition-test-repartition-source (topics: [repartition-test-repartition])\n      --> COGROUPKSTREAM-AGGREGATE-0000000007\n');
    expect(description).toContain('Source: KSTREAM-SOURCE-0000000001 (topics: [two])\n      --> COGROUPKSTREAM-AGGREGATE-0000000008\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-AGGREGATE-0000000007 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003])\n      --> COGROUPKSTREAM-MERGE-0000000009\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-MERGE-0000000009 (stores: [])\n      --> KTABLE-TOSTREAM-0000000010\n      <-- COGROUPKSTREAM-AGGREGATE-0000000007, COGROUPKSTREAM-AGGREGATE-0000000008\n');
    expect(description).toContain('Sink: KSTREAM-SINK-0000000011 (topic: output)');
    expect(builder.build().copartitionGroups()).toEqual([['repartition-test-repartition', 'two']]);
  });

  it('CogroupedKStreamImplTest.shouldInsertRepartitionsTopicForUpstreamKeyModification: without a Grouped name the repartition topic is named after the store', () => {
    const builder = new StreamsBuilder();
    const stream1 = builder.stream<string, string>('one', strings);
    const stream2 = builder.stream<string, string>('two', strings);
    const groupedOne = stream1.map((k, v) => [v, k] as const).groupByKey();
    const groupedTwo = stream2.groupByKey();
    groupedOne.cogroup(STRING_AGGREGATOR).cogroup(groupedTwo, STRING_AGGREGATOR)
      .aggregate(STRING_INITIALIZER, { name: 'test' }, Materialized.as('store')).toStream().to('output');
    const description = builder.build().describe();
    expect(description).toContain('Sink: store-repartition-sink (topic: store-repartition)\n      <-- store-repartition-filter\n');
    expect(description).toContain('Source: store-repartition-source (topics: [store-repartition])\n      --> test-cogroup-agg-0\n');
    expect(description).toContain('Processor: test-cogroup-merge (stores: [])\n      --> KTABLE-TOSTREAM-0000000009\n');
    expect(description).toContain('Sink: KSTREAM-SINK-0000000010 (topic: output)');
  });

  it('CogroupedKStreamImplTest.shouldInsertRepartitionsTopicForUpstreamKeyModificationWithGroupedReusedInSameCogroups: each aggregate repartitions through its own store-named topic', () => {
    const builder = new StreamsBuilder();
    const stream1 = builder.stream<string, string>('one', strings);
    const stream2 = builder.stream<string, string>('two', strings);
    const groupedOne = stream1.map((k, v) => [v, k] as const).groupByKey();
    const groupedTwo = stream2.groupByKey();
    const cogroupedTwo = groupedOne.cogroup(STRING_AGGREGATOR).cogroup(groupedTwo, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER);
    const cogroupedOne = groupedOne.cogroup(STRING_AGGREGATOR).cogroup(groupedTwo, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER);
    cogroupedOne.toStream().to('output');
    cogroupedTwo.toStream().to('OUTPUT2');
    const description = builder.build().describe();
    expect(description).toContain('Sink: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition-sink (topic: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)');
    expect(description).toContain('Sink: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000010-repartition-sink (topic: COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000010-repartition)');
    expect(description).toContain('Source: KSTREAM-SOURCE-0000000001 (topics: [two])\n      --> COGROUPKSTREAM-AGGREGATE-0000000008, COGROUPKSTREAM-AGGREGATE-0000000015\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-AGGREGATE-0000000014 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000010])\n      --> COGROUPKSTREAM-MERGE-0000000016\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-MERGE-0000000009 (stores: [])\n      --> KTABLE-TOSTREAM-0000000019\n');
    expect(description).toContain('Sink: KSTREAM-SINK-0000000020 (topic: OUTPUT2)\n      <-- KTABLE-TOSTREAM-0000000019\n');
    expect(description.match(/Sub-topology: /g)).toHaveLength(2);
  });

  it('CogroupedKStreamImplTest.shouldInsertRepartitionsTopicForUpstreamKeyModificationWithGroupedReusedInDifferentCogroups: cogroups without a shared input are separate sub-topologies', () => {
    const builder = new StreamsBuilder();
    const stream1 = builder.stream<string, string>('one', strings);
    const stream2 = builder.stream<string, string>('two', strings);
    const stream3 = builder.stream<string, string>('three', strings);
    const groupedOne = stream1.map((k, v) => [v, k] as const).groupByKey();
    const groupedTwo = stream2.groupByKey();
    const groupedThree = stream3.groupByKey();
    groupedOne.cogroup(STRING_AGGREGATOR).cogroup(groupedThree, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER);
    groupedOne.cogroup(STRING_AGGREGATOR).cogroup(groupedTwo, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER);
    const topology = builder.build();
    const description = topology.describe();
    expect(description).toContain('Processor: KSTREAM-MAP-0000000003 (stores: [])\n      --> COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000004-repartition-filter, COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000011-repartition-filter\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-AGGREGATE-0000000009 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000004])\n      --> COGROUPKSTREAM-MERGE-0000000010\n      <-- KSTREAM-SOURCE-0000000002\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-AGGREGATE-0000000016 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000011])\n      --> COGROUPKSTREAM-MERGE-0000000017\n      <-- KSTREAM-SOURCE-0000000001\n');
    expect(description.match(/Sub-topology: /g)).toHaveLength(3);
    expect(topology.copartitionGroups()).toEqual([
      ['COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000004-repartition', 'three'],
      ['COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000011-repartition', 'two'],
    ]);
  });

  it('CogroupedKStreamImplTest.shouldInsertRepartitionsTopicForCogroupsUsedTwice: two aggregates of one cogroup share the Grouped-named repartition topic', () => {
    const builder = new StreamsBuilder();
    const groupedOne = builder.stream<string, string>('one', strings).map((k, v) => [v, k] as const).groupByKey({ name: 'foo' });
    const one = groupedOne.cogroup(STRING_AGGREGATOR);
    one.aggregate(STRING_INITIALIZER);
    one.aggregate(STRING_INITIALIZER);
    const description = builder.build().describe();
    expect(description).toContain('Processor: KSTREAM-MAP-0000000001 (stores: [])\n      --> foo-repartition-filter\n');
    expect(description).toContain('Source: foo-repartition-source (topics: [foo-repartition])\n      --> COGROUPKSTREAM-AGGREGATE-0000000006, COGROUPKSTREAM-AGGREGATE-0000000012\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-AGGREGATE-0000000006 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])\n      --> COGROUPKSTREAM-MERGE-0000000007\n');
    expect(description).toContain('Processor: COGROUPKSTREAM-AGGREGATE-0000000012 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000008])\n      --> COGROUPKSTREAM-MERGE-0000000013\n');
    expect(description.match(/foo-repartition-sink \(topic/g)).toHaveLength(1);
  });

  it('CogroupedKStreamImplTest.shouldCogroupAndAggregateSingleKStreams: one input aggregates like KGroupedStream.aggregate', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('one', strings).groupByKey().cogroup(STRING_AGGREGATOR).aggregate(STRING_INITIALIZER, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const one = pipe(d, 'one');
    await one('k1', 'A', 0);
    await one('k2', 'B', 0);
    await one('k2', 'B', 0);
    await one('k1', 'A', 0);
    expect(read(d, Serdes.string())).toEqual([kvt('k1', 'A', 0), kvt('k2', 'B', 0), kvt('k2', 'BB', 0), kvt('k1', 'AA', 0)]);
  });

  it('CogroupedKStreamImplTest.testCogroupHandleNullValues: a record with a null value is dropped', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('one', strings).groupByKey().cogroup(STRING_AGGREGATOR).aggregate(STRING_INITIALIZER, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const one = pipe(d, 'one');
    await one('k1', 'A', 0);
    await one('k2', 'B', 0);
    await one('k2', null, 0);
    await one('k2', 'B', 0);
    await one('k1', 'A', 0);
    expect(read(d, Serdes.string())).toEqual([kvt('k1', 'A', 0), kvt('k2', 'B', 0), kvt('k2', 'BB', 0), kvt('k1', 'AA', 0)]);
    expect(d.metrics().dropped).toBe(1);
  });

  it('CogroupedKStreamImplTest.shouldCogroupAndAggregateTwoKStreamsWithDistinctKeys: the timestamp is the max of the record and the aggregate', async () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    one.cogroup(STRING_AGGREGATOR).cogroup(two, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const p1 = pipe(d, 'one');
    const p2 = pipe(d, 'two');
    for (const ts of [0, 1, 10, 100]) await p1('k1', 'A', ts);
    for (const ts of [100, 200, 1, 500, 500, 100]) await p2('k2', 'B', ts);
    expect(read(d, Serdes.string())).toEqual([
      kvt('k1', 'A', 0), kvt('k1', 'AA', 1), kvt('k1', 'AAA', 10), kvt('k1', 'AAAA', 100),
      kvt('k2', 'B', 100), kvt('k2', 'BB', 200), kvt('k2', 'BBB', 200), kvt('k2', 'BBBB', 500), kvt('k2', 'BBBBB', 500), kvt('k2', 'BBBBBB', 500),
    ]);
  });

  it('CogroupedKStreamImplTest.shouldCogroupAndAggregateTwoKStreamsWithSharedKeys: both inputs update one aggregate per key', async () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    one.cogroup(STRING_AGGREGATOR).cogroup(two, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const p1 = pipe(d, 'one');
    const p2 = pipe(d, 'two');
    await p1('k1', 'A', 0);
    await p1('k2', 'A', 1);
    await p1('k1', 'A', 10);
    await p1('k2', 'A', 100);
    await p2('k2', 'B', 100);
    await p2('k2', 'B', 200);
    await p2('k1', 'B', 1);
    await p2('k2', 'B', 500);
    await p2('k1', 'B', 500);
    await p2('k2', 'B', 500);
    await p2('k3', 'B', 500);
    await p2('k2', 'B', 100);
    expect(read(d, Serdes.string()).slice(0, 10)).toEqual([
      kvt('k1', 'A', 0), kvt('k2', 'A', 1), kvt('k1', 'AA', 10), kvt('k2', 'AA', 100), kvt('k2', 'AAB', 100),
      kvt('k2', 'AABB', 200), kvt('k1', 'AAB', 10), kvt('k2', 'AABBB', 500), kvt('k1', 'AABB', 500), kvt('k2', 'AABBBB', 500),
    ]);
  });

  it('CogroupedKStreamImplTest.shouldAllowDifferentOutputTypeInCoGroup: string inputs, a number aggregate', async () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    one.cogroup(STRING_SUM_AGGREGATOR).cogroup(two, STRING_SUM_AGGREGATOR).aggregate(SUM_INITIALIZER, { storeName: 'store1', valueSerde: Serdes.int32() })
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.int32()) });
    const d = start(builder);
    const p1 = pipe(d, 'one');
    const p2 = pipe(d, 'two');
    await p1('k1', '1', 0);
    await p1('k2', '1', 1);
    await p1('k1', '1', 10);
    await p1('k2', '1', 100);
    await p2('k2', '2', 100);
    await p2('k2', '2', 200);
    await p2('k1', '2', 1);
    await p2('k2', '2', 500);
    await p2('k1', '2', 500);
    await p2('k2', '3', 500);
    await p2('k3', '2', 500);
    await p2('k2', '2', 100);
    expect(read(d, Serdes.int32()).slice(0, 10)).toEqual([
      kvt('k1', 1, 0), kvt('k2', 1, 1), kvt('k1', 2, 10), kvt('k2', 2, 100), kvt('k2', 4, 100),
      kvt('k2', 6, 200), kvt('k1', 4, 10), kvt('k2', 8, 500), kvt('k1', 6, 500), kvt('k2', 11, 500),
    ]);
    expect(d.getKeyValueStore<string, number>('store1')?.get('k2')).toBe(13);
  });

  it('CogroupedKStreamImplTest.shouldCoGroupStreamsWithDifferentInputTypes: each aggregator sees its own input type', async () => {
    const builder = new StreamsBuilder();
    const grouped1 = builder.stream<string, string>('one', strings).groupByKey();
    const grouped2 = builder.stream<string, number>('two', { keySerde: Serdes.string(), valueSerde: Serdes.int32() }).groupByKey();
    grouped1.cogroup(STRING_SUM_AGGREGATOR).cogroup(grouped2, SUM_AGGREGATOR).aggregate(SUM_INITIALIZER, { storeName: 'store1', valueSerde: Serdes.int32() })
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.int32()) });
    const d = start(builder);
    const p1 = pipe(d, 'one');
    const in2 = d.createInputTopic('two', Serdes.string(), Serdes.int32());
    await p1('k1', '1', 0);
    await p1('k2', '1', 1);
    await p1('k1', '1', 10);
    await p1('k2', '1', 100);
    await in2.pipeInput('k2', 2, 100);
    await in2.pipeInput('k2', 2, 200);
    await in2.pipeInput('k1', 2, 1);
    await in2.pipeInput('k2', 2, 500);
    await in2.pipeInput('k1', 2, 500);
    await in2.pipeInput('k2', 3, 500);
    await in2.pipeInput('k3', 2, 500);
    await in2.pipeInput('k2', 2, 100);
    expect(read(d, Serdes.int32()).slice(0, 11)).toEqual([
      kvt('k1', 1, 0), kvt('k2', 1, 1), kvt('k1', 2, 10), kvt('k2', 2, 100), kvt('k2', 4, 100),
      kvt('k2', 6, 200), kvt('k1', 4, 10), kvt('k2', 8, 500), kvt('k1', 6, 500), kvt('k2', 11, 500), kvt('k3', 2, 500),
    ]);
  });

  it('CogroupedKStreamImplTest.testCogroupKeyMixedAggregators: each input keeps its own aggregator', async () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    one.cogroup(TOSTRING_REMOVER).cogroup(two, TOSTRING_ADDER).aggregate(STRING_INIT, { storeName: 'store1', valueSerde: Serdes.string() })
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const p1 = pipe(d, 'one');
    const p2 = pipe(d, 'two');
    await p1('k1', '1', 0);
    await p1('k2', '1', 1);
    await p1('k1', '1', 10);
    await p1('k2', '1', 100);
    await p2('k1', '2', 500);
    await p2('k2', '2', 500);
    await p2('k1', '2', 500);
    await p2('k2', '2', 100);
    expect(read(d, Serdes.string())).toEqual([
      kvt('k1', '0-1', 0), kvt('k2', '0-1', 1), kvt('k1', '0-1-1', 10), kvt('k2', '0-1-1', 100),
      kvt('k1', '0-1-1+2', 500), kvt('k2', '0-1-1+2', 500), kvt('k1', '0-1-1+2+2', 500), kvt('k2', '0-1-1+2+2', 500),
    ]);
  });

  it('CogroupedKStreamImplTest.testCogroupWithThreeGroupedStreams: three inputs, one aggregate', async () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    const three = builder.stream<string, string>('three', strings).groupByKey();
    one.cogroup(STRING_AGGREGATOR).cogroup(two, STRING_AGGREGATOR).cogroup(three, STRING_AGGREGATOR)
      .aggregate(STRING_INITIALIZER, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const [p1, p2, p3] = [pipe(d, 'one'), pipe(d, 'two'), pipe(d, 'three')];
    await p1('k1', 'A', 0);
    await p1('k2', 'A', 1);
    await p1('k1', 'A', 10);
    await p1('k2', 'A', 100);
    await p2('k2', 'B', 100);
    await p2('k2', 'B', 200);
    await p2('k1', 'B', 1);
    await p2('k2', 'B', 500);
    await p3('k1', 'B', 500);
    await p3('k2', 'B', 500);
    await p3('k3', 'B', 500);
    await p3('k2', 'B', 100);
    expect(read(d, Serdes.string()).slice(0, 11)).toEqual([
      kvt('k1', 'A', 0), kvt('k2', 'A', 1), kvt('k1', 'AA', 10), kvt('k2', 'AA', 100), kvt('k2', 'AAB', 100), kvt('k2', 'AABB', 200),
      kvt('k1', 'AAB', 10), kvt('k2', 'AABBB', 500), kvt('k1', 'AABB', 500), kvt('k2', 'AABBBB', 500), kvt('k3', 'B', 500),
    ]);
  });

  it('CogroupedKStreamImplTest.testCogroupWithKTableKTableInnerJoin: the cogrouped table joins another table', async () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    const table1 = one.cogroup(STRING_AGGREGATOR).cogroup(two, STRING_AGGREGATOR)
      .aggregate(STRING_INITIALIZER, { name: 'name' }, { storeName: 'store', keySerde: Serdes.string(), valueSerde: Serdes.string() });
    const table2 = builder.table<string, string>('three', strings);
    table1.join(table2, (a, b) => `${a}+${b}`, Materialized.with(Serdes.string(), Serdes.string())).toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    await pipe(d, 'one')('k1', 'A', 5);
    await pipe(d, 'two')('k2', 'B', 6);
    const out = d.createOutputTopic('output', Serdes.string(), Serdes.nullable(Serdes.string()));
    expect(out.isEmpty()).toBe(true);
    const p3 = pipe(d, 'three');
    await p3('k1', 'C', 0);
    await p3('k2', 'D', 10);
    expect(out.readRecordsToList().map((r) => kvt(r.key, r.value, r.timestamp))).toEqual([kvt('k1', 'A+C', 5), kvt('k2', 'B+D', 10)]);
  });

  it('reference rule: with the record cache, updates of one key from both inputs merge into one result at the merge node', async () => {
    const builder = new StreamsBuilder();
    const [one, two] = twoGrouped(builder);
    one.cogroup(STRING_AGGREGATOR).cogroup(two, STRING_AGGREGATOR).aggregate(STRING_INITIALIZER, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder, { cacheMaxEntries: 100 });
    await d.createInputTopic('one', Serdes.string(), Serdes.string()).pipeKeyValueList([{ key: 'k1', value: 'A' }, { key: 'k2', value: 'X' }]);
    await pipe(d, 'two')('k1', 'B', 0);
    await d.createInputTopic('one', Serdes.string(), Serdes.string()).pipeKeyValueList([{ key: 'k1', value: 'C' }]);
    expect(read(d, Serdes.string()).map(({ key, value }) => [key, value])).toEqual([['k1', 'A'], ['k2', 'X'], ['k1', 'AB'], ['k1', 'ABC']]);
  });
});

describe('TimeWindowedCogroupedKStreamImplTest (500 ms windows)', () => {
  function setUp(windows: TimeWindows, second = true): { builder: StreamsBuilder } {
    const builder = new StreamsBuilder();
    const grouped = builder.stream<string, string>('topic', strings).groupByKey(strings);
    let cogrouped = grouped.cogroup(TOSTRING_ADDER);
    if (second) cogrouped = cogrouped.cogroup(builder.stream<string, string>('topic2', strings).groupByKey(strings), TOSTRING_REMOVER);
    cogrouped.windowedBy(windows).aggregate(STRING_INIT, Materialized.with(Serdes.string(), Serdes.string())).toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    return { builder };
  }

  it('TimeWindowedCogroupedKStreamImplTest.namedParamShouldSetName: Named names the aggregation and merge nodes', () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('topic', strings).groupByKey().cogroup(TOSTRING_ADDER).windowedBy(TimeWindows.ofSizeWithNoGrace(500)).aggregate(STRING_INIT, { name: 'foo' });
    const description = builder.build().describe();
    expect(description).toContain('Source: KSTREAM-SOURCE-0000000000 (topics: [topic])\n      --> foo-cogroup-agg-0\n');
    expect(description).toContain('Processor: foo-cogroup-agg-0 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000001])\n      --> foo-cogroup-merge\n');
    expect(description).toContain('Processor: foo-cogroup-merge (stores: [])\n      --> none\n      <-- foo-cogroup-agg-0\n');
  });

  it('TimeWindowedCogroupedKStreamImplTest.timeWindowAggregateTestStreamsTest: one input in tumbling windows', async () => {
    const d = start(setUp(TimeWindows.ofSizeWithNoGrace(500)).builder);
    const p = pipe(d, 'topic');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k2', 'A', 0], ['k2', 'A', 1], ['k1', 'A', 2], ['k1', 'B', 3], ['k2', 'B', 3], ['k2', 'B', 4], ['k1', 'B', 4]] as const) await p(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([
      kvt('k1', '0+A', 0), kvt('k2', '0+A', 0), kvt('k2', '0+A+A', 1), kvt('k1', '0+A+A', 2),
      kvt('k1', '0+A+A+B', 3), kvt('k2', '0+A+A+B', 3), kvt('k2', '0+A+A+B+B', 4), kvt('k1', '0+A+A+B+B', 4),
    ]);
  });

  it('TimeWindowedCogroupedKStreamImplTest.timeWindowMixAggregatorsTest: two inputs, two aggregators, one window', async () => {
    const d = start(setUp(TimeWindows.ofSizeWithNoGrace(500)).builder);
    const p1 = pipe(d, 'topic');
    const p2 = pipe(d, 'topic2');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k2', 'A', 0], ['k2', 'A', 1], ['k1', 'A', 2]] as const) await p1(k, v, ts);
    for (const [k, v, ts] of [['k1', 'B', 3], ['k2', 'B', 3], ['k2', 'B', 4], ['k1', 'B', 4]] as const) await p2(k, v, ts);
    const records = readWindowed(d);
    expect(withoutWindow(records)).toEqual([
      kvt('k1', '0+A', 0), kvt('k2', '0+A', 0), kvt('k2', '0+A+A', 1), kvt('k1', '0+A+A', 2),
      kvt('k1', '0+A+A-B', 3), kvt('k2', '0+A+A-B', 3), kvt('k2', '0+A+A-B-B', 4), kvt('k1', '0+A+A-B-B', 4),
    ]);
    expect(records.every((r) => r.start === 0 && r.end === 500)).toBe(true);
  });

  it('TimeWindowedCogroupedKStreamImplTest.timeWindowAggregateManyWindowsTest: 499 and 500 fall in different windows', async () => {
    const d = start(setUp(TimeWindows.ofSizeWithNoGrace(500), false).builder);
    const p = pipe(d, 'topic');
    for (const [k, ts] of [['k1', 0], ['k2', 499], ['k2', 500], ['k1', 500]] as const) await p(k, 'A', ts);
    expect(withoutWindow(readWindowed(d))).toEqual([kvt('k1', '0+A', 0), kvt('k2', '0+A', 499), kvt('k2', '0+A', 500), kvt('k1', '0+A', 500)]);
  });

  it('TimeWindowedCogroupedKStreamImplTest.timeWindowAggregateOverlappingWindowsTest: hopping windows update each window of a record', async () => {
    const d = start(setUp(TimeWindows.ofSizeWithNoGrace(500).advanceBy(200), false).builder);
    const p = pipe(d, 'topic');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k2', 'A', 0], ['k1', 'B', 250], ['k2', 'B', 250], ['k2', 'A', 500], ['k1', 'A', 500]] as const) await p(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([
      kvt('k1', '0+A', 0), kvt('k2', '0+A', 0), kvt('k1', '0+A+B', 250), kvt('k1', '0+B', 250), kvt('k2', '0+A+B', 250), kvt('k2', '0+B', 250),
      kvt('k2', '0+B+A', 500), kvt('k2', '0+A', 500), kvt('k1', '0+B+A', 500), kvt('k1', '0+A', 500),
    ]);
  });

  it('TimeWindowedCogroupedKStreamImplTest.timeWindowMixAggregatorsManyWindowsTest: the second input opens a new window', async () => {
    const d = start(setUp(TimeWindows.ofSizeWithNoGrace(500)).builder);
    const p1 = pipe(d, 'topic');
    const p2 = pipe(d, 'topic2');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k2', 'A', 0], ['k2', 'A', 1], ['k1', 'A', 2]] as const) await p1(k, v, ts);
    for (const [k, v, ts] of [['k1', 'B', 3], ['k2', 'B', 3], ['k2', 'B', 501], ['k1', 'B', 501]] as const) await p2(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([
      kvt('k1', '0+A', 0), kvt('k2', '0+A', 0), kvt('k2', '0+A+A', 1), kvt('k1', '0+A+A', 2),
      kvt('k1', '0+A+A-B', 3), kvt('k2', '0+A+A-B', 3), kvt('k2', '0-B', 501), kvt('k1', '0-B', 501),
    ]);
  });
});

describe('SlidingWindowedCogroupedKStreamImplTest (time difference 500 ms, grace 2 s)', () => {
  it('SlidingWindowedCogroupedKStreamImplTest.slidingWindowAggregateStreamsTest: left and right windows, both ends inclusive', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('topic', strings).groupByKey().cogroup(TOSTRING_ADDER)
      .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(500, 2000)).aggregate(STRING_INIT, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const p = pipe(d, 'topic');
    for (const [k, v, ts] of [['k1', 'A', 500], ['k2', 'A', 500], ['k2', 'A', 501], ['k1', 'A', 502], ['k1', 'B', 503], ['k2', 'B', 503], ['k2', 'B', 504], ['k1', 'B', 504]] as const) await p(k, v, ts);
    const r = (key: string, s: number, value: string, timestamp: number) => ({ key, start: s, end: s + 500, value, timestamp });
    expect(readWindowed(d)).toEqual([
      r('k1', 0, '0+A', 500), r('k2', 0, '0+A', 500),
      r('k2', 501, '0+A', 501), r('k2', 1, '0+A+A', 501),
      r('k1', 501, '0+A', 502), r('k1', 2, '0+A+A', 502),
      r('k1', 501, '0+A+B', 503), r('k1', 503, '0+B', 503), r('k1', 3, '0+A+A+B', 503),
      r('k2', 501, '0+A+B', 503), r('k2', 502, '0+B', 503), r('k2', 3, '0+A+A+B', 503),
      r('k2', 502, '0+B+B', 504), r('k2', 501, '0+A+B+B', 504), r('k2', 504, '0+B', 504), r('k2', 4, '0+A+A+B+B', 504),
      r('k1', 503, '0+B+B', 504), r('k1', 501, '0+A+B+B', 504), r('k1', 504, '0+B', 504), r('k1', 4, '0+A+A+B+B', 504),
    ]);
  });

  it('SlidingWindowedCogroupedKStreamImplTest.slidingWindowAggregateOverlappingWindowsTest: a record updates every window it falls in', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('topic', strings).groupByKey().cogroup(TOSTRING_ADDER)
      .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(500, 2000)).aggregate(STRING_INIT, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = start(builder);
    const p = pipe(d, 'topic');
    for (const [k, v, ts] of [['k1', 'A', 500], ['k2', 'A', 500], ['k1', 'B', 750], ['k2', 'B', 750], ['k2', 'A', 1000], ['k1', 'A', 1000]] as const) await p(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([
      kvt('k1', '0+A', 500), kvt('k2', '0+A', 500), kvt('k1', '0+B', 750), kvt('k1', '0+A+B', 750), kvt('k2', '0+B', 750), kvt('k2', '0+A+B', 750),
      kvt('k2', '0+B+A', 1000), kvt('k2', '0+A', 1000), kvt('k2', '0+A+B+A', 1000), kvt('k1', '0+B+A', 1000), kvt('k1', '0+A', 1000), kvt('k1', '0+A+B+A', 1000),
    ]);
  });
});

describe('SessionWindowedCogroupedKStreamImplTest', () => {
  function sessions(gap: SessionWindows, second: boolean): StreamsBuilder {
    const builder = new StreamsBuilder();
    let cogrouped = builder.stream<string, string>('topic', strings).groupByKey(strings).cogroup(TOSTRING_ADDER);
    if (second) cogrouped = cogrouped.cogroup(builder.stream<string, string>('topic2', strings).groupByKey(strings), TOSTRING_REMOVER);
    cogrouped.windowedBy(gap).aggregate(STRING_INIT, sessionMerger, Materialized.with(Serdes.string(), Serdes.string()))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    return builder;
  }

  it('SessionWindowedCogroupedKStreamImplTest.namedParamShouldSetName: Named names the session aggregation', () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('topic', strings).groupByKey().cogroup(TOSTRING_ADDER)
      .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(1)).aggregate(STRING_INIT, sessionMerger, { name: 'foo' });
    const description = builder.build().describe();
    expect(description).toContain('Processor: foo-cogroup-agg-0 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000001])\n      --> foo-cogroup-merge\n');
  });

  it('SessionWindowedCogroupedKStreamImplTest.sessionWindowAggregateTest: records further apart than the gap open new sessions', async () => {
    const d = start(sessions(SessionWindows.ofInactivityGapWithNoGrace(500), false));
    const p = pipe(d, 'topic');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k2', 'A', 0], ['k1', 'B', 599], ['k2', 'B', 607]] as const) await p(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([kvt('k1', '0+A', 0), kvt('k2', '0+A', 0), kvt('k1', '0+B', 599), kvt('k2', '0+B', 607)]);
  });

  it('SessionWindowedCogroupedKStreamImplTest.sessionWindowAggregate2Test: a record in a session merges it with the merger', async () => {
    const d = start(sessions(SessionWindows.ofInactivityGapWithNoGrace(500), false));
    const p = pipe(d, 'topic');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k1', 'A', 0], ['k2', 'B', 599], ['k1', 'B', 607]] as const) await p(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([kvt('k1', '0+A', 0), kvt('k1', '0+0+A+A', 0), kvt('k2', '0+B', 599), kvt('k1', '0+B', 607)]);
  });

  it('SessionWindowedCogroupedKStreamImplTest.sessionWindowAggregateTest2StreamsTest: a merged-away session becomes a tombstone at its end', async () => {
    const d = start(sessions(SessionWindows.ofInactivityGapAndGrace(100, 86_400_000), true));
    const p = pipe(d, 'topic');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k1', 'A', 84], ['k1', 'A', 113], ['k1', 'A', 199], ['k1', 'B', 300], ['k2', 'B', 301], ['k2', 'B', 400], ['k1', 'B', 400]] as const) await p(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([
      kvt('k1', '0+A', 0), kvt('k1', null, 0), kvt('k1', '0+0+A+A', 84), kvt('k1', null, 84), kvt('k1', '0+0+0+A+A+A', 113), kvt('k1', null, 113),
      kvt('k1', '0+0+0+0+A+A+A+A', 199), kvt('k1', '0+B', 300), kvt('k2', '0+B', 301), kvt('k2', null, 301), kvt('k2', '0+0+B+B', 400),
      kvt('k1', null, 300), kvt('k1', '0+0+B+B', 400),
    ]);
  });

  it('SessionWindowedCogroupedKStreamImplTest.sessionWindowMixAggregatorsTest: both inputs grow and merge one session', async () => {
    const d = start(sessions(SessionWindows.ofInactivityGapAndGrace(100, 86_400_000), true));
    const p1 = pipe(d, 'topic');
    const p2 = pipe(d, 'topic2');
    for (const [k, v, ts] of [['k1', 'A', 0], ['k2', 'A', 0], ['k2', 'A', 1], ['k1', 'A', 2]] as const) await p1(k, v, ts);
    for (const [k, v, ts] of [['k1', 'B', 3], ['k2', 'B', 3], ['k2', 'B', 444], ['k1', 'B', 444]] as const) await p2(k, v, ts);
    expect(withoutWindow(readWindowed(d))).toEqual([
      kvt('k1', '0+A', 0), kvt('k2', '0+A', 0), kvt('k2', null, 0), kvt('k2', '0+0+A+A', 1), kvt('k1', null, 0), kvt('k1', '0+0+A+A', 2),
      kvt('k1', null, 2), kvt('k1', '0+0+0+A+A-B', 3), kvt('k2', null, 1), kvt('k2', '0+0+0+A+A-B', 3), kvt('k2', '0-B', 444), kvt('k1', '0-B', 444),
    ]);
  });
});
