/**
 * The development services against the real broker and Redis: proves that the Kafka version run by
 * `tributary services up` works with kafkajs (produce/consume, consumer groups, transactions) and
 * that Redis does MULTI/EXEC and Lua scripts with ioredis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin, type Consumer, type KafkaMessage } from 'kafkajs';
import { Redis } from 'ioredis';
import { servicesStatus, servicesUp } from '../../src/cli/services/index.ts';
import { createTopicsAndWait } from '../../src/transport/create-topics.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter((b) => b.length > 0);
const redisUrl = process.env.REDIS_URL ?? '';
const runId = randomUUID().slice(0, 8);
const name = (what: string): string => `services-test-${what}-${runId}`;
const localKafka = `127.0.0.1:${process.env.TRIBUTARY_KAFKA_PORT || 9092}`;
const usesLocalServices = brokers.join(',') === localKafka && redisUrl === 'redis://127.0.0.1:6379';

const kafka = new Kafka({ clientId: name('client'), brokers, logLevel: logLevel.NOTHING });
let admin: Admin;
const createdTopics: string[] = [];
const consumers: Consumer[] = [];

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  await createTopicsAndWait(admin, [{ topic, numPartitions, replicationFactor: 1 }]);
  createdTopics.push(topic);
}

function newConsumer(groupId: string, readUncommitted = false): Consumer {
  const consumer = kafka.consumer({
    groupId,
    readUncommitted,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
    retry: { retries: 10 },
  });
  consumers.push(consumer);
  return consumer;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Seen {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function seen(partition: number, message: KafkaMessage): Seen {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers,
  };
}

/** Consumes `topic` from the beginning into a list until `done(list)` holds. */
async function consumeUntil(consumer: Consumer, topic: string, done: (list: Seen[]) => boolean): Promise<Seen[]> {
  const list: Seen[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ partition, message }) => void list.push(seen(partition, message)) });
  await waitFor(`records on ${topic}`, () => done(list));
  return list;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
  if (admin) {
    if (createdTopics.length > 0) await admin.deleteTopics({ topics: createdTopics }).catch(() => undefined);
    await admin.disconnect();
  }
});

describe('local services', () => {
  it('are handed to the test workers through KAFKA_BROKERS and REDIS_URL', () => {
    expect(brokers.length).toBeGreaterThan(0);
    expect(redisUrl).toMatch(/^rediss?:\/\//);
    expect(process.env.KAFKAJS_NO_PARTITIONER_WARNING).toBe('1');
  });

  it.runIf(usesLocalServices)('servicesUp is idempotent and servicesStatus sees both running', async () => {
    const again = await servicesUp({ quiet: true });
    expect(again.started).toEqual({ kafka: false, redis: false });
    expect(again.brokers).toEqual(brokers);
    const status = await servicesStatus();
    expect(status.kafka.running).toBe(true);
    expect(status.kafka.endpoint).toBe(localKafka);
    expect(status.redis.running).toBe(true);
    // A broker that tributary started reports its version (the smoke run of the other version asks for one).
    const asked = process.env.TRIBUTARY_KAFKA_VERSION;
    if (asked && status.kafka.managed) expect(status.kafka.version).toBe(asked);
  });
});

describe('Kafka with kafkajs', () => {
  it('produces and consumes keyed records with headers', async () => {
    const topic = name('plain');
    await createTopic(topic, 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'alice', value: 'one', headers: { source: 'test' } },
        { key: 'bob', value: 'two' },
        { key: 'alice', value: 'three' },
      ],
    });
    await producer.disconnect();

    const list = await consumeUntil(newConsumer(name('plain-group')), topic, (l) => l.length >= 3);
    expect(list.map((r) => [r.key, r.value])).toEqual([
      ['alice', 'one'],
      ['bob', 'two'],
      ['alice', 'three'],
    ]);
    expect(list[0]?.headers).toEqual({ source: 'test' });
  });

  it('shares a 4-partition topic between the two members of a consumer group, each record once', async () => {
    const topic = name('group');
    const groupId = name('group-group');
    await createTopic(topic, 4);

    const members = [newConsumer(groupId), newConsumer(groupId)];
    const assignments: number[][] = [[], []];
    const received: Seen[][] = [[], []];
    await Promise.all(
      members.map(async (consumer, i) => {
        consumer.on(consumer.events.GROUP_JOIN, (event) => {
          assignments[i] = [...(event.payload.memberAssignment[topic] ?? [])].sort();
        });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ partition, message }) => void received[i]?.push(seen(partition, message)),
        });
      }),
    );
    // A stable generation: both members hold partitions, disjoint, covering all four.
    await waitFor('a balanced assignment', () => {
      const [a = [], b = []] = assignments;
      const all = new Set([...a, ...b]);
      return a.length > 0 && b.length > 0 && all.size === 4 && a.length + b.length === 4;
    });

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 40 }, (_, n) => ({ partition: n % 4, key: `k${n}`, value: String(n) })),
    });
    await producer.disconnect();

    await waitFor('40 records', () => received[0]!.length + received[1]!.length >= 40);
    await new Promise((r) => setTimeout(r, 500)); // room for duplicates to show up, if any

    const all = [...received[0]!, ...received[1]!];
    expect(all).toHaveLength(40);
    expect(new Set(all.map((r) => r.value)).size).toBe(40);
    for (const i of [0, 1]) {
      expect(received[i]!.length).toBeGreaterThan(0);
      for (const r of received[i]!) expect(assignments[i]).toContain(r.partition);
    }
  });

  it('shows a read_committed consumer only committed transactions', async () => {
    const topic = name('tx');
    await createTopic(topic, 1);
    const producer = kafka.producer({
      transactionalId: name('tx-producer'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'c1' }, { value: 'c2' }] });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'a1' }, { value: 'a2' }] });
    await aborted.abort();

    const last = await producer.transaction();
    await last.send({ topic, messages: [{ value: 'c3' }] });
    await last.commit();
    await producer.disconnect();

    const isLast = (l: Seen[]): boolean => l.some((r) => r.value === 'c3');
    const readCommitted = await consumeUntil(newConsumer(name('tx-committed'), false), topic, isLast);
    expect(readCommitted.map((r) => r.value)).toEqual(['c1', 'c2', 'c3']);

    // The aborted records were written: a read_uncommitted consumer sees them.
    const readUncommitted = await consumeUntil(newConsumer(name('tx-uncommitted'), true), topic, isLast);
    expect(readUncommitted.map((r) => r.value)).toEqual(['c1', 'c2', 'a1', 'a2', 'c3']);
  });
});

describe('Redis with ioredis', () => {
  let redis: Redis;
  const key = (what: string): string => `tributary-test:${runId}:${what}`;

  beforeAll(async () => {
    redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
  });

  afterAll(async () => {
    if (redis) {
      await redis.del(key('counter'), key('hash'), key('cas'));
      await redis.quit();
    }
  });

  it('runs MULTI/EXEC atomically', async () => {
    const results = await redis
      .multi()
      .set(key('counter'), '1')
      .incrby(key('counter'), 41)
      .hset(key('hash'), 'a', '1', 'b', '2')
      .hgetall(key('hash'))
      .exec();
    expect(results).toEqual([
      [null, 'OK'],
      [null, 42],
      [null, 2],
      [null, { a: '1', b: '2' }],
    ]);
  });

  it('runs a Lua script (compare-and-set)', async () => {
    const script = `
      local current = redis.call('GET', KEYS[1])
      if current == ARGV[1] or (current == false and ARGV[1] == '') then
        redis.call('SET', KEYS[1], ARGV[2])
        return 1
      end
      return 0`;
    expect(await redis.eval(script, 1, key('cas'), '', 'v1')).toBe(1);
    expect(await redis.eval(script, 1, key('cas'), 'wrong', 'v2')).toBe(0);
    expect(await redis.eval(script, 1, key('cas'), 'v1', 'v2')).toBe(1);
    expect(await redis.get(key('cas'))).toBe('v2');
  });
});
