/*
 * Ported from Kafka Streams' KTableFilterTest.shouldNotSkipNullIfVersionedUpstream with its expected
 * output: below a versioned source table, a filter forwards a tombstone for every rejected row,
 * even one that was never present (Change(null, null)), though a stateful operator downstream
 * (groupBy().reduce()) asks for old values, because versioned semantics keep every update.
 * (Its sibling shouldSkipNullIfVersionedDownstream expects a non-versioned upstream to skip those
 * tombstones, an optimization Tributary's filters do not make; it is not ported.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Materialized, Serdes, StreamsBuilder, Stores, TopologyTestDriver } from 'tributary';
import { captureChanges, kvt } from './join-test-utils.ts';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

const strings = Serdes.string();
/** Kafka's MockReducer.STRING_ADDER and STRING_REMOVER. */
const STRING_ADDER = (agg: string, value: string): string => `${agg}+${value}`;
const STRING_REMOVER = (agg: string, value: string): string => `${agg}-${value}`;

describe('KTableFilterTest, versioned', () => {
  it('KTableFilterTest.shouldNotSkipNullIfVersionedUpstream', async () => {
    const builder = new StreamsBuilder();
    const topic1 = 'topic1';
    const consumed = { keySerde: strings, valueSerde: strings };
    const table1 = builder.table<string, string>(topic1, consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('versioned', '5m')));
    const table2 = table1.filter((_key, value) => value.toLowerCase() === 'accept');
    table2.groupBy((key, value) => [key, value] as const, { keySerde: strings, valueSerde: strings }).reduce(STRING_ADDER, STRING_REMOVER);
    const proc1 = captureChanges(builder, table1);
    const proc2 = captureChanges(builder, table2);
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic(topic1, strings, strings);
    await input.pipeInput('A', 'reject', 5);
    await input.pipeInput('B', 'reject', 10);
    await input.pipeInput('C', 'reject', 20);
    expect(proc1).toEqual([
      kvt('A', { newValue: 'reject', oldValue: null }, 5),
      kvt('B', { newValue: 'reject', oldValue: null }, 10),
      kvt('C', { newValue: 'reject', oldValue: null }, 20),
    ]);
    expect(proc2).toEqual([
      kvt('A', { newValue: null, oldValue: null }, 5),
      kvt('B', { newValue: null, oldValue: null }, 10),
      kvt('C', { newValue: null, oldValue: null }, 20),
    ]);
  });
});
