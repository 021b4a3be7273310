import type { Producer, TopicMessages } from 'kafkajs';
import { chunkEnd, type ChunkLimits } from './chunks.ts';
import type { OutgoingRecord } from './types.ts';

/** A record with its partition decided (a lane only ever holds those). */
export type PlacedRecord = OutgoingRecord & { partition: number };

interface FlushWaiter {
  upTo: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** What every lane of one transport shares: the first send failure stops them all. */
export interface LaneShared {
  failure: Error | undefined;
  chunkLimits(): ChunkLimits;
  topicMessages(chunk: PlacedRecord[]): TopicMessages[];
}

/**
 * One idempotent producer and the records queued for it. kafkajs lets an idempotent producer have
 * one produce request in flight per broker, so a transport runs several lanes, each owning a fixed
 * set of partitions: a partition's records stay in order (a repartition topic's reader relies on
 * it), and while one lane waits for its acknowledgement the others send.
 */
export class ProducerLane {
  private outbox: PlacedRecord[] = [];
  /** The first record of `outbox` not yet taken into a request (taken ones are dropped when it empties). */
  private head = 0;
  private queued = 0;
  private settled = 0;
  private readonly waiters: FlushWaiter[] = [];
  private draining: Promise<void> | undefined;
  private drainScheduled = false;

  constructor(
    readonly producer: Producer,
    private readonly shared: LaneShared,
  ) {}

  get pending(): number {
    return this.queued - this.settled;
  }

  send(record: PlacedRecord): void {
    this.outbox.push(record);
    this.queued++;
    this.scheduleDrain();
  }

  /** Resolves once every record queued so far was acknowledged; rejects after a failed send. */
  flush(): Promise<void> {
    const upTo = this.queued;
    if (this.settled >= upTo) return this.shared.failure ? Promise.reject(this.shared.failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo, resolve, reject }));
  }

  private scheduleDrain(): void {
    if (this.draining || this.drainScheduled) return;
    this.drainScheduled = true;
    // setImmediate, not a timer: records sent in the same turn share a request, none waits longer.
    setImmediate(() => {
      this.drainScheduled = false;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.head < this.outbox.length) this.scheduleDrain();
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.head < this.outbox.length) {
      const end = chunkEnd(this.outbox, this.head, this.shared.chunkLimits());
      const chunk = this.outbox.slice(this.head, end);
      this.head = end;
      if (end === this.outbox.length) {
        this.outbox = [];
        this.head = 0;
      }
      // After a failed send nothing more goes out: a later record must never reach a partition
      // ahead of an earlier one that did not (the reader of a repartition topic skips positions
      // at or below the highest it applied). The owner stops and replays from its checkpoint.
      if (!this.shared.failure) {
        try {
          await this.producer.sendBatch({ topicMessages: this.shared.topicMessages(chunk) });
        } catch (error) {
          const cause = error instanceof Error ? error.message : String(error);
          this.shared.failure ??= new Error(`sending records to Kafka failed: ${cause}`, { cause: error });
        }
      }
      this.settled += chunk.length;
      this.settle();
    }
  }

  private settle(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.upTo > this.settled) continue;
      this.waiters.splice(i, 1);
      if (this.shared.failure) waiter.reject(this.shared.failure);
      else waiter.resolve();
    }
  }
}

/** A topic's share of the lanes' spread: added to a partition number to pick its lane (see `laneOf`). */
export function topicSpread(topic: string): number {
  let hash = 0;
  for (let i = 0; i < topic.length; i++) hash = (hash * 31 + topic.charCodeAt(i)) | 0;
  return hash >>> 0;
}

/** The lane of a partition, from its topic's `topicSpread`: the same one for as long as the transport lives. */
export function laneOf(spread: number, partition: number, lanes: number): number {
  return (spread + partition) % lanes;
}
