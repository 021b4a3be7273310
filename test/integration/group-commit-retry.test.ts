/**
 * A group offset commit the group refuses (a rebalance's new generation) while the Redis
 * checkpoint succeeded is sent again at the next commit, even when the offsets no longer move:
 * otherwise the group's lag would stay above zero for good (monitoring, `kafka-consumer-groups`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryBroker, KafkaStreams, Serdes, StreamsBuilder } from 'tributary';
import { InMemoryTransport } from '../../src/transport/memory-transport.ts';
import type { TopicPartitionOffset } from '../../src/transport/transport.ts';
import { redisUrl, resetRedis, unique, waitUntil } from './kafka-helpers.ts';

/** Refuses the first group commit that reaches the end of the input, as a broker does after a rebalance. */
class RefusingOnceTransport extends InMemoryTransport {
  refused = 0;
  override async commitOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    if (this.refused === 0 && offsets.some(({ offset }) => offset === LINES)) {
      this.refused++;
      throw new Error('The provided generation id is not the current generation');
    }
    return super.commitOffsets(offsets);
  }
}

const LINES = 50;
const ids: string[] = [];
afterAll(async () => {
  await Promise.allSettled(ids.map((id) => resetRedis(id)));
});

describe('group offset commits', () => {
  it('sends a refused group commit again at the next commit, with Redis as the checkpoint', async () => {
    const broker = new InMemoryBroker();
    broker.createTopic('lines', 1);
    broker.createTopic('upper', 1);
    const b = new StreamsBuilder();
    b.stream('lines', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .mapValues((v) => v.toUpperCase())
      .to('upper', { keySerde: Serdes.string(), valueSerde: Serdes.string() });
    const id = unique('group-retry');
    ids.push(id);
    const transport = new RefusingOnceTransport(broker);
    const warnings: string[] = [];
    for (let i = 0; i < LINES; i++) broker.append({ topic: 'lines', key: Buffer.from(`k${i}`), value: Buffer.from(`line ${i}`), timestamp: i, headers: {} });
    const app = new KafkaStreams(b.build(), { applicationId: id, transport, redis: redisUrl, commitIntervalMs: 50, watchdog: false, log: (m) => warnings.push(m) });
    try {
      await app.start();
      await waitUntil('every line processed', () => broker.endOffset('upper', 0) === LINES, 20_000, 20);
      await waitUntil('the group offset at the end of the input', () => broker.committedOffset(id, 'lines', 0) === LINES, 5_000, 20);
    } finally {
      await app.close();
    }
    expect(transport.refused).toBe(1);
    expect(warnings.some((w) => w.includes('committing offsets to the consumer group failed'))).toBe(true);
  });
});
