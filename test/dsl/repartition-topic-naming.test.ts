/*
 * Ported from Kafka Streams' RepartitionTopicNamingTest: a named grouping or join keeps its
 * repartition topic's name whatever operators come before it; one KGroupedStream/KGroupedTable
 * grouped under a name repartitions once for all its aggregations, unnamed it repartitions per
 * aggregation; two groupings or joins that give the same repartition name fail the build.
 * shouldReuseFirstRepartitionTopicNameWhenOptimizing is ported for its unoptimized topology, with
 * Kafka's expected text; its optimized half and the ...OptimizationsOn/...Optimized cases need
 * topology optimization, which Tributary does not do (see the porting page).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Grouped, JoinWindows, Materialized, Produced, Serdes, SessionWindows, StreamJoined, StreamsBuilder, TimeWindows } from 'tributary';

const repartitionSinks = (topology: string): number => topology.match(/Sink: .*-repartition/g)?.length ?? 0;
const kvMapper = (k: string, v: string): string => k + v;

function buildKTableGroupBy(otherOperations: boolean): string {
  const builder = new StreamsBuilder();
  const ktable = builder.table<string, string>('topic');
  (otherOperations ? ktable.filter(() => true) : ktable).groupBy((k, v) => [k, v] as const, Grouped.as('ktable-group-by')).count();
  return builder.build().describe();
}

function buildStreamGrouping(windows: 'time' | 'session' | 'none', otherOperations: boolean, isGroupByKey: boolean, name: string): string {
  const builder = new StreamsBuilder();
  const selectKeyStream = builder.stream<string, string>('topic').selectKey((k, v) => k + v);
  const before = otherOperations ? selectKeyStream.filter(() => true).mapValues((v) => v) : selectKeyStream;
  const grouped = isGroupByKey ? before.groupByKey(Grouped.as(name)) : before.groupBy(kvMapper, Grouped.as(name));
  if (windows === 'time' && isGroupByKey) grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count();
  else if (windows === 'session') grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10)).count();
  else grouped.count();
  return builder.build().describe();
}

function buildStreamJoin(includeOtherOperations: boolean): string {
  const builder = new StreamsBuilder();
  const one = builder.stream<string, string>('topic-one').selectKey((k, v) => k + v);
  const two = builder.stream<string, string>('topic-two').selectKey((k, v) => k + v);
  const updatedOne = includeOtherOperations ? one.filter(() => true).peek(() => {}) : one;
  const updatedTwo = includeOtherOperations ? two.filter(() => true).peek(() => {}) : two;
  updatedOne.join(updatedTwo, (v1, v2) => v1 + v2, JoinWindows.ofTimeDifferenceWithNoGrace(1000), StreamJoined.with(Serdes.string(), Serdes.string(), Serdes.string()).withName('my-join'));
  return builder.build().describe();
}

/** RepartitionTopicNamingTest.buildTopology(NO_OPTIMIZATION): four named repartitions of one re-keyed stream. */
function buildTopology(): string {
  const builder = new StreamsBuilder();
  const sourceStream = builder.stream<string, string>('input', { keySerde: Serdes.string(), valueSerde: Serdes.string() });
  const mappedStream = sourceStream.map((k, v) => [k.toUpperCase(), v] as const);
  mappedStream.filter((k) => k === 'B').mapValues((v) => v.toUpperCase()).process(() => ({ process: () => {} }));
  const countStream = mappedStream.groupByKey(Grouped.as('count-stream')).count(Materialized.with(Serdes.string(), Serdes.int64())).toStream();
  countStream.to('outputTopic_0', Produced.with(Serdes.string(), Serdes.nullable(Serdes.int64())));
  mappedStream.groupByKey(Grouped.as('aggregate-stream')).aggregate(() => 0, (_k, v, agg: number) => agg + v.length, Materialized.with(Serdes.string(), Serdes.int32()))
    .toStream().to('outputTopic_1', Produced.with(Serdes.string(), Serdes.nullable(Serdes.int32())));
  mappedStream.filter(() => true).peek(() => {}).groupByKey(Grouped.as('reduced-stream'))
    .reduce((v1, v2) => `${v1}:${v2}`, Materialized.with(Serdes.string(), Serdes.string()))
    .toStream().to('outputTopic_2', Produced.with(Serdes.string(), Serdes.nullable(Serdes.string())));
  mappedStream.filter((k) => k === 'A')
    .join(countStream, (v1, v2) => `${v1}:${String(v2)}`, JoinWindows.ofTimeDifferenceWithNoGrace(5000),
      StreamJoined.with(Serdes.string(), Serdes.string(), Serdes.nullable(Serdes.int64())).withStoreName('joined-stream').withName('joined-stream'))
    .to('outputTopicForJoin');
  return builder.build().describe();
}

describe('RepartitionTopicNamingTest', () => {
  it('shouldReuseFirstRepartitionTopicNameWhenOptimizing (its unoptimized topology): Kafka\'s text, byte for byte', () => {
    const topology = buildTopology();
    expect(topology).toBe(readFileSync(new URL('../fixtures/kafka-describe/repartition-topic-naming-unoptimized.txt', import.meta.url), 'utf8'));
    expect(repartitionSinks(topology)).toBe(4);
  });

  it('shouldFailWithSameRepartitionTopicName', () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('topic').selectKey((k) => k).groupByKey(Grouped.as('grouping')).count().toStream();
    builder.stream<string, string>('topicII').selectKey((k) => k).groupByKey(Grouped.as('grouping')).count().toStream();
    expect(() => builder.build()).toThrow();
  });

  it('shouldNotFailWithSameRepartitionTopicNameUsingSameKGroupedStream', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream<string, string>('topic').selectKey((k) => k).groupByKey(Grouped.as('grouping'));
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count().toStream().to('output-one');
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(30)).count().toStream().to('output-two');
    const topology = builder.build().describe();
    expect(repartitionSinks(topology)).toBe(1);
    expect(topology).toContain('grouping-repartition');
  });

  it('shouldNotFailWithSameRepartitionTopicNameUsingSameTimeWindowStream', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream<string, string>('topic').selectKey((k) => k).groupByKey(Grouped.as('grouping'));
    const windowed = grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10));
    windowed.count().toStream().to('output-one');
    windowed.reduce((v, v2) => v + v2).toStream().to('output-two');
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(30)).count().toStream().to('output-two');
    const topology = builder.build().describe();
    expect(repartitionSinks(topology)).toBe(1);
    expect(topology).toContain('grouping-repartition');
  });

  it('shouldNotFailWithSameRepartitionTopicNameUsingSameSessionWindowStream', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream<string, string>('topic').selectKey((k) => k).groupByKey(Grouped.as('grouping'));
    const sessions = grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10));
    sessions.count().toStream().to('output-one');
    sessions.reduce((v, v2) => v + v2).toStream().to('output-two');
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(30)).count().toStream().to('output-two');
    const topology = builder.build().describe();
    expect(repartitionSinks(topology)).toBe(1);
    expect(topology).toContain('grouping-repartition');
  });

  it('shouldNotFailWithSameRepartitionTopicNameUsingSameKGroupedTable', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.table<string, string>('topic').groupBy((k, v) => [k, v] as const, Grouped.as('grouping'));
    grouped.count().toStream().to('output-count');
    grouped.reduce((_v, v2) => v2, (_v, v2) => v2).toStream().to('output-reduce');
    const topology = builder.build().describe();
    expect(repartitionSinks(topology)).toBe(1);
    expect(topology).toContain('grouping-repartition');
  });

  it('shouldNotReuseRepartitionNodeWithUnnamedRepartitionTopics', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream<string, string>('topic').selectKey((k) => k).groupByKey();
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count().toStream().to('output-one');
    grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(30)).count().toStream().to('output-two');
    expect(repartitionSinks(builder.build().describe())).toBe(2);
  });

  it('shouldNotReuseRepartitionNodeWithUnnamedRepartitionTopicsKGroupedTable', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.table<string, string>('topic').groupBy((k, v) => [k, v] as const);
    grouped.count().toStream().to('output-count');
    grouped.reduce((_v, v2) => v2, (_v, v2) => v2).toStream().to('output-reduce');
    expect(repartitionSinks(builder.build().describe())).toBe(2);
  });

  it('shouldFailWithSameRepartitionTopicNameInJoin', () => {
    const builder = new StreamsBuilder();
    const stream1 = builder.stream<string, string>('topic').selectKey((k) => k);
    const stream2 = builder.stream<string, string>('topic2').selectKey((k) => k);
    const stream3 = builder.stream<string, string>('topic3').selectKey((k) => k);
    const build = (): void => {
      const joined = stream1.join(stream2, (v1, v2) => v1 + v2, JoinWindows.ofTimeDifferenceWithNoGrace(30), StreamJoined.as<string, string, string>('join-store').withName('join-repartition'));
      joined.join(stream3, (v1, v2) => v1 + v2, JoinWindows.ofTimeDifferenceWithNoGrace(30), StreamJoined.as<string, string, string>('join-store').withName('join-repartition'));
      builder.build();
    };
    expect(build).toThrow();
  });

  it('shouldKeepRepartitionTopicNameForJoins', () => {
    for (const other of [false, true]) {
      const topology = buildStreamJoin(other);
      expect(topology).toContain('(topic: my-join-left-repartition)');
      expect(topology).toContain('(topic: my-join-right-repartition)');
    }
  });

  for (const [test, windows, isGroupByKey, topic] of [
    ['shouldKeepRepartitionTopicNameForGroupByKeyTimeWindows', 'time', true, 'time-window-grouping'],
    ['shouldKeepRepartitionTopicNameForGroupByTimeWindows', 'time', false, 'time-window-grouping'],
    ['shouldKeepRepartitionTopicNameForGroupByKeyNoWindows', 'none', true, 'kstream-grouping'],
    ['shouldKeepRepartitionTopicNameForGroupByNoWindows', 'none', false, 'kstream-grouping'],
    ['shouldKeepRepartitionTopicNameForGroupByKeySessionWindows', 'session', true, 'session-window-grouping'],
    ['shouldKeepRepartitionTopicNameForGroupBySessionWindows', 'session', false, 'session-window-grouping'],
  ] as const) {
    it(test, () => {
      for (const other of [false, true]) expect(buildStreamGrouping(windows, other, isGroupByKey, topic)).toContain(`(topic: ${topic}-repartition)`);
    });
  }

  it('shouldKeepRepartitionNameForGroupByKTable', () => {
    for (const other of [false, true]) expect(buildKTableGroupBy(other)).toContain('(topic: ktable-group-by-repartition)');
  });
});
