import type { IncomingRecord, OutgoingRecord } from './types.ts';
import { partitionForKey } from './partitioner.ts';

/**
 * An in-memory Kafka: topics with partitions and offsets, the same default partitioner, and
 * committed offsets per group. The embedded mode and the test driver run on it.
 */
export class InMemoryBroker {
  private readonly topics = new Map<string, IncomingRecord[][]>();
  private readonly committed = new Map<string, Map<string, number>>();
  private roundRobin = 0;
  private readonly listeners = new Set<(topic: string) => void>();

  constructor(private readonly options: { defaultPartitions?: number; autoCreateTopics?: boolean } = {}) {}

  createTopic(topic: string, partitions = this.options.defaultPartitions ?? 1): void {
    if (this.topics.has(topic)) return;
    this.topics.set(topic, Array.from({ length: partitions }, () => []));
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
      offset: log.length,
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
    (record as IncomingRecord).offset = log.length;
    log.push(record as IncomingRecord);
    for (const listener of this.listeners) listener(record.topic);
  }

  /** Records of one partition from `offset`, at most `max`. */
  read(topic: string, partition: number, offset: number, max = Infinity): IncomingRecord[] {
    const log = this.topics.get(topic)?.[partition];
    if (!log || offset >= log.length) return [];
    return log.slice(offset, max === Infinity ? undefined : offset + max);
  }

  /** The record at an offset, if any. */
  at(topic: string, partition: number, offset: number): IncomingRecord | undefined {
    return this.topics.get(topic)?.[partition]?.[offset];
  }

  /** The first offset still stored: always 0, the in-memory broker keeps every record. */
  startOffset(_topic: string, _partition: number): number {
    return 0;
  }

  endOffset(topic: string, partition: number): number {
    return this.topics.get(topic)?.[partition]?.length ?? 0;
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
