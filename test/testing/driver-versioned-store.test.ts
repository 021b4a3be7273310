/*
 * The test driver's read of a versioned table's store: Kafka Streams' VersionedKeyQuery
 * (`get(key)`, `get(key, asOf)`) and MultiVersionedKeyQuery (`getVersions(key, { fromTime, toTime, order })`),
 * as the records piped in made the history, up to the history retention.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver } from 'tributary';

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

async function pricesDriver(): Promise<TopologyTestDriver> {
  const builder = new StreamsBuilder();
  builder.table<string, string>('prices', { keySerde: Serdes.string(), valueSerde: Serdes.string() }, { storeName: 'prices', versioned: { historyRetention: '1m' } });
  builder.table<string, string>('plain', { keySerde: Serdes.string(), valueSerde: Serdes.string() }, { storeName: 'plain' });
  driver = new TopologyTestDriver(builder.build());
  const prices = driver.createInputTopic('prices', Serdes.string(), Serdes.nullable(Serdes.string()));
  await prices.pipeInput('apple', '1.00', 1_000);
  await prices.pipeInput('apple', '1.30', 30_000);
  await prices.pipeInput('apple', '1.20', 20_000); // out of order: a version between the two
  await prices.pipeInput('apple', null, 40_000); // deleted
  await prices.pipeInput('apple', '1.50', 50_000);
  return driver;
}

describe('driver.getVersionedKeyValueStore: versioned interactive queries', () => {
  it('gives every version valid in a time range, newest first, or oldest first when asked', async () => {
    const store = (await pricesDriver()).getVersionedKeyValueStore<string, string>('prices')!;
    expect(store.getVersions('apple')).toEqual([
      { value: '1.50', timestamp: 50_000 },
      { value: '1.30', timestamp: 30_000, validTo: 40_000 },
      { value: '1.20', timestamp: 20_000, validTo: 30_000 },
      { value: '1.00', timestamp: 1_000, validTo: 20_000 },
    ]);
    // Valid at some time in [25 s, 45 s]: 1.20 until 30 s, 1.30 until the deletion at 40 s.
    expect(store.getVersions('apple', { fromTime: 25_000, toTime: 45_000, order: 'ascending' })).toEqual([
      { value: '1.20', timestamp: 20_000, validTo: 30_000 },
      { value: '1.30', timestamp: 30_000, validTo: 40_000 },
    ]);
    // [20 s, 30 s]: the version that starts at 30 s counts (timestamp <= toTime), the one that ends at 20 s does not (validTo > fromTime).
    expect(store.getVersions('apple', { fromTime: 20_000, toTime: 30_000 }).map((v) => v.value)).toEqual(['1.30', '1.20']);
    expect(store.getVersions('apple', { fromTime: 40_000, toTime: 49_999 })).toEqual([]);
    expect(store.getVersions('pear')).toEqual([]);
  });

  it('answers as of a time, and nothing older than the history retention unless the latest version qualifies', async () => {
    const d = await pricesDriver();
    const store = d.getVersionedKeyValueStore<string, string>('prices')!;
    expect(store.get('apple')).toEqual({ value: '1.50', timestamp: 50_000 });
    expect(store.get('apple', 25_000)).toEqual({ value: '1.20', timestamp: 20_000, validTo: 30_000 });
    expect(store.get('apple', 45_000)).toBeUndefined();
    expect(store.get('apple', 35_000)).toEqual({ value: '1.30', timestamp: 30_000, validTo: 40_000 });
    // Stream time 130 s: the retention bound is 70 s. Reads as of 35 s find nothing now; the latest version still answers at 60 s.
    await d.createInputTopic('prices', Serdes.string(), Serdes.string()).pipeInput('clock', 'tick', 130_000);
    expect(store.get('apple', 35_000)).toBeUndefined();
    expect(store.getVersions('apple', { toTime: 35_000 })).toEqual([]);
    expect(store.get('apple', 60_000)).toEqual({ value: '1.50', timestamp: 50_000 });
    expect(store.getVersions('apple', { fromTime: 0, toTime: 60_000 })).toEqual([{ value: '1.50', timestamp: 50_000 }]);
  });

  it('is undefined for a store that keeps no history', async () => {
    expect((await pricesDriver()).getVersionedKeyValueStore('plain')).toBeUndefined();
  });
});
