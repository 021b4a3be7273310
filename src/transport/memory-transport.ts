import type { InMemoryBroker } from './memory-broker.ts';
import type { ConsumerHandlers, SubscribeOptions, TopicPartition, TopicPartitionOffset, TopicSpec, Transport } from './transport.ts';
import { tpKey } from './transport.ts';
import type { OutgoingRecord } from './types.ts';

/** Options of the in-memory transport. */
export interface InMemoryTransportOptions {
  /** Most records handed to `onRecords` in one call (default 500). */
  maxBatchSize?: number;
}

interface Subscription {
  groupId: string;
  topics: Set<string>;
  partitions: TopicPartition[];
  handlers: ConsumerHandlers;
  positions: Map<string, number>;
}

/**
 * A `Transport` over an `InMemoryBroker`: the single group member owns every partition, and a
 * delivery loop hands records to the handlers asynchronously, sleeping while there is nothing new.
 */
export class InMemoryTransport implements Transport {
  private readonly maxBatchSize: number;
  private subscription: Subscription | undefined;
  private readonly paused = new Set<string>();
  private readonly earlySeeks = new Map<string, number>();
  private sendError: Error | undefined;
  private loop: Promise<void> | undefined;
  private stopListening: (() => void) | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private closed = false;

  constructor(
    private readonly broker: InMemoryBroker,
    options: InMemoryTransportOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 500;
  }

  async connect(): Promise<void> {}

  async topicNames(): Promise<string[]> {
    return this.broker.topicNames();
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const topic of topics) {
      const count = this.broker.partitionsFor(topic);
      if (count !== undefined) counts.set(topic, count);
    }
    return counts;
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    for (const { topic, partitions } of topics) this.broker.createTopic(topic, partitions);
  }

  async subscribe(options: SubscribeOptions, handlers: ConsumerHandlers): Promise<void> {
    if (this.closed) throw new Error('the in-memory transport is closed');
    if (this.subscription) throw new Error(`already subscribed (group '${this.subscription.groupId}')`);
    const partitions: TopicPartition[] = [];
    const positions = new Map<string, number>();
    for (const topic of options.topics) {
      this.broker.createTopic(topic);
      const count = this.broker.partitionsFor(topic)!;
      for (let partition = 0; partition < count; partition++) {
        const key = tpKey(topic, partition);
        const start =
          this.earlySeeks.get(key) ??
          this.broker.committedOffset(options.groupId, topic, partition) ??
          (options.autoOffsetReset === 'latest' ? this.broker.endOffset(topic, partition) : this.broker.startOffset(topic, partition));
        partitions.push({ topic, partition });
        positions.set(key, start);
      }
    }
    this.earlySeeks.clear();
    const subscription: Subscription = { groupId: options.groupId, topics: new Set(options.topics), partitions, handlers, positions };
    this.subscription = subscription;
    this.stopListening = this.broker.onAppend((topic) => {
      if (subscription.topics.has(topic)) this.wake();
    });
    this.loop = this.deliver(subscription);
  }

  seek(position: TopicPartitionOffset): void {
    const key = tpKey(position.topic, position.partition);
    const positions = this.subscription?.positions;
    if (positions?.has(key)) positions.set(key, position.offset);
    else this.earlySeeks.set(key, position.offset);
    this.wake();
  }

  pause(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) this.paused.add(tpKey(topic, partition));
  }

  resume(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) this.paused.delete(tpKey(topic, partition));
    this.wake();
  }

  async committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<Map<string, number>> {
    const committed = new Map<string, number>();
    for (const { topic, partition } of partitions) {
      const offset = this.broker.committedOffset(groupId, topic, partition);
      if (offset !== undefined) committed.set(tpKey(topic, partition), offset);
    }
    return committed;
  }

  async offsetRange(topics: string[]): Promise<Map<string, { low: number; high: number }>> {
    const ranges = new Map<string, { low: number; high: number }>();
    for (const topic of topics) {
      const count = this.broker.partitionsFor(topic) ?? 0;
      for (let partition = 0; partition < count; partition++) {
        ranges.set(tpKey(topic, partition), { low: this.broker.startOffset(topic, partition), high: this.broker.endOffset(topic, partition) });
      }
    }
    return ranges;
  }

  send(record: OutgoingRecord): void {
    if (this.closed) throw new Error(`cannot send to '${record.topic}': the in-memory transport is closed`);
    try {
      this.broker.append(record);
    } catch (error) {
      this.sendError ??= error instanceof Error ? error : new Error(String(error));
    }
  }

  async flush(): Promise<void> {
    if (this.sendError) throw this.sendError;
  }

  async commitOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    if (!this.subscription) throw new Error('commitOffsets needs a group: call subscribe first');
    this.broker.commit(
      this.subscription.groupId,
      offsets.map(({ topic, partition, offset }) => [tpKey(topic, partition), offset]),
    );
  }

  async deleteRecords(offsets: TopicPartitionOffset[]): Promise<void> {
    for (const { topic, partition, offset } of offsets) this.broker.deleteRecords(topic, partition, offset);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.stopListening?.();
      this.wake();
    }
    await this.loop?.catch(() => undefined);
  }

  private wake(): void {
    this.woken = true;
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** The delivery loop: one batch per partition per round, yielding between rounds, asleep when idle. */
  private async deliver(subscription: Subscription): Promise<void> {
    const { handlers, positions } = subscription;
    try {
      await handlers.onAssignment(subscription.partitions.map((tp) => ({ ...tp })));
      while (!this.closed) {
        this.woken = false;
        let delivered = false;
        for (const { topic, partition } of subscription.partitions) {
          if (this.closed) return;
          const key = tpKey(topic, partition);
          if (this.paused.has(key)) continue;
          const records = this.broker.read(topic, partition, positions.get(key)!, this.maxBatchSize);
          if (records.length === 0) continue;
          positions.set(key, records[records.length - 1]!.offset + 1);
          delivered = true;
          handlers.onRecords(records);
        }
        if (delivered) await new Promise((resolve) => setImmediate(resolve));
        else if (!this.woken) await new Promise<void>((resolve) => (this.wakeUp = resolve));
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (!handlers.onCrash) throw failure;
      handlers.onCrash(failure);
    }
  }
}
