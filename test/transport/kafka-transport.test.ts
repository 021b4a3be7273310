/**
 * The kafkajs transport against the real broker at KAFKA_BROKERS: producing, consuming through the
 * group, the co-partitioning assignor across two members, rebalances, seek, pause, commits.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { KafkaTransport } from '../../src/transport/kafka-transport.ts';
import { partitionForKey } from '../../src/transport/partitioner.ts';
import type { ConsumerHandlers, SubscribeOptions, TopicPartition } from '../../src/transport/transport.ts';
import type { IncomingRecord, OutgoingRecord } from '../../src/transport/types.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').filter((b) => b.length > 0);
const runId = randomUUID().slice(0, 8);
let counter = 0;
const unique = (what: string): string => `transport-test-${what}-${runId}-${counter++}`;
const FAST_GROUP = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 } satisfies Partial<SubscribeOptions>;

let admin: Admin;
let transport: KafkaTransport;
const createdTopics: string[] = [];
const opened: KafkaTransport[] = [];

function open(): KafkaTransport {
  const t = new KafkaTransport({ brokers, clientId: `transport-test-${runId}`, maxWaitTimeMs: 100 });
  opened.push(t);
  return t;
}

async function createTopic(partitions: number, what = 'topic'): Promise<string> {
  const topic = unique(what);
  await transport.createTopics([{ topic, partitions }]);
  createdTopics.push(topic);
  return topic;
}

function record(topic: string, key: string | null, value: string, extra: Partial<OutgoingRecord> = {}): OutgoingRecord {
  return { topic, key: key === null ? null : Buffer.from(key), value: Buffer.from(value), timestamp: Date.now(), headers: {}, ...extra };
}

interface Member {
  transport: KafkaTransport;
  handlers: ConsumerHandlers;
  assignments: TopicPartition[][];
  rebalances: number;
  records: IncomingRecord[];
  crashes: Error[];
}

function member(t: KafkaTransport, overrides: Partial<ConsumerHandlers> = {}): Member {
  const m: Member = {
    transport: t,
    assignments: [],
    rebalances: 0,
    records: [],
    crashes: [],
    handlers: {
      onAssignment: async (partitions) => {
        m.assignments.push(partitions);
        await overrides.onAssignment?.(partitions);
      },
      onRebalancing: async () => {
        m.rebalances++;
      },
      onRecords: (records) => {
        m.records.push(...records);
        overrides.onRecords?.(records);
      },
      onCrash: (error) => m.crashes.push(error),
    },
  };
  return m;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const latest = (m: Member): TopicPartition[] => m.assignments[m.assignments.length - 1] ?? [];
const partitionsOf = (assignment: TopicPartition[], topic: string): number[] =>
  assignment.filter((tp) => tp.topic === topic).map((tp) => tp.partition).sort((a, b) => a - b);
const values = (records: IncomingRecord[]): string[] => records.map((r) => r.value!.toString());

beforeAll(async () => {
  admin = new Kafka({ brokers, clientId: `transport-test-admin-${runId}`, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  transport = open();
  await transport.connect();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((t) => t.close()));
  if (createdTopics.length > 0) await admin.deleteTopics({ topics: createdTopics }).catch(() => undefined);
  await admin.disconnect();
});

describe('KafkaTransport', () => {
  it('fails fast with one clear message when Kafka cannot be reached', async () => {
    const started = Date.now();
    const unreachable = new KafkaTransport({ brokers: ['127.0.0.1:1'] });
    await expect(unreachable.connect()).rejects.toThrow(/^cannot reach Kafka at 127\.0\.0\.1:1: .+; start it with `tributary services up` or pass --brokers$/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await unreachable.close();
  });

  it('creates topics, leaves existing ones alone, and reports partition counts of existing topics only', async () => {
    const topic = await createTopic(3);
    await transport.createTopics([{ topic, partitions: 5 }]);
    const missing = unique('missing');
    expect(await transport.partitionCounts([topic, missing])).toEqual(new Map([[topic, 3]]));
    expect(await transport.offsetRange([topic])).toEqual(
      new Map([0, 1, 2].map((p) => [`${topic}:${p}`, { low: 0, high: 0 }])),
    );
  });

  it('keeps each partition in send order across producer lanes, and flush waits for every lane', async () => {
    const topic = await createTopic(6, 'lanes');
    const laned = new KafkaTransport({ brokers, clientId: `transport-test-${runId}`, producerLanes: 3, maxBatchBytes: 4_096 });
    opened.push(laned);
    await laned.connect();
    // Small requests (4 KiB), so each lane sends many while the others are in flight; some records
    // of a topic whose partition count the transport does not know yet come first (they wait, and
    // everything after them waits behind them).
    const sent = 6_000;
    for (let i = 0; i < sent; i++) laned.send(record(topic, `k${i % 97}`, String(i)));
    await laned.flush();
    const range = await laned.offsetRange([topic]);
    expect([...range.values()].reduce((n, r) => n + r.high, 0)).toBe(sent);

    const consumer = member(open());
    await consumer.transport.subscribe({ groupId: unique('group'), topics: [topic], copartitionGroups: [], ...FAST_GROUP }, consumer.handlers);
    await waitFor('every record', () => consumer.records.length === sent, 30_000);
    const byPartition = new Map<number, number[]>();
    for (const rec of consumer.records) byPartition.set(rec.partition, [...(byPartition.get(rec.partition) ?? []), Number(rec.value!.toString())]);
    expect(byPartition.size).toBe(6);
    for (const [partition, order] of byPartition) {
      expect(order, `partition ${partition}`).toEqual([...order].sort((a, b) => a - b));
      for (const i of order) expect(partitionForKey(Buffer.from(`k${i % 97}`), 6)).toBe(partition);
    }
  });

  it('rejects a lane count that is not a positive integer', () => {
    expect(() => new KafkaTransport({ brokers, producerLanes: 0 })).toThrow(/producerLanes must be an integer >= 1, got 0/);
  });

  it('round-trips keys, values, headers and timestamps, placing keyed records by murmur2', async () => {
    const topic = await createTopic(4);
    const keys = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
    for (const [i, key] of keys.entries()) {
      transport.send(record(topic, key, `value-${i}`, { timestamp: 1_700_000_000_000 + i, headers: { trace: `t-${i}`, binary: Buffer.from('bytes') } }));
    }
    transport.send(record(topic, null, 'no key', { timestamp: 42, value: null }));
    transport.send(record(topic, null, 'explicit', { partition: 2 }));
    await transport.flush();
    const range = await transport.offsetRange([topic]);
    expect([...range.values()].reduce((n, r) => n + r.high, 0)).toBe(keys.length + 2);

    const consumer = member(open());
    await consumer.transport.subscribe({ groupId: unique('group'), topics: [topic], copartitionGroups: [], ...FAST_GROUP }, consumer.handlers);
    await waitFor('every record', () => consumer.records.length === keys.length + 2);
    expect(partitionsOf(latest(consumer), topic)).toEqual([0, 1, 2, 3]);
    for (const rec of consumer.records.filter((r) => r.key !== null)) {
      const i = keys.indexOf(rec.key!.toString());
      expect(rec.partition).toBe(partitionForKey(Buffer.from(keys[i]!), 4));
      expect(rec.value!.toString()).toBe(`value-${i}`);
      expect(rec.timestamp).toBe(1_700_000_000_000 + i);
      expect(rec.headers).toEqual({ trace: `t-${i}`, binary: 'bytes' });
      expect(typeof rec.offset).toBe('number');
    }
    const nullKey = consumer.records.find((r) => r.timestamp === 42)!;
    expect(nullKey).toMatchObject({ key: null, value: null, headers: {} });
    expect(consumer.records.find((r) => r.value?.toString() === 'explicit')!.partition).toBe(2);
  });

  it('flush rejects when a record cannot be sent', async () => {
    const failing = open();
    await failing.connect();
    failing.send(record(unique('does-not-exist'), 'k', 'v'));
    await expect(failing.flush()).rejects.toThrow(/does not exist/);
  });

  it(
    'co-partitions two members: each owns the same partitions of both topics, and rebalances when one joins and leaves',
    async () => {
      const left = await createTopic(4, 'left');
      const right = await createTopic(4, 'right');
      const groupId = unique('group');
      const options: SubscribeOptions = { groupId, topics: [left, right], copartitionGroups: [[left, right]], ...FAST_GROUP };

      const first = member(open());
      await first.transport.subscribe(options, first.handlers);
      await waitFor('the first assignment', () => first.assignments.length === 1);
      expect(latest(first)).toHaveLength(8);

      const second = member(open());
      await second.transport.subscribe(options, second.handlers);
      await waitFor('the rebalance', () => latest(first).length === 4 && latest(second).length === 4);
      expect(first.assignments.length).toBeGreaterThanOrEqual(2);
      expect(first.rebalances).toBeGreaterThanOrEqual(1);
      for (const m of [first, second]) expect(partitionsOf(latest(m), left)).toEqual(partitionsOf(latest(m), right));
      expect([...partitionsOf(latest(first), left), ...partitionsOf(latest(second), left)].sort()).toEqual([0, 1, 2, 3]);

      // Records follow the assignment: keyed records of both topics land on the member owning the key's partition.
      for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
        transport.send(record(left, key, `L-${key}`));
        transport.send(record(right, key, `R-${key}`));
      }
      await transport.flush();
      await waitFor('all twelve records', () => first.records.length + second.records.length === 12);
      for (const m of [first, second]) {
        const owned = new Set(partitionsOf(latest(m), left));
        for (const rec of m.records) expect(owned.has(rec.partition)).toBe(true);
      }

      // close() leaves the group: the survivor gets everything back long before the session timeout.
      const leftAt = Date.now();
      await second.transport.close();
      await waitFor('the survivor to own all partitions', () => latest(first).length === 8, FAST_GROUP.sessionTimeoutMs);
      expect(Date.now() - leftAt).toBeLessThan(FAST_GROUP.sessionTimeoutMs);
      expect(first.crashes).toEqual([]);
      const { groups } = await admin.describeGroups([groupId]);
      expect(groups[0]!.members).toHaveLength(1);
    },
    40_000,
  );

  it('seek from onAssignment and later, backwards; records of a stale fetch are not delivered', async () => {
    const topic = await createTopic(1);
    for (let i = 0; i < 10; i++) transport.send(record(topic, null, `v${i}`));
    await transport.flush();
    const t = open();
    // The seek comes late: kafkajs has fetched from offset 0 meanwhile, and that batch must be dropped.
    const consumer = member(t, {
      onAssignment: async () => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        t.seek({ topic, partition: 0, offset: 6 });
      },
    });
    await t.subscribe({ groupId: unique('group'), topics: [topic], copartitionGroups: [], ...FAST_GROUP }, consumer.handlers);
    await waitFor('v6..v9', () => consumer.records.length === 4);
    expect(values(consumer.records)).toEqual(['v6', 'v7', 'v8', 'v9']);
    t.seek({ topic, partition: 0, offset: 2 });
    await waitFor('the replay', () => consumer.records.length === 12);
    expect(values(consumer.records.slice(4))).toEqual(['v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
  });

  it('a paused partition delivers nothing until resumed, and nothing is skipped', async () => {
    const topic = await createTopic(2);
    for (let i = 0; i < 3; i++) {
      transport.send(record(topic, null, `p0-${i}`, { partition: 0 }));
      transport.send(record(topic, null, `p1-${i}`, { partition: 1 }));
    }
    await transport.flush();
    const t = open();
    // Paused late: a batch of partition 1 was fetched meanwhile and waits; it must be rewound, not delivered or lost.
    const consumer = member(t, {
      onAssignment: async () => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        t.pause([{ topic, partition: 1 }]);
      },
    });
    await t.subscribe({ groupId: unique('group'), topics: [topic], copartitionGroups: [], ...FAST_GROUP }, consumer.handlers);
    await waitFor('partition 0', () => consumer.records.length === 3);
    transport.send(record(topic, null, 'p1-3', { partition: 1 }));
    await transport.flush();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(consumer.records.every((r) => r.partition === 0)).toBe(true);
    t.resume([{ topic, partition: 1 }]);
    await waitFor('partition 1', () => consumer.records.length === 7);
    expect(values(consumer.records.filter((r) => r.partition === 1))).toEqual(['p1-0', 'p1-1', 'p1-2', 'p1-3']);
  });

  it('commits offsets to the group; a new member of the group starts from them', async () => {
    const topic = await createTopic(2);
    const groupId = unique('group');
    for (let i = 0; i < 5; i++) transport.send(record(topic, null, `v${i}`, { partition: 0 }));
    await transport.flush();
    const first = member(open());
    await first.transport.subscribe({ groupId, topics: [topic], copartitionGroups: [], ...FAST_GROUP }, first.handlers);
    await waitFor('five records', () => first.records.length === 5);
    await first.transport.commitOffsets([{ topic, partition: 0, offset: 3 }]);
    const committed = await transport.committedOffsets(groupId, [
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    expect(committed).toEqual(new Map([[`${topic}:0`, 3]]));
    await first.transport.close();

    const second = member(open());
    await second.transport.subscribe({ groupId, topics: [topic], copartitionGroups: [], ...FAST_GROUP }, second.handlers);
    await waitFor('the records after the commit', () => second.records.length === 2);
    expect(values(second.records)).toEqual(['v3', 'v4']);
  });
});
