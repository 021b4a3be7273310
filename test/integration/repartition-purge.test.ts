/**
 * Repartition topics on the real broker: created without time retention (a reprocessed backlog of
 * old records must stay until the downstream task reads it), purged up to what the tasks
 * committed (Kafka Streams' DeleteRecords after commit), and a warning for one that deletes by age.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigResourceTypes } from 'kafkajs';
import { KafkaStreams, Serdes, StreamsBuilder, type Topology } from 'tributary';
import { createTopic, getAdmin, produce, testApps, unique, waitUntil } from './kafka-helpers.ts';

const { app, closeAll } = testApps();

afterAll(closeAll);

function wordCount(input: string, output: string): Topology {
  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.split(' '))
    .groupBy((_k, word) => word, { valueSerde: Serdes.string() })
    .count({ storeName: 'counts' })
    .toStream()
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  return b.build();
}

async function repartitionTopicOf(applicationId: string): Promise<string> {
  const topics = (await (await getAdmin()).listTopics()).filter((t) => t.startsWith(`${applicationId}-`) && t.endsWith('-repartition'));
  expect(topics).toHaveLength(1);
  return topics[0]!;
}

async function retentionOf(topic: string): Promise<string | undefined> {
  const { resources } = await (await getAdmin()).describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }], includeSynonyms: false });
  return resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
}

/** Each partition's first stored offset and the group's committed offset. */
async function lowAndCommitted(topic: string, groupId: string): Promise<{ partition: number; low: number; high: number; committed: number }[]> {
  const admin = await getAdmin();
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({
    partition,
    low: Number(low),
    high: Number(high),
    committed: Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1),
  }));
}

const WORDS = ['kafka', 'streams', 'tributary', 'purge', 'retention', 'offset'];

describe('repartition topics', () => {
  for (const guarantee of ['at-least-once', 'exactly-once'] as const) {
    it(`keep records of any age and are purged up to the committed offsets (${guarantee})`, async () => {
      const input = unique('lines');
      const output = unique('counts');
      await createTopic(input, 2);
      await createTopic(output, 2);
      // Timestamps from 1970: a topic with the broker's default 7-day retention may delete them at its next retention check.
      const lines = Array.from({ length: 2_000 }, (_, i) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]}`);
      await produce(input, lines.map((value, i) => ({ key: `line-${i}`, value, timestamp: 1_000 + i })));
      const expected = new Map<string, number>();
      for (const line of lines) for (const word of line.split(' ')) expected.set(word, (expected.get(word) ?? 0) + 1);
      const id = unique('purge');
      const streams = app(wordCount(input, output), id, { processingGuarantee: guarantee, repartitionPurgeIntervalMs: 100, commitIntervalMs: 200 });
      await streams.start();
      await waitUntil('every word counted', () => [...expected].every(([w, n]) => streams.store<string, number>('counts').get(w) === n));
      const repartition = await repartitionTopicOf(id);
      expect(await retentionOf(repartition)).toBe('-1');
      // Every record written to the repartition topic is read and committed, then purged: the log starts at the committed offset.
      await waitUntil('the repartition topic purged up to the committed offsets', async () => {
        const partitions = await lowAndCommitted(repartition, id);
        return partitions.every(({ low, high, committed }) => committed >= high - 1 && low === committed && low > 0);
      }, 30_000);
      await streams.close();
      for (const { low, committed } of await lowAndCommitted(repartition, id)) expect(low).toBe(committed);
    });
  }

  it('warns about an existing repartition topic that deletes records by age', async () => {
    const input = unique('lines');
    const output = unique('counts');
    await createTopic(input, 1);
    await createTopic(output, 1);
    const id = unique('aged');
    const first = app(wordCount(input, output), id);
    await first.start();
    await first.waitForState('RUNNING');
    await first.close();
    const repartition = await repartitionTopicOf(id);
    await (await getAdmin()).alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: repartition, configEntries: [{ name: 'retention.ms', value: '604800000' }] }] });
    const warnings: string[] = [];
    const second: KafkaStreams = app(wordCount(input, output), id, { log: (message) => warnings.push(message) });
    await second.start();
    await second.waitForState('RUNNING');
    await second.close();
    expect(warnings.filter((w) => w.includes(`'${repartition}' (retention.ms=604800000)`) && w.includes('--add-config retention.ms=-1'))).toHaveLength(1);
  });
});
