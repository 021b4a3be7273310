/*
 * Ported from Kafka Streams' KStreamKTableJoinTest (the versioned-table and grace-period cases:
 * makeJoin, shouldDelayJoinByGracePeriod, shouldHandleLateJoinsWithGracePeriod and the
 * shouldFail* topology checks), with their expected outputs, plus the as-of rule they rely on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Joined, Materialized, Stores, TopologyError, TopologyTestDriver, type TestInputTopic, type TestOutputTopic } from 'tributary';
import { consumed, drain, expectedKeys, intKeys, kvt, newBuilder, nullableIntKeys, strings, toStringJoiner } from './join-test-utils.ts';

const streamTopic = 'streamTopic';
const tableTopic = 'tableTopic2';

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

/** Kafka's `makeJoin(grace)`: the stream joined with a table versioned for 5 minutes ('V-grace'). */
function makeJoin(options: { gracePeriod?: number; left?: boolean } = {}): Setup {
  const builder = newBuilder();
  const table = builder.table<number, string>(tableTopic, consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('V-grace', '5m')));
  const stream = builder.stream(streamTopic, consumed);
  // Kafka's Joined.with(Serdes.Integer(), Serdes.String(), Serdes.String(), "Grace", grace)
  const joined = Joined.with(intKeys, strings, strings, 'Grace', options.gracePeriod);
  (options.left ? stream.leftJoin(table, toStringJoiner, joined) : stream.join(table, toStringJoiner, joined)).to('output', { keySerde: intKeys, valueSerde: strings });
  driver = new TopologyTestDriver(builder.build());
  return {
    driver,
    stream: driver.createInputTopic(streamTopic, intKeys, strings, { startTimestamp: 0 }),
    table: driver.createInputTopic(tableTopic, intKeys, strings as never, { startTimestamp: 0 }),
    output: driver.createOutputTopic('output', nullableIntKeys, strings),
  };
}

async function pushToStream(s: Setup, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) await s.stream.pipeInput(expectedKeys[i]!, prefix + expectedKeys[i], i);
}

async function pushToTableNonRandom(s: Setup, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) await s.table.pipeInput(expectedKeys[i]!, prefix + expectedKeys[i], 0);
}

describe('KStream-KTable join with a grace period (ported from KStreamKTableJoinTest)', () => {
  it('KStreamKTableJoinTest.shouldDelayJoinByGracePeriod: records wait until stream time passes them by the grace, then join in timestamp order', async () => {
    const s = makeJoin({ gracePeriod: 2 });
    await pushToTableNonRandom(s, 4, 'Y');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 0), kvt(1, 'X1+Y1', 1)]);
    await pushToTableNonRandom(s, 4, 'YY');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+YY0', 0), kvt(1, 'X1+YY1', 1)]);
    await s.stream.pipeInput(5, 'test', 7);
    expect(drain(s.output)).toEqual([kvt(2, 'X2+YY2', 2), kvt(2, 'X2+YY2', 2), kvt(3, 'X3+YY3', 3), kvt(3, 'X3+YY3', 3)]);
    await pushToTableNonRandom(s, 4, 'YYY');
    expect(drain(s.output)).toEqual([]);
  });

  it('KStreamKTableJoinTest.shouldHandleLateJoinsWithGracePeriod: a record already past the grace joins at once and evicts nothing', async () => {
    const s = makeJoin({ gracePeriod: 2 });
    await pushToTableNonRandom(s, 4, 'Y');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 0), kvt(1, 'X1+Y1', 1)]);
    await pushToStream(s, 1, 'X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 0)]);
  });

  it('KStreamKTableJoinTest.shouldFailIfTableIsNotVersioned: a grace period needs a versioned table', () => {
    const builder = newBuilder();
    const streamA = builder.stream('topic', consumed);
    const tableB = builder.table('topic2', consumed);
    expect(() => streamA.join(tableB, (a, b) => a + b, { name: 'first-join', gracePeriod: 6 })).toThrow(TopologyError);
    expect(() => streamA.join(tableB, (a, b) => a + b, { name: 'first-join-2', gracePeriod: 6 })).toThrow(/^KTable must be versioned to use a grace period in a stream table join\. .*builder\.table\(topic, consumed, \{ versioned: \{ historyRetention \} \}\)/);
  });

  it('KStreamKTableJoinTest.shouldFailIfTableIsNotVersionedButMaterializationIsInherited: a filtered table is not versioned', () => {
    const builder = newBuilder();
    const streamA = builder.stream('topic', consumed);
    const tableB = builder.table('topic2', consumed, Materialized.as('tableB')).filter(() => true);
    expect(() => streamA.join(tableB, (a, b) => a + b, { name: 'first-join', gracePeriod: 6 })).toThrow(/^KTable must be versioned to use a grace period/);
  });

  it('KStreamKTableJoinTest.shouldFailIfGracePeriodIsLongerThanHistoryRetention', () => {
    const builder = newBuilder();
    const streamA = builder.stream('topic', consumed);
    const tableB = builder.table('topic2', consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('tableB', '5m')));
    expect(() => streamA.join(tableB, (a, b) => a + b, Joined.as<number, string, string>('first-join').withGracePeriod('6m'))).toThrow(/^History retention must be at least grace period\. Join 'first-join' has gracePeriod 360000 ms, table store 'tableB' historyRetention 300000 ms/);
  });

  it('the grace buffer is a store named <join>-Buffer beside the table store, listed on the join processor', () => {
    const builder = newBuilder();
    const table = builder.table(tableTopic, consumed, { versioned: { historyRetention: '5m' } });
    builder.stream(streamTopic, consumed).join(table, toStringJoiner, { name: 'Grace', gracePeriod: 2 }).to('output');
    const topology = builder.build();
    expect(topology.describe()).toContain('Processor: Grace (stores: [tableTopic2-STATE-STORE-0000000000, Grace-Buffer])');
  });

  it('an aggregation materialized as a versioned store is accepted, as in Kafka Streams, and a grace join reads its history', () => {
    const builder = newBuilder();
    const grouped = builder.table('topic2', consumed).groupBy((k, v) => [k, v] as const);
    const counts = grouped.count({ storeName: 'counts', versioned: { historyRetention: '1m' } });
    builder.stream<number, string>('topic1', consumed).join(counts, (v, n) => `${v}${n}`, { name: 'G', gracePeriod: '1m' }).to('out');
    expect(builder.build().describe()).toContain('Processor: G (stores: [counts, G-Buffer])');
  });
});

describe('KStream-KTable join against a versioned table: the table as of the stream record', () => {
  it('without a grace period, an out-of-order stream record joins the table version valid at its timestamp', async () => {
    const s = makeJoin();
    await s.table.pipeInput(0, 'A', 10);
    await s.table.pipeInput(0, 'B', 20);
    await s.stream.pipeInput(0, 'x', 25);
    await s.stream.pipeInput(0, 'y', 15);
    await s.stream.pipeInput(0, 'z', 5);
    expect(drain(s.output)).toEqual([kvt(0, 'x+B', 25), kvt(0, 'y+A', 15)]);
  });

  it('a left join gives null for a time before the key existed or after it was deleted', async () => {
    const s = makeJoin({ left: true });
    await s.table.pipeInput(0, 'A', 10);
    await s.table.pipeInput(0, null, 20);
    await s.stream.pipeInput(0, 'x', 25);
    await s.stream.pipeInput(0, 'y', 15);
    await s.stream.pipeInput(0, 'z', 5);
    expect(drain(s.output)).toEqual([kvt(0, 'x+null', 25), kvt(0, 'y+A', 15), kvt(0, 'z+null', 5)]);
  });

  it('with a grace period, a table update that arrives after the stream record, but before the grace ends, is joined', async () => {
    const s = makeJoin({ gracePeriod: 10 });
    await s.stream.pipeInput(0, 'x', 100);
    await s.table.pipeInput(0, 'late-table-row', 95);
    expect(drain(s.output)).toEqual([]);
    await s.stream.pipeInput(1, 'tick', 110);
    expect(drain(s.output)).toEqual([kvt(0, 'x+late-table-row', 100)]);
  });

  it('an out-of-order table update older than the latest changes the history only, not what later records meet', async () => {
    const s = makeJoin();
    await s.table.pipeInput(0, 'new', 50);
    await s.table.pipeInput(0, 'old', 30);
    await s.stream.pipeInput(0, 'x', 60);
    await s.stream.pipeInput(0, 'y', 40);
    expect(drain(s.output)).toEqual([kvt(0, 'x+new', 60), kvt(0, 'y+old', 40)]);
    expect(s.driver.getVersionedKeyValueStore<number, string>('V-grace')!.get(0, 45)).toEqual({ value: 'old', timestamp: 30, validTo: 50 });
    expect(s.driver.getKeyValueStore<number, string>('V-grace')!.get(0)).toBe('new');
  });
});
