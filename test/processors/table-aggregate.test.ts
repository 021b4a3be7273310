import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver, type KTable, type Serde } from 'tributary';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
const stringGrouped = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
/** Kafka Streams' `MockAggregator.TOSTRING_ADDER` / `TOSTRING_REMOVER`. */
const ADDER = (_k: string, v: string, agg: string): string => `${agg}+${v}`;
const REMOVER = (_k: string, v: string, agg: string): string => `${agg}-${v}`;

/** Runs `table.toStream()` to `output` while `records` are piped into `topic`; returns `[key, value, timestamp]` triples. */
async function run<V>(builder: StreamsBuilder, table: KTable<string, V>, valueSerde: Serde<V>, topic: string, records: [string, string | null, number][]): Promise<[string, V | null, number][]> {
  table.toStream().to('output', { keySerde: Serdes.string(), valueSerde });
  const driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic(topic, Serdes.string(), Serdes.nullable(Serdes.string()));
  for (const [k, v, ts] of records) await input.pipeInput(k, v, ts);
  const out = driver.createOutputTopic('output', Serdes.string(), Serdes.nullable(valueSerde)).readRecordsToList().map((r) => [r.key, r.value, r.timestamp] as [string, V | null, number]);
  await driver.close();
  return out;
}

describe('KTableAggregateTest (KTable.groupBy aggregations)', () => {
  it('KTableAggregateTest.testAggBasic: an update of a row with the same group key subtracts the old value and adds the new one in one result', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('topic1', strings)
      .groupBy((k, v) => [k, v] as const, stringGrouped)
      .aggregate(() => '0', ADDER, REMOVER, { storeName: 'topic1-Canonized', valueSerde: Serdes.string() });
    const out = await run(builder, table, Serdes.string(), 'topic1', [
      ['A', '1', 10], ['B', '2', 15], ['A', '3', 20], ['B', '4', 18], ['C', '5', 5], ['D', '6', 25], ['B', '7', 15], ['C', '8', 10],
    ]);
    expect(out).toEqual([
      ['A', '0+1', 10], ['B', '0+2', 15], ['A', '0+1-1+3', 20], ['B', '0+2-2+4', 18], ['C', '0+5', 5], ['D', '0+6', 25], ['B', '0+2-2+4-4+7', 18], ['C', '0+5-5+8', 10],
    ]);
  });

  it('KTableAggregateTest.testAggRepartition: a null mapped key or pair is ignored; moving a row subtracts from the old key before adding to the new one', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('topic1', strings)
      .groupBy((k, v) => (k === 'null' ? [null, v] : k === 'NULL' ? null : [v, v]) as unknown as readonly [string, string], stringGrouped)
      .aggregate(() => '0', ADDER, REMOVER, { storeName: 'topic1-Canonized', valueSerde: Serdes.string() });
    const out = await run(builder, table, Serdes.string(), 'topic1', [
      ['A', '1', 10], ['A', null, 15], ['A', '1', 12], ['B', '2', 20], ['null', '3', 25], ['B', '4', 23], ['NULL', '5', 24], ['B', '7', 22],
    ]);
    expect(out).toEqual([
      ['1', '0+1', 10], ['1', '0+1-1', 15], ['1', '0+1-1+1', 15], ['2', '0+2', 20], ['2', '0+2-2', 23], ['4', '0+4', 23], ['4', '0+4-4', 23], ['7', '0+7', 22],
    ]);
  });

  it('KTableAggregateTest.testCount: counts rows per value, a row moving between groups is subtracted first', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('count-test-input', strings).groupBy((_k, v) => [v, v] as const, stringGrouped).count({ storeName: 'count' });
    const out = await run(builder, table, Serdes.int64(), 'count-test-input', [['A', 'green', 10], ['B', 'green', 9], ['A', 'blue', 12], ['C', 'yellow', 15], ['D', 'green', 11]]);
    expect(out).toEqual([['green', 1, 10], ['green', 2, 10], ['green', 1, 12], ['blue', 1, 12], ['yellow', 1, 15], ['green', 2, 12]]);
  });

  it('KTableAggregateTest.testCountWithInternalStore: the same without naming the store', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('count-test-input', strings).groupBy((_k, v) => [v, v] as const, stringGrouped).count();
    const out = await run(builder, table, Serdes.int64(), 'count-test-input', [['A', 'green', 10], ['B', 'green', 9], ['A', 'blue', 12], ['C', 'yellow', 15], ['D', 'green', 11]]);
    expect(out).toEqual([['green', 1, 10], ['green', 2, 10], ['green', 1, 12], ['blue', 1, 12], ['yellow', 1, 15], ['green', 2, 12]]);
  });

  it('KTableAggregateTest.testRemoveOldBeforeAddNew: the subtractor runs before the adder, a tombstone only subtracts', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('count-test-input', strings)
      .groupBy((k) => [k.charAt(0), k.charAt(1)] as const, stringGrouped)
      .aggregate(() => '', (_k, v, agg: string) => agg + v, (_k, v, agg: string) => agg.replaceAll(v, ''), { storeName: 'someStore', valueSerde: Serdes.string() });
    const out = await run(builder, table, Serdes.string(), 'count-test-input', [['11', 'A', 10], ['12', 'B', 8], ['11', null, 12], ['12', 'C', 6]]);
    expect(out).toEqual([['1', '1', 10], ['1', '12', 10], ['1', '2', 12], ['1', '2', 12]]);
  });

  it('KTableAggregateTest.testShouldNotSendTransientStateIfNotUpgrading: an update within one group emits no transient subtraction', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('input-topic', strings).groupBy((k, v) => [k, v] as const, stringGrouped).count();
    const out = await run(builder, table, Serdes.int64(), 'input-topic', [['1', '', 8], ['1', '', 9]]);
    expect(out).toEqual([['1', 1, 8], ['1', 1, 9]]);
  });

  it('a histogram of a stream count: a key\'s first count leaves group 0, which has no aggregate to subtract from, so 0 gets a tombstone (KStreamAggregate\'s initializer old value, KTableAggregate)', async () => {
    const builder = new StreamsBuilder();
    const histogram = builder.stream<string, string>('clicks', strings).groupByKey().count()
      .groupBy((user, n) => [String(n), user] as const, stringGrouped)
      .count();
    histogram.toStream().to('output', { keySerde: Serdes.string(), valueSerde: Serdes.nullable(Serdes.int64()) });
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('clicks', Serdes.string(), Serdes.string());
    await input.pipeInput('alice', 'x', 10);
    await input.pipeInput('alice', 'y', 20);
    await input.pipeInput('bob', 'z', 30);
    const out = driver.createOutputTopic('output', Serdes.string(), Serdes.nullable(Serdes.int64())).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
    await driver.close();
    expect(out).toEqual([['0', null, 10], ['1', 1, 10], ['1', 0, 20], ['2', 1, 20], ['0', null, 30], ['1', 1, 30]]);
  });

  it('the same histogram under the record cache: a new key\'s first count carries the stored old value (none), so group 0 is never touched, and updates merge per commit', async () => {
    const builder = new StreamsBuilder();
    const histogram = builder.stream<string, string>('clicks', strings).groupByKey().count()
      .groupBy((user, n) => [String(n), user] as const, stringGrouped)
      .count();
    histogram.toStream().to('output', { keySerde: Serdes.string(), valueSerde: Serdes.nullable(Serdes.int64()) });
    const driver = new TopologyTestDriver(builder.build(), { cacheMaxEntries: 100 });
    const input = driver.createInputTopic('clicks', Serdes.string(), Serdes.string());
    await input.pipeInput('alice', 'x', 10);
    await input.pipeInput('alice', 'y', 20);
    await input.pipeKeyValueList([{ key: 'bob', value: 'z' }, { key: 'carol', value: 'w' }], 30, 0);
    const out = driver.createOutputTopic('output', Serdes.string(), Serdes.nullable(Serdes.int64())).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
    await driver.close();
    expect(out).toEqual([['1', 1, 10], ['1', 0, 20], ['2', 1, 20], ['1', 2, 30]]);
  });

  it('KGroupedTable.reduce(adder, subtractor) keeps a running total per group', async () => {
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>('input', strings)
      .groupBy((_k, v) => ['all', v] as const, stringGrouped)
      .reduce((agg, v) => String(Number(agg) + Number(v)), (agg, v) => String(Number(agg) - Number(v)));
    const out = await run(builder, table, Serdes.string(), 'input', [['a', '1', 1], ['b', '2', 2], ['a', '5', 3], ['b', null, 4]]);
    expect(out).toEqual([['all', '1', 1], ['all', '3', 2], ['all', '7', 3], ['all', '5', 4]]);
  });
});
