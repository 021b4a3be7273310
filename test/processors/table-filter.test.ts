/*
 * Ported from Kafka Streams' KTableFilterTest with its expected outputs. A table filter forwards a
 * tombstone for each rejected row; once old values are sent (an operator downstream that needs them
 * asks, or the parent table is materialized under a name) it drops a change from no row to no row
 * instead, unless the table above is versioned, whose semantics keep every update. Old values are
 * sent only when asked (Kafka's enableSendingOldValues), otherwise changes carry `oldValue: null`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Materialized, Serdes, StreamsBuilder, Stores, TopologyTestDriver, type KTable } from 'tributary';
import { captureChanges, drain, kvt, take } from './join-test-utils.ts';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

const strings = Serdes.string();
const ints = Serdes.int32();
const nullableInts = Serdes.nullable(ints);
const consumed = { keySerde: strings, valueSerde: ints };
const predicate = (_key: string, value: number): boolean => value % 2 === 0;
/** Kafka's MockReducer.STRING_ADDER and STRING_REMOVER. */
const STRING_ADDER = (agg: string, value: string): string => `${agg}+${value}`;
const STRING_REMOVER = (agg: string, value: string): string => `${agg}-${value}`;

/** KTableFilterTest.doTestKTable: the filtered tables' updates as streams. */
async function doTestKTable(builder: StreamsBuilder, table2: KTable<string, number>, table3: KTable<string, number>, topic: string): Promise<void> {
  table2.toStream().to('out2', { keySerde: strings, valueSerde: nullableInts });
  table3.toStream().to('out3', { keySerde: strings, valueSerde: nullableInts });
  driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic(topic, strings, nullableInts);
  await input.pipeInput('A', 1, 10);
  await input.pipeInput('B', 2, 5);
  await input.pipeInput('C', 3, 8);
  await input.pipeInput('D', 4, 14);
  await input.pipeInput('A', null, 18);
  await input.pipeInput('B', null, 15);
  expect(drain(driver.createOutputTopic('out2', strings, nullableInts))).toEqual([
    kvt('A', null, 10), kvt('B', 2, 5), kvt('C', null, 8), kvt('D', 4, 14), kvt('A', null, 18), kvt('B', null, 15),
  ]);
  expect(drain(driver.createOutputTopic('out3', strings, nullableInts))).toEqual([
    kvt('A', 1, 10), kvt('B', null, 5), kvt('C', 3, 8), kvt('D', null, 14), kvt('A', null, 18), kvt('B', null, 15),
  ]);
}

/** KTableFilterTest.doTestNotSendingOldValue. */
async function doTestNotSendingOldValue(builder: StreamsBuilder, table1: KTable<string, number>, table2: KTable<string, number>, topic: string): Promise<void> {
  const proc1 = captureChanges(builder, table1);
  const proc2 = captureChanges(builder, table2);
  driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic(topic, strings, nullableInts);
  await input.pipeInput('A', 1, 5);
  await input.pipeInput('B', 1, 10);
  await input.pipeInput('C', 1, 15);
  expect(take(proc1)).toEqual([kvt('A', { newValue: 1, oldValue: null }, 5), kvt('B', { newValue: 1, oldValue: null }, 10), kvt('C', { newValue: 1, oldValue: null }, 15)]);
  expect(take(proc2)).toEqual([kvt('A', { newValue: null, oldValue: null }, 5), kvt('B', { newValue: null, oldValue: null }, 10), kvt('C', { newValue: null, oldValue: null }, 15)]);
  await input.pipeInput('A', 2, 15);
  await input.pipeInput('B', 2, 8);
  expect(take(proc1)).toEqual([kvt('A', { newValue: 2, oldValue: null }, 15), kvt('B', { newValue: 2, oldValue: null }, 8)]);
  expect(take(proc2)).toEqual([kvt('A', { newValue: 2, oldValue: null }, 15), kvt('B', { newValue: 2, oldValue: null }, 8)]);
  await input.pipeInput('A', 3, 20);
  expect(take(proc1)).toEqual([kvt('A', { newValue: 3, oldValue: null }, 20)]);
  expect(take(proc2)).toEqual([kvt('A', { newValue: null, oldValue: null }, 20)]);
  await input.pipeInput('A', null, 10);
  await input.pipeInput('B', null, 20);
  expect(take(proc1)).toEqual([kvt('A', { newValue: null, oldValue: null }, 10), kvt('B', { newValue: null, oldValue: null }, 20)]);
  expect(take(proc2)).toEqual([kvt('A', { newValue: null, oldValue: null }, 10), kvt('B', { newValue: null, oldValue: null }, 20)]);
}

/** KTableFilterTest.doTestSendingOldValue. */
async function doTestSendingOldValue(builder: StreamsBuilder, table1: KTable<string, number>, table2: KTable<string, number>, topic: string): Promise<void> {
  const proc1 = captureChanges(builder, table1);
  const proc2 = captureChanges(builder, table2);
  const parent = table1.oldValues.sending;
  const old = (value: number): number | null => (parent ? value : null);
  driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic(topic, strings, nullableInts);
  await input.pipeInput('A', 1, 5);
  await input.pipeInput('B', 1, 10);
  await input.pipeInput('C', 1, 15);
  expect(take(proc1)).toEqual([kvt('A', { newValue: 1, oldValue: null }, 5), kvt('B', { newValue: 1, oldValue: null }, 10), kvt('C', { newValue: 1, oldValue: null }, 15)]);
  expect(take(proc2)).toEqual([]);
  await input.pipeInput('A', 2, 15);
  await input.pipeInput('B', 2, 8);
  expect(take(proc1)).toEqual([kvt('A', { newValue: 2, oldValue: old(1) }, 15), kvt('B', { newValue: 2, oldValue: old(1) }, 8)]);
  expect(take(proc2)).toEqual([kvt('A', { newValue: 2, oldValue: null }, 15), kvt('B', { newValue: 2, oldValue: null }, 8)]);
  await input.pipeInput('A', 3, 20);
  expect(take(proc1)).toEqual([kvt('A', { newValue: 3, oldValue: old(2) }, 20)]);
  expect(take(proc2)).toEqual([kvt('A', { newValue: null, oldValue: 2 }, 20)]);
  await input.pipeInput('A', null, 10);
  await input.pipeInput('B', null, 20);
  expect(take(proc1)).toEqual([kvt('A', { newValue: null, oldValue: old(3) }, 10), kvt('B', { newValue: null, oldValue: old(2) }, 20)]);
  expect(take(proc2)).toEqual([kvt('B', { newValue: null, oldValue: 2 }, 20)]);
}

/** KTableFilterTest.doTestSkipNullOnMaterialization: three rejected rows of new keys. */
async function doTestSkipNullOnMaterialization(builder: StreamsBuilder, table1: KTable<string, string>, table2: KTable<string, string>, topic: string, shouldSkip: boolean): Promise<void> {
  const proc1 = captureChanges(builder, table1);
  const proc2 = captureChanges(builder, table2);
  driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic(topic, strings, strings);
  await input.pipeInput('A', 'reject', 5);
  await input.pipeInput('B', 'reject', 10);
  await input.pipeInput('C', 'reject', 20);
  expect(proc1).toEqual([kvt('A', { newValue: 'reject', oldValue: null }, 5), kvt('B', { newValue: 'reject', oldValue: null }, 10), kvt('C', { newValue: 'reject', oldValue: null }, 20)]);
  expect(proc2).toEqual(shouldSkip ? [] : [kvt('A', { newValue: null, oldValue: null }, 5), kvt('B', { newValue: null, oldValue: null }, 10), kvt('C', { newValue: null, oldValue: null }, 20)]);
}

const accept = (_key: string, value: string): boolean => value.toLowerCase() === 'accept';
const stringConsumed = { keySerde: strings, valueSerde: strings };
const stringGrouped = { keySerde: strings, valueSerde: strings };

describe('KTableFilterTest', () => {
  it('shouldPassThroughWithoutMaterialization', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    await doTestKTable(builder, table1.filter(predicate), table1.filterNot(predicate), 'topic1');
  });

  it('shouldPassThroughOnMaterialization', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    const table2 = table1.filter(predicate, Materialized.as('store2'));
    expect(table2.queryableStoreName()).toBe('store2');
    await doTestKTable(builder, table2, table1.filterNot(predicate), 'topic1');
  });

  it('shouldGetValuesOnMaterialization', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    table1.filter(predicate, Materialized.as('store2'));
    table1.filterNot(predicate, Materialized.as('store3'));
    table1.filterNot(predicate);
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic1', strings, nullableInts);
    const store2 = driver.getTimestampedKeyValueStore<string, number>('store2')!;
    const store3 = driver.getTimestampedKeyValueStore<string, number>('store3')!;
    const vt = (value: number, timestamp: number) => ({ value, timestamp });
    await input.pipeInput('A', 1, 5);
    await input.pipeInput('B', 1, 10);
    await input.pipeInput('C', 1, 15);
    expect(['A', 'B', 'C'].map((k) => store2.get(k))).toEqual([undefined, undefined, undefined]);
    expect(['A', 'B', 'C'].map((k) => store3.get(k))).toEqual([vt(1, 5), vt(1, 10), vt(1, 15)]);
    await input.pipeInput('A', 2, 10);
    await input.pipeInput('B', 2, 5);
    expect(['A', 'B', 'C'].map((k) => store2.get(k))).toEqual([vt(2, 10), vt(2, 5), undefined]);
    expect(['A', 'B', 'C'].map((k) => store3.get(k))).toEqual([undefined, undefined, vt(1, 15)]);
    await input.pipeInput('A', 3, 15);
    expect(['A', 'B', 'C'].map((k) => store2.get(k))).toEqual([undefined, vt(2, 5), undefined]);
    expect(['A', 'B', 'C'].map((k) => store3.get(k))).toEqual([vt(3, 15), undefined, vt(1, 15)]);
    await input.pipeInput('A', null, 10);
    await input.pipeInput('B', null, 20);
    expect(['A', 'B', 'C'].map((k) => store2.get(k))).toEqual([undefined, undefined, undefined]);
    expect(['A', 'B', 'C'].map((k) => store3.get(k))).toEqual([undefined, undefined, vt(1, 15)]);
  });

  it('shouldNotSendOldValuesWithoutMaterialization', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    await doTestNotSendingOldValue(builder, table1, table1.filter(predicate), 'topic1');
  });

  it('shouldNotSendOldValuesOnMaterialization', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    await doTestNotSendingOldValue(builder, table1, table1.filter(predicate, Materialized.as('store2')), 'topic1');
  });

  it('shouldNotEnableSendingOldValuesIfNotAlreadyMaterializedAndNotForcedToMaterialize', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    const table2 = table1.filter(predicate);
    expect(table2.oldValues.enable(false)).toBe(false);
    await doTestNotSendingOldValue(builder, table1, table2, 'topic1');
  });

  it('shouldEnableSendOldValuesWhenNotMaterializedAlreadyButForcedToMaterialize', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    const table2 = table1.filter(predicate);
    table2.oldValues.enable(true);
    expect(table1.oldValues.sending).toBe(true);
    expect(table2.oldValues.sending).toBe(true);
    await doTestSendingOldValue(builder, table1, table2, 'topic1');
  });

  it('shouldEnableSendOldValuesWhenMaterializedAlreadyAndForcedToMaterialize', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed);
    const table2 = table1.filter(predicate, Materialized.as('store2'));
    table2.oldValues.enable(true);
    expect(table1.oldValues.sending).toBe(false);
    expect(table2.oldValues.sending).toBe(true);
    await doTestSendingOldValue(builder, table1, table2, 'topic1');
  });

  it('shouldSendOldValuesWhenEnabledOnUpStreamMaterialization', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, number>('topic1', consumed, Materialized.as('store2'));
    const table2 = table1.filter(predicate);
    table2.oldValues.enable(false);
    expect(table1.oldValues.sending).toBe(true);
    expect(table2.oldValues.sending).toBe(true);
    await doTestSendingOldValue(builder, table1, table2, 'topic1');
  });

  it('shouldSkipNullToRepartitionWithoutMaterialization: a groupBy downstream asks for old values', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, string>('topic1', stringConsumed);
    const table2 = table1.filter(accept);
    table2.groupBy((key, value) => [key, value] as const, stringGrouped).reduce(STRING_ADDER, STRING_REMOVER);
    await doTestSkipNullOnMaterialization(builder, table1, table2, 'topic1', true);
  });

  it('shouldSkipNullToRepartitionOnMaterialization', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, string>('topic1', stringConsumed);
    const table2 = table1.filter(accept, Materialized.as('store2'));
    table2.groupBy((key, value) => [key, value] as const, stringGrouped).reduce(STRING_ADDER, STRING_REMOVER, Materialized.as('mock-result'));
    await doTestSkipNullOnMaterialization(builder, table1, table2, 'topic1', true);
  });

  it('shouldNotSkipNullIfVersionedUpstream: versioned semantics keep every update, though groupBy asks for old values', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, string>('topic1', stringConsumed, Materialized.as(Stores.persistentVersionedKeyValueStore('versioned', '5m')));
    const table2 = table1.filter(accept);
    table2.groupBy((key, value) => [key, value] as const, stringGrouped).reduce(STRING_ADDER, STRING_REMOVER);
    await doTestSkipNullOnMaterialization(builder, table1, table2, 'topic1', false);
  });

  it('shouldSkipNullIfVersionedDownstream: whether the input table is versioned decides, not the filter\'s own store', async () => {
    const builder = new StreamsBuilder();
    const table1 = builder.table<string, string>('topic1', stringConsumed, Materialized.as('store'));
    const table2 = table1.filter(accept, Materialized.as(Stores.persistentVersionedKeyValueStore('versioned', '5m')));
    table2.groupBy((key, value) => [key, value] as const, stringGrouped).reduce(STRING_ADDER, STRING_REMOVER);
    await doTestSkipNullOnMaterialization(builder, table1, table2, 'topic1', true);
  });

  it('testTypeVariance: a predicate over wider key and value types filters a narrower table', () => {
    const numberKeyPredicate = (_key: number, _value: unknown): boolean => false;
    new StreamsBuilder().table<number, string>('empty').filter(numberKeyPredicate).filterNot(numberKeyPredicate).toStream().to('nirvana');
  });
});
