import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyError, TopologyTestDriver } from 'tributary';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };

describe('builder.stream(pattern)', () => {
  it('reads every input topic whose whole name matches, in the test driver', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>(/orders-[a-z]+/, strings).mapValues((v) => v.toUpperCase()).to('all-orders', { valueSerde: Serdes.string() });
    const driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic('orders-eu', Serdes.string(), Serdes.string()).pipeInput('a', 'x', 1);
    await driver.createInputTopic('orders-us', Serdes.string(), Serdes.string()).pipeInput('b', 'y', 2);
    await driver.createInputTopic('orders-eu-archive', Serdes.string(), Serdes.string()).pipeInput('c', 'z', 3);
    await driver.createInputTopic('my-orders-eu', Serdes.string(), Serdes.string()).pipeInput('d', 'w', 4);
    expect(driver.createOutputTopic('all-orders', Serdes.string(), Serdes.string()).readKeyValuesToList()).toEqual([
      { key: 'a', value: 'X' }, { key: 'b', value: 'Y' },
    ]);
    await driver.close();
  });

  it('describe shows the pattern as Kafka Streams does: (topics: <regex>)', () => {
    const builder = new StreamsBuilder();
    builder.stream(/orders-.+/, strings).to('out');
    expect(builder.build().describe()).toContain('    Source: KSTREAM-SOURCE-0000000000 (topics: orders-.+)\n      --> KSTREAM-SINK-0000000001\n');
  });

  it('withPatternsResolved reads the matching topics, sorted; a pattern matching none is an error naming it', () => {
    const builder = new StreamsBuilder();
    builder.stream(/orders-.+/, strings).to('out');
    const topology = builder.build();
    expect(topology.sourcePatterns()).toEqual([/orders-.+/]);
    const resolved = topology.withPatternsResolved(['orders-us', 'payments', 'orders-eu', 'out']);
    expect(resolved.sourceTopics()).toEqual(['orders-eu', 'orders-us']);
    expect(resolved.subTopologies[0]!.sourceTopics).toEqual(['orders-eu', 'orders-us']);
    expect(() => topology.withPatternsResolved(['payments'])).toThrow(TopologyError);
    expect(() => topology.withPatternsResolved(['payments'])).toThrow(/matching \/orders-\.\+\/, and no topic matches/);
  });
});
