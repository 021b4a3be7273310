/*
 * Kafka Streams: an unmaterialized filter, mapValues or transformValues of a versioned table is
 * versioned too; its value getter reads the source's history and applies the filter, mapper or
 * (a transformer of its own) to the value as of the time (KTableFilter/KTableMapValues/
 * KTableTransformValues view()). Ported from KStreamKTableJoinTest:
 * shouldNotFailIfTableIsVersionedButMaterializationIsInherited,
 * shouldFailIfGracePeriodIsLongerThanHistoryRetentionAndInheritedStore, and shouldDelayJoinByGracePeriod
 * run through a pass-all filter (its value getter returns the parent's: same expected output).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Joined, Materialized, Stores, TopologyTestDriver, type KeyValueStore, type KTable, type TestInputTopic, type TestOutputTopic } from 'tributary';
import { consumed, drain, expectedKeys, intKeys, kvt, newBuilder, nullableIntKeys, strings, toStringJoiner } from './join-test-utils.ts';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

interface Setup {
  stream: TestInputTopic<number, string>;
  table: TestInputTopic<number, string | null>;
  output: TestOutputTopic<number | null, string>;
}

/** Kafka's `makeJoin(grace)`, the table first passed through `derive`. */
function makeJoin(derive: (table: KTable<number, string>) => KTable<number, string>, options: { gracePeriod?: number; left?: boolean } = {}): Setup {
  const builder = newBuilder();
  const table = derive(builder.table<number, string>('tableTopic2', consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('V-grace', '5m'))));
  const stream = builder.stream('streamTopic', consumed);
  const joined = Joined.with(intKeys, strings, strings, 'Grace', options.gracePeriod);
  (options.left ? stream.leftJoin(table, toStringJoiner, joined) : stream.join(table, toStringJoiner, joined)).to('output', { keySerde: intKeys, valueSerde: strings });
  driver = new TopologyTestDriver(builder.build());
  return {
    stream: driver.createInputTopic('streamTopic', intKeys, strings, { startTimestamp: 0 }),
    table: driver.createInputTopic('tableTopic2', intKeys, strings as never, { startTimestamp: 0 }),
    output: driver.createOutputTopic('output', nullableIntKeys, strings),
  };
}

describe('a derived table of a versioned table reads through to its history (ported from KStreamKTableJoinTest)', () => {
  it('KStreamKTableJoinTest.shouldNotFailIfTableIsVersionedButMaterializationIsInherited: an unmaterialized filter of a versioned table takes a grace period', () => {
    const builder = newBuilder();
    const streamA = builder.stream('topic', consumed);
    const source = builder.table('topic2', consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('tableB', '5m')));
    const tableB = source.filter(() => true);
    streamA.join(tableB, (a, b) => a + b, Joined.with(intKeys, strings, strings, 'first-join', 6)).to('out-one');
    expect(builder.build().describe()).toContain('Processor: first-join (stores: [tableB, first-join-Buffer])');
  });

  it('KStreamKTableJoinTest.shouldFailIfGracePeriodIsLongerThanHistoryRetentionAndInheritedStore', () => {
    const builder = newBuilder();
    const streamA = builder.stream('topic', consumed);
    const source = builder.table('topic2', consumed, Materialized.as(Stores.persistentVersionedKeyValueStore('V-grace', '0ms')));
    const tableB = source.filter(() => true);
    expect(() => streamA.join(tableB, (a, b) => a + b, Joined.with(intKeys, strings, strings, 'first-join', 6))).toThrow(/^History retention must be at least grace period\. .*table store 'V-grace' historyRetention 0 ms/);
  });

  it('KStreamKTableJoinTest.shouldDelayJoinByGracePeriod, through a pass-all filter: the same output', async () => {
    const s = makeJoin((t) => t.filter(() => true), { gracePeriod: 2 });
    const pushToStream = async (prefix: string): Promise<void> => {
      for (let i = 0; i < 4; i++) await s.stream.pipeInput(expectedKeys[i]!, prefix + expectedKeys[i], i);
    };
    const pushToTable = async (prefix: string): Promise<void> => {
      for (let i = 0; i < 4; i++) await s.table.pipeInput(expectedKeys[i]!, prefix + expectedKeys[i], 0);
    };
    await pushToTable('Y');
    expect(drain(s.output)).toEqual([]);
    await pushToStream('X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+Y0', 0), kvt(1, 'X1+Y1', 1)]);
    await pushToTable('YY');
    expect(drain(s.output)).toEqual([]);
    await pushToStream('X');
    expect(drain(s.output)).toEqual([kvt(0, 'X0+YY0', 0), kvt(1, 'X1+YY1', 1)]);
    await s.stream.pipeInput(5, 'test', 7);
    expect(drain(s.output)).toEqual([kvt(2, 'X2+YY2', 2), kvt(2, 'X2+YY2', 2), kvt(3, 'X3+YY3', 3), kvt(3, 'X3+YY3', 3)]);
  });

  it('a filter applies its predicate to the value as of the stream record, not to the latest value', async () => {
    const s = makeJoin((t) => t.filter((_k, v) => !v.startsWith('bad')), { left: true });
    await s.table.pipeInput(0, 'good', 10);
    await s.table.pipeInput(0, 'bad', 20);
    await s.table.pipeInput(0, 'good-again', 30);
    await s.stream.pipeInput(0, 'a', 35);
    await s.stream.pipeInput(0, 'b', 25);
    await s.stream.pipeInput(0, 'c', 15);
    await s.stream.pipeInput(0, 'd', 5);
    expect(drain(s.output)).toEqual([kvt(0, 'a+good-again', 35), kvt(0, 'b+null', 25), kvt(0, 'c+good', 15), kvt(0, 'd+null', 5)]);
  });

  it('filterNot and mapValues chain: the mapper sees the historical value that passed the filter', async () => {
    const s = makeJoin((t) => t.filterNot((_k, v) => v === 'hidden').mapValues((v) => v.toUpperCase()));
    await s.table.pipeInput(0, 'old', 10);
    await s.table.pipeInput(0, 'hidden', 20);
    await s.table.pipeInput(0, 'new', 30);
    await s.stream.pipeInput(0, 'x', 31);
    await s.stream.pipeInput(0, 'y', 21);
    await s.stream.pipeInput(0, 'z', 11);
    expect(drain(s.output)).toEqual([kvt(0, 'x+NEW', 31), kvt(0, 'z+OLD', 11)]);
  });

  it('with a grace period, a late source update inside the grace reaches the record through the filter', async () => {
    const s = makeJoin((t) => t.mapValues((v) => `<${v}>`), { gracePeriod: 10 });
    await s.stream.pipeInput(0, 'x', 100);
    await s.table.pipeInput(0, 'late', 95);
    await s.stream.pipeInput(1, 'tick', 110);
    expect(drain(s.output)).toEqual([kvt(0, 'x+<late>', 100)]);
  });

  it('an unmaterialized transformValues reads through too: its own transformer transforms the value as of the record, a missing row as null', async () => {
    let closed = 0;
    const s = makeJoin((t) => t.transformValues<string>(() => ({ transform: (_k, v) => (v === null ? 'none' : `[${v}]`), close: () => { closed++; } })), { gracePeriod: 10 });
    await s.table.pipeInput(0, 'old', 10);
    await s.table.pipeInput(0, 'new', 30);
    await s.stream.pipeInput(0, 'x', 31);
    await s.stream.pipeInput(0, 'y', 11);
    await s.stream.pipeInput(0, 'z', 5);
    await s.stream.pipeInput(1, 'tick', 100);
    // y and z are older than stream time 31 - grace 10: they join at once; x waits for the tick.
    expect(drain(s.output)).toEqual([kvt(0, 'y+[old]', 11), kvt(0, 'z+none', 5), kvt(0, 'x+[new]', 31)]);
    await driver!.close();
    driver = undefined;
    expect(closed).toBe(2); // the table's transformer and the join's
  });

  it('the read-through transformer gets the stores transformValues names, connected to the join', async () => {
    const builder = newBuilder();
    builder.addStateStore({ name: 'suffixes', type: 'key-value', keySerde: intKeys, valueSerde: strings });
    const table = builder.table<number, string>('tableTopic2', consumed, { versioned: { historyRetention: '5m' } })
      .transformValues<string>(() => {
        let suffixes: KeyValueStore<number, string>;
        return {
          init: (ctx) => { suffixes = ctx.getStateStore('suffixes'); },
          transform: (key, v) => (v === null ? null : `${v}${suffixes.get(key) ?? ''}`),
        };
      }, undefined, 'suffixes');
    const stream = builder.stream<number, string>('streamTopic', consumed);
    stream
      .process(() => {
        let suffixes: KeyValueStore<number, string>;
        return {
          init: (ctx) => { suffixes = ctx.getStateStore('suffixes'); },
          process: (record) => { suffixes.put(record.key, '!'); },
        };
      }, 'suffixes');
    stream.join(table, toStringJoiner, { name: 'j', gracePeriod: 0 }).to('output', { keySerde: intKeys, valueSerde: strings });
    expect(builder.build().describe()).toContain('Processor: j (stores: [tableTopic2-STATE-STORE-0000000000, suffixes, j-Buffer])');
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('tableTopic2', intKeys, strings).pipeInput(0, 'v', 0);
    await driver.createInputTopic('streamTopic', intKeys, strings).pipeInput(0, 'x', 10);
    expect(drain(driver.createOutputTopic('output', nullableIntKeys, strings))).toEqual([kvt(0, 'x+v!', 10)]);
  });

  it('a derived table given a store name is materialized, so it is not versioned and refuses a grace period', () => {
    const builder = newBuilder();
    const source = builder.table('topic2', consumed, { versioned: { historyRetention: '5m' } });
    const named = source.filter(() => true, Materialized.as('filtered'));
    expect(() => builder.stream('topic', consumed).join(named, (a, b) => a + b, { name: 'j', gracePeriod: 6 })).toThrow(/^KTable must be versioned to use a grace period in a stream table join\. .*'filtered'/);
  });

  it('Materialized.with(serdes) names no store, so the derived table still reads through', () => {
    const builder = newBuilder();
    const source = builder.table('topic2', consumed, { versioned: { historyRetention: '5m' } });
    const mapped = source.mapValues((v) => v.length, Materialized.with(intKeys, intKeys));
    builder.stream('topic', consumed).join(mapped, (a, b) => `${a}${b}`, { name: 'j', gracePeriod: 6 }).to('out');
    expect(builder.build().describe()).toContain('Processor: j (stores: [topic2-STATE-STORE-0000000000, j-Buffer])');
  });
});
