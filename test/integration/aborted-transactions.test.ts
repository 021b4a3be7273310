/**
 * Aborted transactions whose abort markers land out of first-offset order (issue 12). Producer A
 * opens a transaction on a partition, producer B opens one after it and aborts first, then A
 * aborts: the fetch response lists B's transaction before A's. kafkajs 2.2.4 delivered A's first
 * record as committed (it looks only at the head of that list); under exactly-once a counting task
 * then counted a killed runner's aborted repartition records. Every read_committed path the
 * runtime uses is checked here against the real broker: the group consumer (`subscribe`), the
 * restore reader (`readCommitted`), and the tests' own reader.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { KafkaTransport } from '../../src/transport/kafka-transport.ts';
import type { IncomingRecord } from '../../src/transport/types.ts';
import { brokers, closeHelpers, createTopic, getAdmin, readAll, unique, waitUntil } from './kafka-helpers.ts';

const kafka = new Kafka({ brokers, clientId: unique('aborts'), logLevel: logLevel.NOTHING });
const producers: Producer[] = [];
const transports: KafkaTransport[] = [];

afterAll(async () => {
  await Promise.allSettled([...producers.map((p) => p.disconnect()), ...transports.map((t) => t.close())]);
  await closeHelpers();
});

async function transactional(id: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  producers.push(producer);
  return producer;
}

/** The partition's end offset (markers included) once no transaction is open on it (the admin reads the last stable offset). */
async function end(topic: string): Promise<number> {
  const [offsets] = await (await getAdmin()).fetchTopicOffsets(topic);
  return Number(offsets!.high);
}

/**
 * Writes, on one partition: A's `a1` (offset 0), B's `b1` (1), B's abort marker (2, waited for),
 * A's `a2` (3), A's abort marker (4), then C's committed `c1` (5) and its commit marker (6).
 */
async function interleavedAborts(): Promise<string> {
  const topic = unique('aborts');
  await createTopic(topic, 1);
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => transactional(`${topic}-${name}`)));
  const ta = await a!.transaction();
  await ta.send({ topic, messages: [{ key: 'k', value: 'a1' }] });
  const tb = await b!.transaction();
  await tb.send({ topic, messages: [{ key: 'k', value: 'b1' }] });
  await tb.abort();
  // EndTxn returns before the coordinator writes the marker. B's next transaction cannot add a
  // partition until that marker is written (the coordinator answers CONCURRENT_TRANSACTIONS and
  // kafkajs retries), so once it has, B's abort is listed first although A's began first.
  const scratch = unique('aborts-scratch');
  await createTopic(scratch, 1);
  const tb2 = await b!.transaction();
  await tb2.send({ topic: scratch, messages: [{ key: 'k', value: 'scratch' }] });
  await tb2.abort();
  await ta.send({ topic, messages: [{ key: 'k', value: 'a2' }] });
  await ta.abort();
  await waitUntil("A's abort marker", async () => (await end(topic)) === 5, 20_000, 50);
  const tc = await c!.transaction();
  await tc.send({ topic, messages: [{ key: 'k', value: 'c1' }] });
  await tc.commit();
  await waitUntil("C's commit marker", async () => (await end(topic)) === 7, 20_000, 50);
  return topic;
}

const values = (records: Array<{ value: Buffer | string | null }>): string[] => records.map((r) => String(r.value));

describe('read_committed with aborted transactions listed out of first-offset order', () => {
  it('delivers only the committed record to the group consumer, the restore reader and the test reader', async () => {
    const topic = await interleavedAborts();

    const transport = new KafkaTransport({ brokers, clientId: unique('aborts-transport'), maxWaitTimeMs: 100 });
    transports.push(transport);
    await transport.connect();
    const restored: IncomingRecord[] = [];
    await transport.readCommitted([{ topic, partition: 0, offset: 0 }], (records) => restored.push(...records), 30_000);
    expect(values(restored)).toEqual(['c1']);
    expect(restored[0]!.offset).toBe(5);

    const consumed: IncomingRecord[] = [];
    let skippedTo = 0;
    await transport.subscribe(
      { groupId: unique('aborts-group'), topics: [topic], copartitionGroups: [], sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
      {
        onAssignment: async () => undefined,
        onRecords: (records) => consumed.push(...records),
        onSkipped: (_tp, _from, next) => {
          skippedTo = Math.max(skippedTo, next);
        },
      },
    );
    // Until the consumer has passed C's commit marker (a record or a skip reaching offset 7).
    await waitUntil('the consumer to reach the end', () => skippedTo >= 7 || consumed.some((r) => r.offset === 5), 30_000, 50);
    await waitUntil('the consumer to pass the last marker', () => skippedTo >= 7 || consumed.length > 1, 5_000, 50).catch(() => undefined);
    expect(values(consumed)).toEqual(['c1']);

    expect(values(await readAll(topic))).toEqual(['c1']);
  }, 90_000);
});
