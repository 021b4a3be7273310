import type { IncomingRecord, OutgoingRecord } from './types.ts';
import { partitionForKey } from './partitioner.ts';

/**
 * An in-memory Kafka: topics with partitions and offsets, the same default partitioner, and
 * committed offsets per group. The embedded mode and the test driver run on it.
 */
export class InMemoryBroker {
  private readonly topics = new Map<string, IncomingRecord[][]>();
  /** Per topic, each partition's first stored offset (records before it were deleted). */
  private readonly bases = new Map<string, number[]>();
  private readonly committed = new Map<string, Map<string, number>>();
  private roundRobin = 0;
  private readonly listeners = new Set<(topic: string) => void>();

  constructor(private readonly options: { defaultPartitions?: number; autoCreateTopics?: boolean } = {}) {}

  createTopic(topic: string, partitions = this.options.defaultPartitions ?? 1): void {
    if (this.topics.has(topic)) return;
    this.topics.set(topic, Array.from({ length: partitions }, () => []));
    this.bases.set(topic, new Array<number>(partitions).fill(0));
  }

  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  partitionsFor(topic: string): number | undefined {
    return this.topics.get(topic)?.length;
  }

  /** Appends a record and returns where it landed. */
  append(record: OutgoingRecord): IncomingRecord {
    if (!this.topics.has(record.topic)) {
      if (this.options.autoCreateTopics === false) throw new Error(`topic '${record.topic}' does not exist`);
      this.createTopic(record.topic);
    }
    const partitions = this.topics.get(record.topic)!;
    const partition = record.partition ?? (record.key ? partitionForKey(record.key, partitions.length) : this.roundRobin++ % partitions.length);
    const log = partitions[partition];
    if (!log) throw new RangeError(`topic '${record.topic}' has no partition ${partition}`);
    const stored: IncomingRecord = {
      topic: record.topic,
      partition,
      offset: this.base(record.topic, partition) + log.length,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: record.headers,
    };
    log.push(stored);
    for (const listener of this.listeners) listener(record.topic);
    return stored;
  }

  /**
   * Appends a record the caller hands over for good (the test driver's sink output): it becomes the
   * stored record itself, with its offset, instead of being copied.
   */
  adopt(record: OutgoingRecord & { partition: number }): void {
    let partitions = this.topics.get(record.topic);
    if (!partitions) {
      this.createTopic(record.topic);
      partitions = this.topics.get(record.topic)!;
    }
    const log = partitions[record.partition];
    if (!log) throw new RangeError(`topic '${record.topic}' has no partition ${record.partition}`);
    (record as IncomingRecord).offset = this.base(record.topic, record.partition) + log.length;
    log.push(record as IncomingRecord);
    for (const listener of this.listeners) listener(record.topic);
  }

  /** Records of one partition from `offset` (or its first stored record, if deleted), at most `max`. */
  read(topic: string, partition: number, offset: number, max = Infinity): IncomingRecord[] {
    const log = this.topics.get(topic)?.[partition];
    const from = Math.max(0, offset - this.base(topic, partition));
    if (!log || from >= log.length) return [];
    return log.slice(from, max === Infinity ? undefined : from + max);
  }

  /** The record at an offset, if any. */
  at(topic: string, partition: number, offset: number): IncomingRecord | undefined {
    const index = offset - this.base(topic, partition);
    return index < 0 ? undefined : this.topics.get(topic)?.[partition]?.[index];
  }

  /** The first offset still stored (0 until records are deleted). */
  startOffset(topic: string, partition: number): number {
    return this.base(topic, partition);
  }

  endOffset(topic: string, partition: number): number {
    return this.base(topic, partition) + (this.topics.get(topic)?.[partition]?.length ?? 0);
  }

  /** Kafka's DeleteRecords: drops the records of a partition before `offset` (at most up to its end). */
  deleteRecords(topic: string, partition: number, offset: number): void {
    const log = this.topics.get(topic)?.[partition];
    const bases = this.bases.get(topic);
    if (!log || !bases) throw new RangeError(`topic '${topic}' has no partition ${partition}`);
    const base = bases[partition] ?? 0;
    const count = Math.min(offset, base + log.length) - base;
    if (count <= 0) return;
    log.splice(0, count);
    bases[partition] = base + count;
  }

  private base(topic: string, partition: number): number {
    return this.bases.get(topic)?.[partition] ?? 0;
  }

  commit(group: string, offsets: Iterable<[string, number]>): void {
    if (!this.committed.has(group)) this.committed.set(group, new Map());
    const map = this.committed.get(group)!;
    for (const [tp, offset] of offsets) map.set(tp, offset);
  }

  committedOffset(group: string, topic: string, partition: number): number | undefined {
    return this.committed.get(group)?.get(`${topic}:${partition}`);
  }

  /** Calls `listener(topic)` after every append; returns an unsubscribe function. */
  onAppend(listener: (topic: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
