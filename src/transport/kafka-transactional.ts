import './kafkajs-patches.ts';
import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import { parseTpKey, ProducerFencedError, tpKey, type TopicPartitionOffset, type TransactionalProducer } from './transport.ts';
import { chunkEnd, type ChunkLimits } from './chunks.ts';
import type { IncomingRecord, OutgoingRecord } from './types.ts';

/** kafkajs error types that mean a newer producer took the transactional id over. */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** Whether `error`, or an error it wraps (kafkajs wraps retried errors in `cause`), is a fencing error. */
function isFenced(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (FENCED_TYPES.has(String((e as { type?: unknown }).type))) return true;
  }
  return false;
}

/** Records to kafkajs messages by topic, each record with its partition decided (and an upper bound of its size). */
export type ToTopicMessages = (records: OutgoingRecord[]) => Promise<TopicMessages[]>;

/** A kafkajs transactional producer: one transaction per `commit`. */
export class KafkaTransactionalProducer implements TransactionalProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly transactionalId: string,
    private readonly toTopicMessages: ToTopicMessages,
    private readonly chunkLimits: () => ChunkLimits,
  ) {}

  /** Connects and initializes transactions: fences older producers of `transactionalId` and aborts their open transaction. */
  static async create(kafka: Kafka, transactionalId: string, toTopicMessages: ToTopicMessages, chunkLimits: () => ChunkLimits): Promise<KafkaTransactionalProducer> {
    const producer = kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Records come with their partition decided (`toTopicMessages`); this only silences kafkajs's warning.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      // kafkajs initializes the transactional id (InitProducerId) when the first transaction begins.
      const first = await producer.transaction();
      await first.abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return new KafkaTransactionalProducer(producer, transactionalId, toTopicMessages, chunkLimits);
  }

  async commit(records: OutgoingRecord[], offsets: TopicPartitionOffset[], groupId: string): Promise<Map<string, number>> {
    const ends = new Map<string, number>();
    const transaction = await this.producer.transaction();
    try {
      for (const chunk of chunks(records, this.chunkLimits())) {
        const topicMessages = await this.toTopicMessages(chunk);
        const counts = new Map<string, number>();
        for (const { topic, messages } of topicMessages) {
          for (const { partition } of messages) counts.set(tpKey(topic, partition!), (counts.get(tpKey(topic, partition!)) ?? 0) + 1);
        }
        const metadata = await transaction.sendBatch({ topicMessages });
        for (const { topicName, partition, baseOffset } of metadata) {
          const key = tpKey(topicName, partition);
          const base = Number(baseOffset ?? -1);
          if (base >= 0) ends.set(key, Math.max(ends.get(key) ?? 0, base + (counts.get(key) ?? 0)));
        }
      }
      if (offsets.length > 0) {
        const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
        for (const { topic, partition, offset } of offsets) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset: String(offset) }]);
        await transaction.sendOffsets({ consumerGroupId: groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      }
      await transaction.commit();
    } catch (error) {
      if (transaction.isActive()) await transaction.abort().catch(() => undefined);
      if (isFenced(error)) throw new ProducerFencedError(this.transactionalId, { cause: error });
      throw error;
    }
    return ends;
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** Records per `sendBatch` inside a transaction: each topic's records stay under its `max.message.bytes`. */
function* chunks(records: OutgoingRecord[], limits: ChunkLimits): Generator<OutgoingRecord[]> {
  for (let start = 0; start < records.length; ) {
    const end = chunkEnd(records, start, limits);
    yield records.slice(start, end);
    start = end;
  }
}

/**
 * Reads partitions from the given offsets to `ends` (every partition of their topics, `topic:partition` →
 * end offset), committed records only
 * (read_committed, kafkajs's default), with a throwaway consumer group. Record headers are not kept. A partition is done when
 * the consumer's position reaches its end: the last offsets of a transactional partition are
 * control records (commit and abort markers) that are never delivered, so the position comes from
 * kafkajs's batch events, which also report batches holding only markers or aborted records.
 */
export async function readCommitted(
  kafka: Kafka,
  ends: Map<string, number>,
  from: TopicPartitionOffset[],
  onRecords: (records: IncomingRecord[]) => void,
  timeoutMs: number,
): Promise<void> {
  const positions = new Map<string, number>();
  for (const { topic, partition, offset } of from) {
    const end = ends.get(tpKey(topic, partition)) ?? 0;
    if (offset < end) positions.set(tpKey(topic, partition), offset);
  }
  if (positions.size === 0) return;
  const wanted = new Map(from.filter((tp) => positions.has(tpKey(tp.topic, tp.partition))).map((tp) => [tpKey(tp.topic, tp.partition), tp]));
  const topics = [...new Set([...wanted.values()].map((tp) => tp.topic))];
  const consumer = kafka.consumer({ groupId: `tributary-restore-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  let finished!: () => void;
  let failed!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const advance = (key: string, next: number): void => {
    const position = positions.get(key);
    if (position === undefined) return;
    if (next > position) positions.set(key, next);
    if (next >= (ends.get(key) ?? 0)) positions.delete(key);
    if (positions.size === 0) finished();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => advance(tpKey(payload.topic, payload.partition), Number(payload.lastOffset) + 1));
  consumer.on(consumer.events.CRASH, ({ payload }) => failed(payload.error));
  const timer = setTimeout(() => failed(new Error(`reading ${[...positions.keys()].join(', ')} to their end took longer than ${timeoutMs} ms`)), timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = tpKey(batch.topic, batch.partition);
        const position = positions.get(key);
        if (position === undefined) return;
        const end = ends.get(key) ?? 0;
        const records: IncomingRecord[] = [];
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          // Before the seek took effect a batch may start earlier; past the end is not this restore's.
          if (offset < position || offset >= end) continue;
          records.push({ topic: batch.topic, partition: batch.partition, offset, key: message.key ?? null, value: message.value ?? null, timestamp: Number(message.timestamp), headers: {} });
        }
        if (records.length > 0) {
          positions.set(key, records[records.length - 1]!.offset + 1);
          onRecords(records);
        }
      },
    });
    for (const tp of wanted.values()) consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(tp.offset) });
    const others = new Map<string, number[]>();
    for (const key of ends.keys()) {
      const { topic, partition } = parseTpKey(key);
      if (!wanted.has(key) && topics.includes(topic)) others.set(topic, [...(others.get(topic) ?? []), partition]);
    }
    if (others.size > 0) consumer.pause([...others].map(([topic, partitions]) => ({ topic, partitions })));
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
