import { describe, expect, expectTypeOf, it } from 'vitest';
import { SerdeError, Serdes, SessionWindows, StreamsBuilder, TimeWindows, TopologyTestDriver, type KStream, type Serde, type Windowed } from 'tributary';

interface Reading { n: number }

describe('tombstones are typed', () => {
  it('KTable.toStream() is typed V | null; { tombstones: "drop" } is typed V', () => {
    const table = new StreamsBuilder().table('readings', { keySerde: Serdes.string(), valueSerde: Serdes.json<Reading>() });
    expectTypeOf(table.toStream()).toEqualTypeOf<KStream<string, Reading | null>>();
    expectTypeOf(table.toStream({ name: 'changes' })).toEqualTypeOf<KStream<string, Reading | null>>();
    expectTypeOf(table.toStream({ tombstones: 'keep' })).toEqualTypeOf<KStream<string, Reading | null>>();
    expectTypeOf(table.toStream({ tombstones: 'drop' })).toEqualTypeOf<KStream<string, Reading>>();
    // @ts-expect-error a deleted row reaches mapValues as null
    table.toStream().mapValues((v) => v.n + 1);
    table.toStream().mapValues((v) => (v === null ? null : v.n + 1));
    table.toStream({ tombstones: 'drop' }).mapValues((v) => v.n + 1);
  });

  it('windowed and session results are typed V | null on the way out', () => {
    const grouped = new StreamsBuilder().stream('clicks', { keySerde: Serdes.string(), valueSerde: Serdes.string() }).groupByKey();
    expectTypeOf(grouped.windowedBy(TimeWindows.ofSizeWithNoGrace('1m')).count().toStream()).toEqualTypeOf<KStream<Windowed<string>, number | null>>();
    expectTypeOf(grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace('5m')).count().toStream()).toEqualTypeOf<KStream<Windowed<string>, number | null>>();
    expectTypeOf(grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace('5m')).count().toStream({ tombstones: 'drop' })).toEqualTypeOf<KStream<Windowed<string>, number>>();
  });

  it('Serdes.nullable(...) types T | null and fits .to(...) of a stream with tombstones; the plain serdes fit too', () => {
    expectTypeOf(Serdes.nullable(Serdes.int64())).toEqualTypeOf<Serde<number | null>>();
    expectTypeOf(Serdes.string()).toEqualTypeOf<Serde<string>>();
    const counts = new StreamsBuilder().stream('words', { keySerde: Serdes.string(), valueSerde: Serdes.string() }).groupByKey().count().toStream();
    counts.to('counts', { keySerde: Serdes.string(), valueSerde: Serdes.nullable(Serdes.int64()) });
    counts.to('counts', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
    // @ts-expect-error a stream of numbers cannot be written with a string serde
    counts.to('counts', { valueSerde: Serdes.nullable(Serdes.string()) });
  });
});

describe('tombstones at run time', () => {
  async function filteredTable(tombstones: 'keep' | 'drop') {
    const builder = new StreamsBuilder();
    const table = builder.table('readings', { keySerde: Serdes.string(), valueSerde: Serdes.json<Reading>() }).filter((_k, r) => r.n > 0);
    if (tombstones === 'drop') table.toStream({ tombstones: 'drop' }).mapValues((r) => r.n * 10).to('out', { valueSerde: Serdes.int64() });
    else table.toStream().mapValues((r) => (r === null ? null : r.n * 10)).to('out', { valueSerde: Serdes.nullable(Serdes.int64()) });
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'tombstones' });
    const input = driver.createInputTopic('readings', Serdes.string(), Serdes.nullable(Serdes.json<Reading>()));
    await input.pipeInput('a', { n: 1 }, 1);
    await input.pipeInput('a', { n: -1 }, 2);
    await input.pipeInput('b', { n: 2 }, 3);
    await input.pipeInput('b', null, 4);
    return driver;
  }

  it('toStream() forwards a deleted row as a null value, read with Serdes.nullable', async () => {
    const driver = await filteredTable('keep');
    expect(driver.createOutputTopic('out', Serdes.string(), Serdes.nullable(Serdes.int64())).readKeyValuesToList()).toEqual([
      { key: 'a', value: 10 }, { key: 'a', value: null }, { key: 'b', value: 20 }, { key: 'b', value: null },
    ]);
    await driver.close();
  });

  it("toStream({ tombstones: 'drop' }) leaves deleted rows out", async () => {
    const driver = await filteredTable('drop');
    expect(driver.createOutputTopic('out', Serdes.string(), Serdes.int64()).readKeyValuesToList()).toEqual([{ key: 'a', value: 10 }, { key: 'b', value: 20 }]);
    await driver.close();
  });

  it('a non-nullable serde refuses a tombstone with a SerdeError that names Serdes.nullable, instead of returning null typed as T', async () => {
    for (const serde of [Serdes.string(), Serdes.json(), Serdes.int32(), Serdes.int64(), Serdes.float64(), Serdes.bytes(), Serdes.windowed(Serdes.string())]) {
      expect(() => serde.deserialize(null)).toThrow(SerdeError);
      expect(() => serde.deserialize(null)).toThrow(/Serdes\.nullable\(Serdes\.\w+\(/);
    }
    const driver = await filteredTable('keep');
    expect(() => driver.createOutputTopic('out', Serdes.string(), Serdes.int64()).readKeyValuesToList()).toThrow(/Serdes\.nullable\(Serdes\.int64\(\)\)/);
    await driver.close();
  });

  it('a source still passes a record with a null key or value on, as Kafka Streams does, whatever its serdes', async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.string() }).to('out', { keySerde: Serdes.string(), valueSerde: Serdes.string() });
    const driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('in', Serdes.nullable(Serdes.string()), Serdes.nullable(Serdes.string())).pipeInput(null, null, 1);
    expect(driver.createOutputTopic('out', Serdes.nullable(Serdes.string()), Serdes.nullable(Serdes.string())).readKeyValuesToList()).toEqual([{ key: null, value: null }]);
    await driver.close();
  });
});
