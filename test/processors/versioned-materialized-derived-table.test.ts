/*
 * A derived table materialized as a versioned store (Kafka Streams'
 * `table.filter(pred, Materialized.as(Stores.persistentVersionedKeyValueStore("s", retention)))`,
 * likewise filterNot, mapValues, transformValues, KStream.toTable and a table-table join's result).
 * Kafka's KTableFilter, KTableMapValues, KTableTransformValues and KTableKTableJoinMerger put each
 * update through KeyValueStoreWrapper at the
 * record's timestamp: a put refused as older than the history retention (PUT_RETURN_CODE_NOT_PUT)
 * is not forwarded; any other is forwarded with the store's latest value as the old value (once
 * old values are sent: the tests that check them ask, as Kafka's enableSendingOldValues) and
 * isLatest = (put returned PUT_RETURN_CODE_VALID_TO_UNDEFINED). The rules come from that code; the
 * Kafka test cases that cover them are ported in versioned-join-scenarios.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Joined, Materialized, Stores, TopologyTestDriver } from 'tributary';
import { captureAll, consumed, drain, intKeys, kvt, newBuilder, nullableIntKeys, nullableStrings, strings, toStringJoiner } from './join-test-utils.ts';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

const versioned = (name: string, retention: Parameters<typeof Stores.persistentVersionedKeyValueStore>[1] = '1h') => Materialized.as<number, string>(Stores.persistentVersionedKeyValueStore(name, retention));

describe('a derived table materialized as a versioned store', () => {
  it('filter: an out-of-order update goes into the history and is forwarded with isLatest false and the latest value as old value', async () => {
    const builder = newBuilder();
    const filtered = builder.table<number, string>('input', consumed).filter((_k, v) => v !== 'drop', versioned('F'));
    const changes = captureAll(builder, filtered, { sendOldValues: true });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'a', 5); // out of order for the versioned store F
    await input.pipeInput(1, 'drop', 7); // out of order, filtered out: a tombstone in the history at 7
    await input.pipeInput(1, 'c', 15);
    expect(changes).toEqual([
      kvt(1, { newValue: 'b', oldValue: null }, 10),
      kvt(1, { newValue: 'a', oldValue: 'b', isLatest: false }, 5),
      kvt(1, { newValue: null, oldValue: 'b', isLatest: false }, 7),
      kvt(1, { newValue: 'c', oldValue: 'b' }, 15),
    ]);
    const store = driver.getVersionedKeyValueStore<number, string>('F')!;
    expect(store.get(1)).toEqual({ value: 'c', timestamp: 15 });
    expect(store.get(1, 6)).toEqual({ value: 'a', timestamp: 5, validTo: 7 });
    expect(store.get(1, 8)).toBeUndefined();
    expect(store.get(1, 12)).toEqual({ value: 'b', timestamp: 10, validTo: 15 });
  });

  it('an update older than the history retention is neither stored nor forwarded, and is counted as dropped', async () => {
    const builder = newBuilder();
    const mapped = builder.table<number, string>('input', consumed).mapValues((v) => v.toUpperCase(), versioned('M', 10));
    const changes = captureAll(builder, mapped);
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    await input.pipeInput(1, 'b', 100);
    await input.pipeInput(2, 'x', 95); // within the retention: 95 >= 100 - 10
    await input.pipeInput(1, 'a', 89); // 89 < 100 - 10: expired
    expect(changes).toEqual([kvt(1, { newValue: 'B', oldValue: null }, 100), kvt(2, { newValue: 'X', oldValue: null }, 95)]);
    expect(driver.metrics().dropped).toBe(1);
    expect(driver.getVersionedKeyValueStore<number, string>('M')!.getVersions(1)).toEqual([{ value: 'B', timestamp: 100 }]);
  });

  it('a stream-table join with a grace period accepts it and meets the mapped value as of each stream record', async () => {
    const builder = newBuilder();
    const prices = builder.table<number, string>('prices', consumed).mapValues((v) => `$${v}`, versioned('P', '5m'));
    builder.stream<number, string>('orders', consumed).join(prices, toStringJoiner, Joined.with(intKeys, strings, strings, 'J', 10)).to('out', { keySerde: intKeys, valueSerde: strings });
    expect(builder.build().describe()).toContain('Processor: J (stores: [P, J-Buffer])');
    driver = new TopologyTestDriver(builder.build());
    const priceIn = driver.createInputTopic('prices', intKeys, strings);
    const orders = driver.createInputTopic('orders', intKeys, strings);
    const out = driver.createOutputTopic('out', nullableIntKeys, strings);
    await priceIn.pipeInput(1, '10', 0);
    await orders.pipeInput(1, 'o1', 20);
    await priceIn.pipeInput(1, '12', 15); // out of order, inside the grace: o1 at 20 meets it
    await orders.pipeInput(1, 'o2', 5);
    await orders.pipeInput(1, 'flush', 40);
    expect(drain(out)).toEqual([kvt(1, 'o2+$10', 5), kvt(1, 'o1+$12', 20)]);
  });

  it('a table-table join after it drops its out-of-order updates, as after a versioned source', async () => {
    const builder = newBuilder();
    const other = builder.table<number, string>('other', consumed);
    const transformed = builder.table<number, string>('input', consumed).transformValues<string>(() => ({ transform: (_k, v) => (v === null ? null : `${v}!`) }), versioned('T'));
    transformed.join(other, toStringJoiner).toStream().to('join-out', { keySerde: intKeys, valueSerde: nullableStrings });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    const out = driver.createOutputTopic('join-out', nullableIntKeys, nullableStrings);
    await driver.createInputTopic('other', intKeys, strings).pipeInput(1, 'x', 0);
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'a', 5);
    await input.pipeInput(1, 'c', 15);
    expect(drain(out)).toEqual([kvt(1, 'b!+x', 10), kvt(1, 'c!+x', 15)]);
    expect(driver.getVersionedKeyValueStore<number, string>('T')!.get(1, 7)?.value).toBe('a!');
  });

  it('a filter of the versioned filter, unmaterialized, reads through to its history and passes its out-of-order updates on (old value: the latest)', async () => {
    const builder = newBuilder();
    const first = builder.table<number, string>('input', consumed).filterNot((_k, v) => v === 'x', versioned('F1'));
    const second = first.filter((_k, v) => v !== 'y');
    const changes = captureAll(builder, second);
    builder.stream<number, string>('s', consumed).join(second, toStringJoiner, { name: 'J', gracePeriod: 0 }).to('out', { keySerde: intKeys, valueSerde: strings });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    const stream = driver.createInputTopic('s', intKeys, strings);
    const out = driver.createOutputTopic('out', nullableIntKeys, strings);
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'y', 5);
    await input.pipeInput(1, 'a', 3);
    await stream.pipeInput(1, 's4', 4);
    await stream.pipeInput(1, 's6', 6);
    await stream.pipeInput(1, 's11', 11);
    expect(changes).toEqual([
      kvt(1, { newValue: 'b', oldValue: null }, 10),
      kvt(1, { newValue: null, oldValue: 'b', isLatest: false }, 5),
      kvt(1, { newValue: 'a', oldValue: 'b', isLatest: false }, 3),
    ]);
    expect(drain(out)).toEqual([kvt(1, 's4+a', 4), kvt(1, 's11+b', 11)]);
  });

  it('a table-table join result materialized as a versioned store: a result older than its latest goes into the history with isLatest false (KTableKTableJoinMerger)', async () => {
    const builder = newBuilder();
    const left = builder.table<number, string>('left', consumed);
    const right = builder.table<number, string>('right', consumed);
    const joined = left.join(right, toStringJoiner, versioned('J'));
    const changes = captureAll(builder, joined);
    builder.stream<number, string>('s', consumed).join(joined, toStringJoiner, { name: 'G', gracePeriod: 0 }).to('out', { keySerde: intKeys, valueSerde: strings });
    driver = new TopologyTestDriver(builder.build());
    const leftIn = driver.createInputTopic('left', intKeys, strings);
    const rightIn = driver.createInputTopic('right', intKeys, strings);
    await leftIn.pipeInput(1, 'a', 10);
    await rightIn.pipeInput(1, 'x', 20);
    await leftIn.pipeInput(1, 'b', 15); // result at max(15, 20) = 20: replaces the latest
    await rightIn.pipeInput(1, 'y', 5); // result at max(15, 5) = 15: older than the latest result
    expect(changes.map(({ value, timestamp }) => [value.newValue, value.isLatest ?? true, timestamp])).toEqual([['a+x', true, 20], ['b+x', true, 20], ['b+y', false, 15]]);
    const store = driver.getVersionedKeyValueStore<number, string>('J')!;
    expect(store.get(1)).toEqual({ value: 'b+x', timestamp: 20 });
    expect(store.get(1, 17)).toEqual({ value: 'b+y', timestamp: 15, validTo: 20 });
    const stream = driver.createInputTopic('s', intKeys, strings);
    await stream.pipeInput(1, 's16', 16);
    await stream.pipeInput(1, 's21', 21);
    expect(drain(driver.createOutputTopic('out', nullableIntKeys, strings))).toEqual([kvt(1, 's16+b+y', 16), kvt(1, 's21+b+x', 21)]);
  });

  it('KStream.toTable materialized as a versioned store keeps the history', async () => {
    const builder = newBuilder();
    const table = builder.stream<number, string>('input', consumed).toTable(versioned('S'));
    const changes = captureAll(builder, table, { sendOldValues: true });
    driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', intKeys, strings);
    await input.pipeInput(1, 'b', 10);
    await input.pipeInput(1, 'a', 5);
    expect(changes).toEqual([kvt(1, { newValue: 'b', oldValue: null }, 10), kvt(1, { newValue: 'a', oldValue: 'b', isLatest: false }, 5)]);
    expect(driver.getVersionedKeyValueStore<number, string>('S')!.get(1, 7)).toEqual({ value: 'a', timestamp: 5, validTo: 10 });
  });
});
