import { describe, expect, it } from 'vitest';
import { Consumed, Grouped, Named, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from 'tributary';

describe('Named.as, Grouped.with/as, Produced.with/as, Consumed.with/as (as Kafka Streams users write them)', () => {
  it('name nodes and repartition topics, carry serdes, and type the stream', async () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', Consumed.with(Serdes.string(), Serdes.json<{ amount: number }>()).withName('orders-source').withOffsetResetPolicy('earliest'));
    orders
      .filter((_k, o) => o.amount > 0, Named.as('positive'))
      .groupBy((_k, o) => (o.amount > 100 ? 'big' : 'small'), Grouped.with(Serdes.string(), Serdes.json<{ amount: number }>()).withName('by-size'))
      .count({ storeName: 'sizes' })
      .toStream()
      .to('size-counts', Produced.with(Serdes.string(), Serdes.nullable(Serdes.int64())).withName('size-sink'));
    builder.stream('other', Consumed.as<string, string>('other-source').withKeySerde(Serdes.string()).withValueSerde(Serdes.string()))
      .groupByKey(Grouped.as('other-grouped')).count();
    const description = builder.build().describe();
    expect(description).toContain('Source: orders-source (topics: [orders])');
    expect(description).toContain('Processor: positive (stores: [])');
    expect(description).toContain('Sink: by-size-repartition-sink (topic: by-size-repartition)');
    expect(description).toContain('Sink: size-sink (topic: size-counts)');
    expect(description).toContain('Source: other-source (topics: [other])');

    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('orders', Serdes.string(), Serdes.json<{ amount: number }>());
    await input.pipeInput('a', { amount: 500 }, 1);
    await input.pipeInput('b', { amount: 5 }, 2);
    await input.pipeInput('c', { amount: -1 }, 3);
    expect(driver.createOutputTopic('size-counts', Serdes.string(), Serdes.int64()).readKeyValuesToList()).toEqual([{ key: 'big', value: 1 }, { key: 'small', value: 1 }]);
    await driver.close();
  });

  it('builders are immutable: each with* returns a new object and the plain option objects still work', () => {
    const base = Produced.as('a');
    const renamed = base.withName('b');
    expect(base.name).toBe('a');
    expect(renamed.name).toBe('b');
    expect(Named.as('x').withName('y').name).toBe('y');
    expect(Grouped.keySerde(Serdes.string()).keySerde?.name).toBe('string');
    expect(Produced.valueSerde(Serdes.int64()).valueSerde?.name).toBe('int64');
    const builder = new StreamsBuilder();
    builder.stream('in', { name: 'plain-source' }).to('out', { name: 'plain-sink' });
    expect(builder.build().describe()).toContain('Sink: plain-sink (topic: out)');
  });
});
