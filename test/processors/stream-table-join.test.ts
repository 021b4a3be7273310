import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver, type KStream, type KTable, type TestInputTopic, type TestOutputTopic } from 'tributary';
import { consumed, drain, intKeys, kvt, newBuilder, nullableIntKeys, strings, toStringJoiner } from './join-test-utils.ts';

const streamTopic = 'streamTopic';
const tableTopic = 'tableTopic';
const keys = [0, 1, 2, 3];

interface Setup {
  driver: TopologyTestDriver;
  stream: TestInputTopic<number, string>;
  table: TestInputTopic<number, string | null>;
  output: TestOutputTopic<number | null, string>;
}

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function setUp(join: (stream: KStream<number, string>, table: KTable<number, string>) => KStream<number, string>): Setup {
  const builder = newBuilder();
  join(builder.stream(streamTopic, consumed), builder.table(tableTopic, consumed)).to('output', { keySerde: intKeys, valueSerde: strings });
  driver = new TopologyTestDriver(builder.build());
  return {
    driver,
    stream: driver.createInputTopic(streamTopic, intKeys, strings, { startTimestamp: 0 }),
    table: driver.createInputTopic(tableTopic, intKeys, strings as never, { startTimestamp: 0 }),
    output: driver.createOutputTopic('output', nullableIntKeys, strings),
  };
}

async function pushToStream(s: Setup, count: number, prefix: string, start = 0): Promise<void> {
  for (let i = 0; i < count; i++) await s.stream.pipeInput(keys[i]!, prefix + keys[i], start + i);
}

async function pushToTable(s: Setup, count: number, prefix: string, start = 0): Promise<void> {
  for (let i = 0; i < count; i++) await s.table.pipeInput(keys[i]!, prefix + keys[i], start + i);
}

async function pushNullValuesToTable(s: Setup, count: number, start = 0): Promise<void> {
  for (let i = 0; i < count; i++) await s.table.pipeInput(keys[i]!, null, start + i);
}

describe('KStream-KTable inner join (ported from KStreamKTableJoinTest)', () => {
  const inner = (stream: KStream<number, string>, table: KTable<number, string>) => stream.join(table, toStringJoiner);

  it('KStreamKTableJoinTest.shouldRequireCopartitionedStreams: the stream and table topics form one co-partition group', () => {
    const builder = newBuilder();
    builder.stream(streamTopic, consumed).join(builder.table(tableTopic, consumed), toStringJoiner);
    expect(builder.build().copartitionGroups()).toEqual([[streamTopic, tableTopic].sort()]);
  });

  it('KStreamKTableJoinTest.shouldNotJoinWithEmptyTableOnStreamUpdates: nothing joins an empty table', async () => {
    const s = setUp(inner);
    await pushToStream(s, 2, 'X');
    expect(drain(s.output)).toEqual([]);
  });

  it('KStreamKTableJoinTest.shouldNotJoinOnTableUpdates: only stream records trigger output, with the table as it is then', async () => {
    const s = setUp(inner);
    await pushToStream(s, 2, 'X');
    expect(drain(s.output)).toEqual([]);
    await pushToTable(s, 2, 'Y', 1_000);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 0), kvt(1, 'X1+Y1', 1)]);
    await pushToTable(s, 4, 'YY', 2_000);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+YY0', 0), kvt(1, 'X1+YY1', 1), kvt(2, 'X2+YY2', 2), kvt(3, 'X3+YY3', 3)]);
    await pushToTable(s, 4, 'YYY', 3_000);
    expect(drain(s.output)).toEqual([]);
  });

  it('KStreamKTableJoinTest.shouldJoinOnlyIfMatchFoundOnStreamUpdates: keys missing from the table give nothing', async () => {
    const s = setUp(inner);
    await pushToTable(s, 2, 'Y');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 0), kvt(1, 'X1+Y1', 1)]);
  });

  it('KStreamKTableJoinTest.shouldClearTableEntryOnNullValueUpdates: a table tombstone removes the key from later joins', async () => {
    const s = setUp(inner);
    await pushToTable(s, 4, 'Y');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 0), kvt(1, 'X1+Y1', 1), kvt(2, 'X2+Y2', 2), kvt(3, 'X3+Y3', 3)]);
    await pushNullValuesToTable(s, 2);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'XX');
    expect(drain(s.output)).toEqual([kvt(2, 'XX2+Y2', 2), kvt(3, 'XX3+Y3', 3)]);
  });

  it('KStreamKTableJoinTest.shouldLogAndMeterWhenSkippingNullLeftKey: a stream record with a null key is dropped and counted', async () => {
    const s = setUp(inner);
    await pushToTable(s, 1, 'Y');
    await s.stream.pipeInput(null as unknown as number, 'A');
    expect(drain(s.output)).toEqual([]);
    expect(s.driver.metrics().dropped).toBe(1);
  });

  it('KStreamKTableJoinTest.shouldLogAndMeterWhenSkippingNullLeftValue: a stream record with a null value is dropped and counted', async () => {
    const s = setUp(inner);
    await pushToTable(s, 2, 'Y');
    await s.stream.pipeInput(1, null as unknown as string);
    expect(drain(s.output)).toEqual([]);
    expect(s.driver.metrics().dropped).toBe(1);
  });

  it('KStreamKTableJoinTest.shouldReuseRepartitionTopicWithGeneratedName: two unnamed joins of one re-keyed stream share one repartition topic named after the map', () => {
    const builder = newBuilder();
    const streamA = builder.stream<string, string>('topic', { keySerde: strings, valueSerde: strings });
    const tableB = builder.table<string, string>('topic2', { keySerde: strings, valueSerde: strings });
    const tableC = builder.table<string, string>('topic3', { keySerde: strings, valueSerde: strings });
    const rekeyed = streamA.map((k, v) => [v, k] as const);
    rekeyed.join(tableB, (v1, v2) => v1 + v2).to('out-one');
    rekeyed.join(tableC, (v1, v2) => v1 + v2).to('out-two');
    expect(builder.build().describe()).toBe(
      'Topologies:\n'
      + '   Sub-topology: 0\n'
      + '    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])\n'
      + '      --> KSTREAM-MAP-0000000007\n'
      + '    Processor: KSTREAM-MAP-0000000007 (stores: [])\n'
      + '      --> KSTREAM-FILTER-0000000009\n'
      + '      <-- KSTREAM-SOURCE-0000000000\n'
      + '    Processor: KSTREAM-FILTER-0000000009 (stores: [])\n'
      + '      --> KSTREAM-SINK-0000000008\n'
      + '      <-- KSTREAM-MAP-0000000007\n'
      + '    Sink: KSTREAM-SINK-0000000008 (topic: KSTREAM-MAP-0000000007-repartition)\n'
      + '      <-- KSTREAM-FILTER-0000000009\n'
      + '\n'
      + '  Sub-topology: 1\n'
      + '    Source: KSTREAM-SOURCE-0000000010 (topics: [KSTREAM-MAP-0000000007-repartition])\n'
      + '      --> KSTREAM-JOIN-0000000011, KSTREAM-JOIN-0000000016\n'
      + '    Processor: KSTREAM-JOIN-0000000011 (stores: [topic2-STATE-STORE-0000000001])\n'
      + '      --> KSTREAM-SINK-0000000012\n'
      + '      <-- KSTREAM-SOURCE-0000000010\n'
      + '    Processor: KSTREAM-JOIN-0000000016 (stores: [topic3-STATE-STORE-0000000004])\n'
      + '      --> KSTREAM-SINK-0000000017\n'
      + '      <-- KSTREAM-SOURCE-0000000010\n'
      + '    Source: KSTREAM-SOURCE-0000000002 (topics: [topic2])\n'
      + '      --> KTABLE-SOURCE-0000000003\n'
      + '    Source: KSTREAM-SOURCE-0000000005 (topics: [topic3])\n'
      + '      --> KTABLE-SOURCE-0000000006\n'
      + '    Sink: KSTREAM-SINK-0000000012 (topic: out-one)\n'
      + '      <-- KSTREAM-JOIN-0000000011\n'
      + '    Sink: KSTREAM-SINK-0000000017 (topic: out-two)\n'
      + '      <-- KSTREAM-JOIN-0000000016\n'
      + '    Processor: KTABLE-SOURCE-0000000003 (stores: [topic2-STATE-STORE-0000000001])\n'
      + '      --> none\n'
      + '      <-- KSTREAM-SOURCE-0000000002\n'
      + '    Processor: KTABLE-SOURCE-0000000006 (stores: [topic3-STATE-STORE-0000000004])\n'
      + '      --> none\n'
      + '      <-- KSTREAM-SOURCE-0000000005\n\n',
    );
  });

  it('KStreamKTableJoinTest.shouldCreateRepartitionTopicsWithUserProvidedName: a re-keyed stream is repartitioned through <name>-repartition', async () => {
    const builder = newBuilder();
    const streamA = builder.stream<string, string>('topic', { keySerde: strings, valueSerde: strings });
    const tableB = builder.table<string, string>('topic2', { keySerde: strings, valueSerde: strings });
    const tableC = builder.table<string, string>('topic3', { keySerde: strings, valueSerde: strings });
    const rekeyed = streamA.map((k, v) => [v, k] as const);
    rekeyed.join(tableB, (v1, v2) => v1 + v2, { name: 'first-join' }).to('out-one');
    rekeyed.join(tableC, (v1, v2) => v1 + v2, { name: 'second-join' }).to('out-two');
    const topology = builder.build();
    expect(topology.describe()).toBe(
      'Topologies:\n'
      + '   Sub-topology: 0\n'
      + '    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])\n'
      + '      --> KSTREAM-MAP-0000000007\n'
      + '    Processor: KSTREAM-MAP-0000000007 (stores: [])\n'
      + '      --> first-join-repartition-filter, second-join-repartition-filter\n'
      + '      <-- KSTREAM-SOURCE-0000000000\n'
      + '    Processor: first-join-repartition-filter (stores: [])\n'
      + '      --> first-join-repartition-sink\n'
      + '      <-- KSTREAM-MAP-0000000007\n'
      + '    Processor: second-join-repartition-filter (stores: [])\n'
      + '      --> second-join-repartition-sink\n'
      + '      <-- KSTREAM-MAP-0000000007\n'
      + '    Sink: first-join-repartition-sink (topic: first-join-repartition)\n'
      + '      <-- first-join-repartition-filter\n'
      + '    Sink: second-join-repartition-sink (topic: second-join-repartition)\n'
      + '      <-- second-join-repartition-filter\n'
      + '\n'
      + '  Sub-topology: 1\n'
      + '    Source: first-join-repartition-source (topics: [first-join-repartition])\n'
      + '      --> first-join\n'
      + '    Source: KSTREAM-SOURCE-0000000002 (topics: [topic2])\n'
      + '      --> KTABLE-SOURCE-0000000003\n'
      + '    Processor: first-join (stores: [topic2-STATE-STORE-0000000001])\n'
      + '      --> KSTREAM-SINK-0000000012\n'
      + '      <-- first-join-repartition-source\n'
      + '    Sink: KSTREAM-SINK-0000000012 (topic: out-one)\n'
      + '      <-- first-join\n'
      + '    Processor: KTABLE-SOURCE-0000000003 (stores: [topic2-STATE-STORE-0000000001])\n'
      + '      --> none\n'
      + '      <-- KSTREAM-SOURCE-0000000002\n'
      + '\n'
      + '  Sub-topology: 2\n'
      + '    Source: second-join-repartition-source (topics: [second-join-repartition])\n'
      + '      --> second-join\n'
      + '    Source: KSTREAM-SOURCE-0000000005 (topics: [topic3])\n'
      + '      --> KTABLE-SOURCE-0000000006\n'
      + '    Processor: second-join (stores: [topic3-STATE-STORE-0000000004])\n'
      + '      --> KSTREAM-SINK-0000000017\n'
      + '      <-- second-join-repartition-source\n'
      + '    Sink: KSTREAM-SINK-0000000017 (topic: out-two)\n'
      + '      <-- second-join\n'
      + '    Processor: KTABLE-SOURCE-0000000006 (stores: [topic3-STATE-STORE-0000000004])\n'
      + '      --> none\n'
      + '      <-- KSTREAM-SOURCE-0000000005\n\n',
    );
    expect(topology.copartitionGroups()).toEqual([['first-join-repartition', 'topic2'], ['second-join-repartition', 'topic3']]);

    driver = new TopologyTestDriver(topology, { applicationId: 'app' });
    await driver.createInputTopic('topic2', strings, strings).pipeInput('b', 'B', 1);
    await driver.createInputTopic('topic', strings, strings).pipeInput('a', 'b', 5);
    expect(drain(driver.createOutputTopic('out-one', strings, strings))).toEqual([kvt('b', 'aB', 5)]);
  });
});

describe('KStream-KTable left join (ported from KStreamKTableLeftJoinTest)', () => {
  const left = (stream: KStream<number, string>, table: KTable<number, string>) => stream.leftJoin(table, toStringJoiner);

  it('KStreamKTableLeftJoinTest.shouldRequireCopartitionedStreams: the stream and table topics form one co-partition group', () => {
    const builder = newBuilder();
    builder.stream(streamTopic, consumed).leftJoin(builder.table(tableTopic, consumed), toStringJoiner);
    expect(builder.build().copartitionGroups()).toEqual([[streamTopic, tableTopic].sort()]);
  });

  it('KStreamKTableLeftJoinTest.shouldJoinWithEmptyTableOnStreamUpdates: every stream record gives a result, null when the table has no row', async () => {
    const s = setUp(left);
    await pushToStream(s, 2, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+null', 0), kvt(1, 'X1+null', 1)]);
  });

  it('KStreamKTableLeftJoinTest.shouldNotJoinOnTableUpdates: table updates never trigger output', async () => {
    const s = setUp(left);
    await pushToStream(s, 2, 'X', 0);
    expect(drain(s.output)).toEqual([kvt(0, 'X0+null', 0), kvt(1, 'X1+null', 1)]);
    await pushToTable(s, 2, 'Y', 10);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X', 20);
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 20), kvt(1, 'X1+Y1', 21), kvt(2, 'X2+null', 22), kvt(3, 'X3+null', 23)]);
    await pushToTable(s, 4, 'YY', 30);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X', 40);
    expect(drain(s.output)).toEqual([kvt(0, 'X0+YY0', 40), kvt(1, 'X1+YY1', 41), kvt(2, 'X2+YY2', 42), kvt(3, 'X3+YY3', 43)]);
    await pushToTable(s, 4, 'YYY', 50);
    expect(drain(s.output)).toEqual([]);
  });

  it('KStreamKTableLeftJoinTest.shouldJoinRegardlessIfMatchFoundOnStreamUpdates: matched and unmatched keys both give results', async () => {
    const s = setUp(left);
    await pushToTable(s, 2, 'Y', 0);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X', 10);
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 10), kvt(1, 'X1+Y1', 11), kvt(2, 'X2+null', 12), kvt(3, 'X3+null', 13)]);
  });

  it('KStreamKTableLeftJoinTest.shouldClearTableEntryOnNullValueUpdates: after a table tombstone the key joins with null', async () => {
    const s = setUp(left);
    await pushToTable(s, 4, 'Y', 0);
    await pushToStream(s, 4, 'X', 10);
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 10), kvt(1, 'X1+Y1', 11), kvt(2, 'X2+Y2', 12), kvt(3, 'X3+Y3', 13)]);
    await pushNullValuesToTable(s, 2, 20);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'XX', 30);
    expect(drain(s.output)).toEqual([kvt(0, 'XX0+null', 30), kvt(1, 'XX1+null', 31), kvt(2, 'XX2+Y2', 32), kvt(3, 'XX3+Y3', 33)]);
  });

  it('reference rule: a left join emits joiner(value, null) for a null-key record and drops a null value', async () => {
    const s = setUp(left);
    await pushToTable(s, 1, 'Y');
    await s.stream.pipeInput(null as unknown as number, 'A', 7);
    await s.stream.pipeInput(0, null as unknown as string, 8);
    expect(drain(s.output)).toEqual([kvt(null, 'A+null', 7)]);
    expect(s.driver.metrics().dropped).toBe(1);
  });
});
