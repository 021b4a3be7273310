import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryBroker } from '../../src/transport/memory-broker.ts';
import { InMemoryTransport } from '../../src/transport/memory-transport.ts';
import { partitionForKey } from '../../src/transport/partitioner.ts';
import type { ConsumerHandlers, TopicPartition } from '../../src/transport/transport.ts';
import type { IncomingRecord, OutgoingRecord } from '../../src/transport/types.ts';

const transports: InMemoryTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

function setup(defaultPartitions = 1, maxBatchSize?: number): { broker: InMemoryBroker; transport: InMemoryTransport } {
  const broker = new InMemoryBroker({ defaultPartitions });
  const transport = new InMemoryTransport(broker, maxBatchSize === undefined ? {} : { maxBatchSize });
  transports.push(transport);
  return { broker, transport };
}

function record(topic: string, key: string | null, value: string, extra: Partial<OutgoingRecord> = {}): OutgoingRecord {
  return { topic, key: key === null ? null : Buffer.from(key), value: Buffer.from(value), timestamp: 1_000, headers: {}, ...extra };
}

interface Recorder {
  handlers: ConsumerHandlers;
  events: string[];
  batches: IncomingRecord[][];
  records: () => IncomingRecord[];
  assignments: TopicPartition[][];
  crashes: Error[];
}

function recorder(overrides: Partial<ConsumerHandlers> = {}): Recorder {
  const r: Recorder = {
    events: [],
    batches: [],
    assignments: [],
    crashes: [],
    records: () => r.batches.flat(),
    handlers: {
      onAssignment: async (partitions) => {
        r.events.push('assignment');
        r.assignments.push(partitions);
        await overrides.onAssignment?.(partitions);
      },
      onRecords: (records) => {
        r.events.push('records');
        r.batches.push(records);
        overrides.onRecords?.(records);
      },
      onCrash: (error) => r.crashes.push(error),
    },
  };
  return r;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const settle = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const values = (records: IncomingRecord[]): string[] => records.map((r) => r.value!.toString());

describe('InMemoryTransport', () => {
  it('calls onAssignment once with every partition of the subscribed topics before any record', async () => {
    const { broker, transport } = setup();
    broker.createTopic('a', 3);
    transport.send(record('a', 'k', 'v'));
    let releaseAssignment!: () => void;
    const r = recorder({ onAssignment: () => new Promise<void>((resolve) => (releaseAssignment = resolve)) });
    await transport.subscribe({ groupId: 'g', topics: ['a', 'b'], copartitionGroups: [['a']] }, r.handlers);
    await settle();
    expect(r.events).toEqual(['assignment']);
    expect(r.assignments[0]).toEqual([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'a', partition: 2 },
      { topic: 'b', partition: 0 },
    ]);
    releaseAssignment();
    await waitFor('the record', () => r.records().length === 1);
    expect(r.events).toEqual(['assignment', 'records']);
  });

  it('creates subscribed topics on demand', async () => {
    const { broker, transport } = setup(2);
    await transport.subscribe({ groupId: 'g', topics: ['fresh'], copartitionGroups: [] }, recorder().handlers);
    expect(broker.partitionsFor('fresh')).toBe(2);
    expect(await transport.partitionCounts(['fresh', 'missing'])).toEqual(new Map([['fresh', 2]]));
  });

  it('places keyed records by murmur2 and delivers them per partition, in offset order, with their fields', async () => {
    const { transport } = setup();
    await transport.createTopics([{ topic: 't', partitions: 4 }]);
    const r = recorder();
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, r.handlers);
    const keys = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
    for (const [i, key] of keys.entries()) transport.send(record('t', key, `v${i}`, { timestamp: 100 + i, headers: { trace: `id-${i}` } }));
    await transport.flush();
    await waitFor('all records', () => r.records().length === keys.length);
    for (const batch of r.batches) expect(new Set(batch.map((rec) => rec.partition)).size).toBe(1);
    for (const rec of r.records()) {
      const i = keys.indexOf(rec.key!.toString());
      expect(rec.partition).toBe(partitionForKey(Buffer.from(keys[i]!), 4));
      expect(rec).toMatchObject({ topic: 't', timestamp: 100 + i, headers: { trace: `id-${i}` } });
      expect(rec.value!.toString()).toBe(`v${i}`);
    }
    const offsets = r.records().filter((rec) => rec.partition === r.records()[0]!.partition).map((rec) => rec.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });

  it('never delivers from inside send: records arrive on a later turn of the event loop', async () => {
    const { transport } = setup();
    const r = recorder();
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, r.handlers);
    await settle();
    transport.send(record('t', null, 'one'));
    transport.send(record('t', null, 'two'));
    expect(r.records()).toEqual([]);
    await waitFor('both records', () => r.records().length === 2);
    expect(r.batches).toHaveLength(1);
  });

  it('delivers in batches of at most maxBatchSize records', async () => {
    const { transport } = setup(1, 3);
    for (let i = 0; i < 7; i++) transport.send(record('t', null, `v${i}`));
    const r = recorder();
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, r.handlers);
    await waitFor('all records', () => r.records().length === 7);
    expect(r.batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('a paused partition gets nothing until it is resumed', async () => {
    const { transport } = setup();
    const r = recorder({ onAssignment: async (partitions) => transport.pause(partitions) });
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, r.handlers);
    transport.send(record('t', null, 'held'));
    await settle();
    expect(r.records()).toEqual([]);
    transport.resume([{ topic: 't', partition: 0 }]);
    await waitFor('the held record', () => r.records().length === 1);
  });

  it('seek moves the read position, backwards and forwards, also from onAssignment', async () => {
    const { transport } = setup();
    for (let i = 0; i < 5; i++) transport.send(record('t', null, `v${i}`));
    const r = recorder({ onAssignment: async () => transport.seek({ topic: 't', partition: 0, offset: 3 }) });
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, r.handlers);
    await waitFor('v3 and v4', () => r.records().length === 2);
    expect(values(r.records())).toEqual(['v3', 'v4']);
    transport.seek({ topic: 't', partition: 0, offset: 1 });
    await waitFor('replay from v1', () => r.records().length === 6);
    expect(values(r.records()).slice(2)).toEqual(['v1', 'v2', 'v3', 'v4']);
  });

  it('starts from the committed offset, else from autoOffsetReset', async () => {
    const { broker, transport } = setup();
    for (let i = 0; i < 4; i++) transport.send(record('t', null, `v${i}`));
    const first = recorder();
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, first.handlers);
    await waitFor('all', () => first.records().length === 4);
    await transport.commitOffsets([{ topic: 't', partition: 0, offset: 2 }]);
    expect(await transport.committedOffsets('g', [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])).toEqual(new Map([['t:0', 2]]));
    await transport.close();

    const again = new InMemoryTransport(broker);
    transports.push(again);
    const second = recorder();
    await again.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, second.handlers);
    await waitFor('from the commit', () => second.records().length === 2);
    expect(values(second.records())).toEqual(['v2', 'v3']);

    const latest = new InMemoryTransport(broker);
    transports.push(latest);
    const third = recorder();
    await latest.subscribe({ groupId: 'other', topics: ['t'], copartitionGroups: [], autoOffsetReset: 'latest' }, third.handlers);
    latest.send(record('t', null, 'new'));
    await waitFor('only the new record', () => third.records().length === 1);
    expect(values(third.records())).toEqual(['new']);
  });

  it('offsetRange reports the first and next offset of every partition', async () => {
    const { transport } = setup();
    await transport.createTopics([{ topic: 'r', partitions: 2 }]);
    transport.send(record('r', null, 'x', { partition: 1 }));
    transport.send(record('r', null, 'y', { partition: 1 }));
    expect(await transport.offsetRange(['r'])).toEqual(
      new Map([
        ['r:0', { low: 0, high: 0 }],
        ['r:1', { low: 0, high: 2 }],
      ]),
    );
  });

  it('flush rejects when a record could not be stored', async () => {
    const broker = new InMemoryBroker({ autoCreateTopics: false });
    const transport = new InMemoryTransport(broker);
    transports.push(transport);
    transport.send(record('nowhere', null, 'x'));
    await expect(transport.flush()).rejects.toThrow(/nowhere/);
  });

  it('a throwing onRecords is reported through onCrash and delivery stops', async () => {
    const { transport } = setup();
    const r = recorder({
      onRecords: () => {
        throw new Error('boom');
      },
    });
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, r.handlers);
    transport.send(record('t', null, 'a'));
    await waitFor('the crash', () => r.crashes.length === 1);
    transport.send(record('t', null, 'b'));
    await settle();
    expect(r.batches).toHaveLength(1);
    expect(r.crashes[0]!.message).toBe('boom');
  });

  it('sleeps while idle and stops on close', async () => {
    const { broker, transport } = setup();
    const r = recorder();
    await transport.subscribe({ groupId: 'g', topics: ['t'], copartitionGroups: [] }, r.handlers);
    await settle();
    let reads = 0;
    const read = broker.read.bind(broker);
    broker.read = (...args) => {
      reads++;
      return read(...args);
    };
    await settle(50);
    expect(reads).toBe(0);
    await transport.close();
    await transport.close();
    broker.append(record('t', null, 'after close'));
    await settle();
    expect(r.records()).toEqual([]);
    expect(() => transport.send(record('t', null, 'x'))).toThrow(/closed/);
  });
});
