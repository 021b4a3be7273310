import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver, type KeyValueStore, type ValueTransformerWithKey } from 'tributary';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** KTableTransformValuesTest's ExclamationValueTransformer: `key->value!`, reading (and so requiring) its stores. */
function exclamation(...stores: string[]): () => ValueTransformerWithKey<string, string, string> {
  return () => ({
    init(context) {
      for (const s of stores) context.getStateStore(s);
    },
    transform: (key, value) => `${key}->${value}!`,
  });
}

async function pipeTable(b: StreamsBuilder, records: [string, string | null, number][]): Promise<TopologyTestDriver> {
  driver = new TopologyTestDriver(b.build());
  const input = driver.createInputTopic('inputTopic', Serdes.string(), Serdes.nullable(Serdes.string()));
  for (const [k, v, ts] of records) await input.pipeInput(k, v, ts);
  return driver;
}

const read = (d: TopologyTestDriver) => d.createOutputTopic('output', Serdes.string(), Serdes.nullable(Serdes.string())).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);

describe('KTableTransformValuesTest', () => {
  it('KTableTransformValuesTest.shouldTransformValuesWithKey: the transformer sees key and value, a tombstone as null, and its stores', async () => {
    const b = new StreamsBuilder();
    b.addStateStore({ name: 'store', type: 'key-value' });
    b.addStateStore({ name: 'other', type: 'key-value' });
    b.table<string, string>('inputTopic', strings).transformValues(exclamation('store', 'other'), undefined, 'store', 'other')
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = await pipeTable(b, [['A', 'a', 5], ['B', 'b', 10], ['D', null, 15]]);
    expect(read(d)).toEqual([['A', 'A->a!', 5], ['B', 'B->b!', 10], ['D', 'D->null!', 15]]);
  });

  it('KTableTransformValuesTest.shouldTransformValuesWithKeyAndMaterialize: the results are in the named store, with timestamps', async () => {
    const b = new StreamsBuilder();
    const table = b.table<string, string>('inputTopic', strings).transformValues(exclamation(), { storeName: 'queryable-store', valueSerde: Serdes.string() });
    expect(table.queryableStoreName()).toBe('queryable-store');
    table.toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = await pipeTable(b, [['A', 'a', 5], ['B', 'b', 10], ['C', null, 15]]);
    expect(read(d)).toEqual([['A', 'A->a!', 5], ['B', 'B->b!', 10], ['C', 'C->null!', 15]]);
    expect(d.getKeyValueStore('queryable-store')?.get('C')).toBe('C->null!');
    expect(d.getTimestampedKeyValueStore('queryable-store')?.get('B')).toEqual({ value: 'B->b!', timestamp: 10 });
  });

  it('KTableTransformValuesTest.shouldCalculateCorrectOldValuesIfMaterializedEvenIfStateful: downstream aggregations get the stored old values', async () => {
    const b = new StreamsBuilder();
    b.table<string, string>('inputTopic', strings)
      .transformValues<number>(() => {
        let counter = 0;
        return { transform: () => ++counter };
      }, { storeName: 'queryable-store', valueSerde: Serdes.int32() })
      .groupBy((k, v) => [k, v] as const, { keySerde: Serdes.string(), valueSerde: Serdes.int32() })
      .reduce((a, v) => a + v, (a, v) => a - v)
      .mapValues((v) => String(v))
      .toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = await pipeTable(b, [['A', 'ignored', 5], ['A', 'ignored1', 15], ['A', 'ignored2', 10]]);
    expect(read(d)).toEqual([['A', '1', 5], ['A', '2', 15], ['A', '3', 15]]);
    expect(d.getKeyValueStore<string, number>('queryable-store')?.get('A')).toBe(3);
  });

  it('a transformer can read and write a store it names', async () => {
    const b = new StreamsBuilder();
    b.addStateStore({ name: 'versions', type: 'key-value', valueSerde: Serdes.int32() });
    b.table<string, string>('inputTopic', strings).transformValues<string>(() => {
      let versions: KeyValueStore<string, number>;
      return {
        init: (context) => { versions = context.getStateStore<KeyValueStore<string, number>>('versions'); },
        transform: (key, value) => {
          const n = (versions.get(key) ?? 0) + 1;
          versions.put(key, n);
          return value === null ? null : `${value}@v${n}`;
        },
      };
    }, undefined, 'versions').toStream().to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    const d = await pipeTable(b, [['A', 'x', 1], ['A', 'y', 2], ['A', null, 3]]);
    expect(read(d)).toEqual([['A', 'x@v1', 1], ['A', 'y@v2', 2], ['A', null, 3]]);
  });
});

describe('KTable.toStream(mapper) and queryableStoreName', () => {
  it('toStream(mapper) re-keys the updates (tombstones included) and a grouping after it repartitions', async () => {
    const b = new StreamsBuilder();
    const table = b.table<string, string>('inputTopic', strings, { storeName: 'users' });
    expect(table.queryableStoreName()).toBe('users');
    const byValue = table.toStream((key, value) => `${value ?? 'deleted'}:${key}`);
    byValue.to('output', { valueSerde: Serdes.nullable(Serdes.string()) });
    byValue.groupByKey({ name: 'rekeyed' }).count();
    expect(b.build().describe()).toContain('rekeyed-repartition');
    const d = await pipeTable(b, [['A', 'x', 1], ['A', null, 2]]);
    expect(read(d)).toEqual([['x:A', 'x', 1], ['deleted:A', null, 2]]);
  });
});
