// A user's unit test: type-checked with the strictest flags against the package's declarations,
// then run by the project's own vitest.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver, type KStream, type KTable } from 'tributary';
import wordCount from './word-count.js';

describe('word count, from an installed tributary', () => {
  it('counts words', async () => {
    const driver = new TopologyTestDriver(wordCount.build(), { applicationId: 'consumer-word-count' });
    const lines = driver.createInputTopic('lines', Serdes.string(), Serdes.string());
    const counts = driver.createOutputTopic('counts', Serdes.string(), Serdes.int64());
    await lines.pipeInput('l1', 'Hello Kafka', 1_000);
    await lines.pipeInput('l2', 'hello', 2_000);
    expect(counts.readKeyValuesToList()).toEqual([
      { key: 'hello', value: 1 },
      { key: 'kafka', value: 1 },
      { key: 'hello', value: 2 },
    ]);
    expect(driver.getKeyValueStore<string, number>('counts')?.get('hello')).toBe(2);
    await driver.close();
  });

  it('infers record types from serdes', () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<{ amount: number }>() });
    expectTypeOf(stream).toEqualTypeOf<KStream<string, { amount: number }>>();
    expectTypeOf(stream.groupByKey().count()).toEqualTypeOf<KTable<string, number>>();
  });

  it('types tombstones: toStream() is V | null, toStream({ tombstones: "drop" }) is V', () => {
    const table = new StreamsBuilder().table('accounts', { keySerde: Serdes.string(), valueSerde: Serdes.json<{ n: number }>() });
    expectTypeOf(table.toStream()).toEqualTypeOf<KStream<string, { n: number } | null>>();
    expectTypeOf(table.toStream({ tombstones: 'drop' })).toEqualTypeOf<KStream<string, { n: number }>>();
    // @ts-expect-error a deleted row arrives as null
    table.toStream().mapValues((v) => v.n + 1);
    table.toStream().to('out', { valueSerde: Serdes.nullable(Serdes.json<{ n: number }>()) });
  });
});
