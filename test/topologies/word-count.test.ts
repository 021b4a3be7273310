import { describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver } from 'tributary';
import wordCount, { demo } from '../../topologies/word-count.ts';

describe('topologies/word-count', () => {
  it('emits an updated count for every word of every line', async () => {
    const driver = new TopologyTestDriver(wordCount.build(), { applicationId: 'word-count' });
    const lines = driver.createInputTopic('text-lines', Serdes.string(), Serdes.string());
    const counts = driver.createOutputTopic('word-counts', Serdes.string(), Serdes.int64());

    await lines.pipeInput('l1', 'Hello Kafka Streams', 1_000);
    await lines.pipeInput('l2', 'hello kafka', 2_000);

    expect(counts.readKeyValuesToList()).toEqual([
      { key: 'hello', value: 1 },
      { key: 'kafka', value: 1 },
      { key: 'streams', value: 1 },
      { key: 'hello', value: 2 },
      { key: 'kafka', value: 2 },
    ]);
    expect(driver.getKeyValueStore<string, number>('word-counts')?.get('kafka')).toBe(2);
    expect(driver.getTimestampedKeyValueStore<string, number>('word-counts')?.get('kafka')).toEqual({ value: 2, timestamp: 2_000 });
    await driver.close();
  });

  it('goes through a repartition topic named after the store', () => {
    const description = wordCount.build().describe();
    expect(description).toContain('Sink: word-counts-repartition-sink (topic: word-counts-repartition)');
    expect(description).toContain('Sub-topology: 1');
    expect(description).toContain('(stores: [word-counts])');
  });

  it('counts the demo input exactly', async () => {
    const driver = new TopologyTestDriver(wordCount.build(), { applicationId: 'word-count' });
    const lines = driver.createInputTopic('text-lines', Serdes.string(), Serdes.string());
    const expected = new Map<string, number>();
    for (const record of demo(500)) {
      await lines.pipeInput(record.key as string, record.value as string, record.timestamp);
      for (const word of (record.value as string).toLowerCase().split(/\W+/).filter(Boolean)) expected.set(word, (expected.get(word) ?? 0) + 1);
    }
    const final = driver.createOutputTopic('word-counts', Serdes.string(), Serdes.int64()).readKeyValuesToMap();
    expect(final).toEqual(expected);
    await driver.close();
  });
});
