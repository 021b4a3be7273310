/*
 * Kafka Streams KIP-914: a versioned table forwards an out-of-order update (older than its key's
 * latest version) as a Change with isLatest = false. KTableSource forwards it with the latest value
 * as the old value; KTableFilter/KTableMapValues pass it on; toStream emits it; KTableKTable*Join,
 * KTableRepartitionMap (groupBy) and the foreign-key join processors drop it. A derived table
 * materialized under its own (non-versioned) name stores it and forwards it as latest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Materialized, Serdes, Stores, TopologyTestDriver } from 'tributary';
import { consumed, drain, intKeys, kvt, newBuilder, nullableIntKeys, nullableStrings, strings } from './join-test-utils.ts';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

const versioned = (name: string) => Materialized.as<number, string>(Stores.persistentVersionedKeyValueStore(name, '1h'));

describe('out-of-order updates of a versioned table (KIP-914)', () => {
  it('toStream and mapValues forward them; a table-table join drops them', async () => {
    const builder = newBuilder();
    const table = builder.table<number, string>('input', consumed, versioned('V'));
    const other = builder.table<number, string>('other', consumed);
    table.toStream().to('source-out', { keySerde: intKeys, valueSerde: nullableStrings });
    table.mapValues((v) => v.toUpperCase()).toStream().to('mapped-out', { keySerde: intKeys, valueSerde: nullableStrings });
    table.join(other, (a, b) => `${a}+${b}`).toStream().to('join-out', { keySerde: intKeys, valueSerde: nullableStrings });
    table.leftJoin(other, (a, b) => `${a}+${b}`).toStream().to('left-out', { keySerde: intKeys, valueSerde: nullableStrings });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    const otherIn = driver.createInputTopic('other', intKeys, strings);
    const sourceOut = driver.createOutputTopic('source-out', nullableIntKeys, nullableStrings);
    const mappedOut = driver.createOutputTopic('mapped-out', nullableIntKeys, nullableStrings);
    const joinOut = driver.createOutputTopic('join-out', nullableIntKeys, nullableStrings);
    const leftOut = driver.createOutputTopic('left-out', nullableIntKeys, nullableStrings);
    await otherIn.pipeInput(1, 'x', 0);
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'a', 5); // out of order
    await input.pipeInput(1, 'c', 15);
    expect(drain(sourceOut)).toEqual([kvt(1, 'b', 10), kvt(1, 'a', 5), kvt(1, 'c', 15)]);
    expect(drain(mappedOut)).toEqual([kvt(1, 'B', 10), kvt(1, 'A', 5), kvt(1, 'C', 15)]);
    expect(drain(joinOut)).toEqual([kvt(1, 'b+x', 10), kvt(1, 'c+x', 15)]);
    expect(drain(leftOut)).toEqual([kvt(1, 'b+x', 10), kvt(1, 'c+x', 15)]);
    expect(driver.getVersionedKeyValueStore<number, string>('V')?.get(1, 7)?.value).toBe('a');
  });

  it('transformValues passes them on without changing its latest value; a join after it drops them', async () => {
    const builder = newBuilder();
    const other = builder.table<number, string>('other', consumed);
    const transformed = builder.table<number, string>('input', consumed, versioned('V')).transformValues<string>(() => ({ transform: (_k, v) => (v === null ? null : `${v}!`) }));
    transformed.toStream().to('transformed-out', { keySerde: intKeys, valueSerde: nullableStrings });
    transformed.join(other, (a, b) => `${a}+${b}`).toStream().to('join-out', { keySerde: intKeys, valueSerde: nullableStrings });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    const transformedOut = driver.createOutputTopic('transformed-out', nullableIntKeys, nullableStrings);
    const joinOut = driver.createOutputTopic('join-out', nullableIntKeys, nullableStrings);
    await driver.createInputTopic('other', intKeys, strings).pipeInput(1, 'x', 0);
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'a', 5); // out of order
    expect(drain(transformedOut)).toEqual([kvt(1, 'b!', 10), kvt(1, 'a!', 5)]);
    expect(drain(joinOut)).toEqual([kvt(1, 'b!+x', 10)]);
    expect(driver.getKeyValueStore<number, string>(transformed.queryableStoreName())?.get(1)).toBe('b!');
  });

  it('groupBy().count() ignores them', async () => {
    const builder = newBuilder();
    builder.table<number, string>('input', consumed, versioned('V'))
      .groupBy((_k, v) => [v, v] as const, { keySerde: strings, valueSerde: strings })
      .count()
      .toStream()
      .to('count-out', { keySerde: strings, valueSerde: Serdes.nullable(Serdes.int64()) });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    const out = driver.createOutputTopic('count-out', Serdes.nullable(strings), Serdes.nullable(Serdes.int64()));
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'a', 5);
    expect(drain(out).map(({ key, value }) => [key, value === null ? null : Number(value)])).toEqual([['b', 1]]);
  });

  it('a filter materialized under its own (non-versioned) name stores them and forwards them as latest', async () => {
    const builder = newBuilder();
    const other = builder.table<number, string>('other', consumed);
    const filtered = builder.table<number, string>('input', consumed, versioned('V')).filter(() => true, Materialized.as('F'));
    filtered.join(other, (a, b) => `${a}+${b}`).toStream().to('join-out', { keySerde: intKeys, valueSerde: nullableStrings });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    const otherIn = driver.createInputTopic('other', intKeys, strings);
    const joinOut = driver.createOutputTopic('join-out', nullableIntKeys, nullableStrings);
    await otherIn.pipeInput(1, 'x', 0);
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'a', 5);
    expect(driver.getTimestampedKeyValueStore<number, string>('F')?.get(1)?.value).toBe('a');
    expect(drain(joinOut)).toEqual([kvt(1, 'b+x', 10), kvt(1, 'a+x', 5)]);
  });
});
