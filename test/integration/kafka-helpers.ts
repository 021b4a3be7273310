/**
 * Helpers for integration tests against the real broker and Redis: topics with unique names,
 * producing JSON records, and reading a topic to the end with a throwaway consumer.
 */
import '../../src/transport/kafkajs-patches.ts'; // before kafkajs: its read_committed filter is fixed there
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { Redis } from 'ioredis';
import { KafkaStreams, type Topology } from 'tributary';
import { createTopicsAndWait } from '../../src/transport/create-topics.ts';

export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').filter((b) => b.length > 0);
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const kafka = new Kafka({ clientId: 'tributary-tests', brokers, logLevel: logLevel.NOTHING });
let admin: Admin | undefined;
let producer: Producer | undefined;

/** A name unique to this run: `<prefix>-<random>`. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function getAdmin(): Promise<Admin> {
  if (!admin) {
    admin = kafka.admin();
    await admin.connect();
  }
  return admin;
}

/**
 * Creates a topic and waits for its leaders. Tests write records with timestamps of 1970 (1 000,
 * 2 000 ms): with the broker's time-based retention (7 days) its periodic check deletes them,
 * so test topics keep records without a time limit unless `configs` says otherwise (a CI run lost a
 * join's input that way: "Offset out of range").
 */
export async function createTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const configEntries = Object.entries({ 'retention.ms': '-1', ...configs }).map(([name, value]) => ({ name, value }));
  await createTopicsAndWait(await getAdmin(), [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }]);
}

export interface TestMessage {
  key: string | null;
  value: string | null;
  partition?: number;
  timestamp?: number;
  headers?: Record<string, string>;
}

/** Produces records (keys and values as strings) and waits for the acks. */
export async function produce(topic: string, messages: TestMessage[]): Promise<void> {
  if (!producer) {
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
  }
  for (let i = 0; i < messages.length; i += 2_000) {
    await producer.send({
      topic,
      messages: messages.slice(i, i + 2_000).map((m) => ({
        key: m.key,
        value: m.value,
        ...(m.partition !== undefined ? { partition: m.partition } : {}),
        ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
      })),
    });
  }
}

export interface ReadMessage {
  key: string | null;
  value: string | null;
  valueBytes: Buffer | null;
  partition: number;
  offset: number;
  timestamp: number;
  headers: Record<string, string>;
}

/**
 * Reads every record of a topic (all partitions, up to their current ends), committed ones only: the
 * last offsets of a transactional topic are markers that are never delivered, so a partition is
 * read when kafkajs's batch position passes its end.
 */
export async function readAll(topic: string): Promise<ReadMessage[]> {
  const a = await getAdmin();
  const ends = await a.fetchTopicOffsets(topic);
  const wanted = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]));
  const out: ReadMessage[] = [];
  if (wanted.size === 0) return out;
  const consumer = kafka.consumer({ groupId: unique('reader'), maxWaitTimeInMs: 100 });
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (Number(payload.lastOffset) + 1 >= (wanted.get(payload.partition) ?? 0)) wanted.delete(payload.partition);
    if (wanted.size === 0) resolveDone();
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  void consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? null,
        valueBytes: message.value ?? null,
        partition,
        offset: Number(message.offset),
        timestamp: Number(message.timestamp),
        headers,
      });
      if (Number(message.offset) + 1 >= (wanted.get(partition) ?? 0)) wanted.delete(partition);
      if (wanted.size === 0) resolveDone();
    },
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 30_000));
  try {
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect();
  }
  return out.sort((x, y) => x.partition - y.partition || x.offset - y.offset);
}

/** The last value per key of a topic (what a compacted changelog would keep). */
export async function latestByKey(topic: string): Promise<Map<string, string | null>> {
  const latest = new Map<string, string | null>();
  for (const message of await readAll(topic)) if (message.key !== null) latest.set(message.key, message.value);
  return latest;
}

/** Polls until `condition` holds (or throws after `timeoutMs`). */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Deletes every Redis key of an application. */
export async function resetRedis(applicationId: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `trib:{${applicationId}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

export async function closeHelpers(): Promise<void> {
  await producer?.disconnect();
  await admin?.disconnect();
  producer = undefined;
  admin = undefined;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server a test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

type StreamsOptions = ConstructorParameters<typeof KafkaStreams>[1];

/**
 * `KafkaStreams` instances of one test file on the test broker and Redis, with quick commits and
 * group timings; `closeAll` (for `afterAll`) closes them and deletes their Redis state.
 */
export function testApps(): { app(topology: Topology, applicationId: string, extra?: Partial<StreamsOptions>): KafkaStreams; closeAll(): Promise<void> } {
  const apps: KafkaStreams[] = [];
  const appIds: string[] = [];
  return {
    app(topology, applicationId, extra = {}) {
      const streams = new KafkaStreams(topology, {
        applicationId,
        brokers,
        redis: redisUrl,
        commitIntervalMs: 200,
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 500,
        watchdog: false,
        log: () => undefined,
        ...extra,
      });
      apps.push(streams);
      appIds.push(applicationId);
      return streams;
    },
    async closeAll() {
      await Promise.allSettled(apps.map((a) => a.close()));
      await Promise.allSettled(appIds.map((id) => resetRedis(id)));
      await closeHelpers();
    },
  };
}
