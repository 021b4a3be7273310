import { parseTpKey, tpKey, type TopicPartitionOffset, type Transport } from '../transport/transport.ts';
import { errorMessage } from './errors.ts';

/** How often committed repartition records are deleted by default (Kafka Streams' `repartition.purge.interval.ms`). */
export const DEFAULT_REPARTITION_PURGE_INTERVAL_MS = 30_000;

/**
 * Deletes what the tasks have committed from the internal repartition topics, as Kafka Streams does.
 * Those topics keep records without a time limit (`retention.ms=-1`: a record with an old
 * timestamp must stay until its downstream task has read it), so without the purge they would
 * grow forever. Only offsets a commit made durable are purged (the checkpoint, or the group's
 * offsets without a state backend), at most one DeleteRecords call at a time, at most once per
 * interval; a failed purge is logged and retried with the next one.
 */
export class RepartitionPurger {
  private readonly pending = new Map<string, number>();
  private readonly purged = new Map<string, number>();
  private inFlight: Promise<void> | undefined;
  private nextAt: number;

  constructor(
    private readonly transport: Transport,
    /** The real names of the topology's internal repartition topics. */
    readonly topics: ReadonlySet<string>,
    private readonly intervalMs: number,
    private readonly log: (message: string) => void,
    private readonly clock: () => number = Date.now,
  ) {
    this.nextAt = clock() + intervalMs;
  }

  /** Records a task's committed source offsets (`topic:partition` → next offset to read). */
  committed(offsets: ReadonlyMap<string, number>): void {
    if (this.topics.size === 0) return;
    for (const [key, offset] of offsets) {
      if (offset <= (this.purged.get(key) ?? 0)) continue;
      if (this.topics.has(parseTpKey(key).topic)) this.pending.set(key, offset);
    }
  }

  /** Starts a DeleteRecords call when the interval has passed and none is running; does not wait for it. */
  maybePurge(): void {
    if (!this.transport.deleteRecords || this.inFlight || this.pending.size === 0 || this.clock() < this.nextAt) return;
    const batch: TopicPartitionOffset[] = [...this.pending].map(([key, offset]) => ({ ...parseTpKey(key), offset }));
    this.pending.clear();
    this.nextAt = this.clock() + this.intervalMs;
    this.inFlight = this.transport
      .deleteRecords(batch)
      .then(() => {
        for (const { topic, partition, offset } of batch) this.purged.set(tpKey(topic, partition), offset);
      })
      .catch((error: unknown) => {
        for (const { topic, partition, offset } of batch) {
          const key = tpKey(topic, partition);
          if ((this.pending.get(key) ?? -1) < offset) this.pending.set(key, offset);
        }
        this.log(`purging committed records from the repartition topics failed (retried at the next purge): ${errorMessage(error)}`);
      })
      .finally(() => (this.inFlight = undefined));
  }

  /** Waits for a running purge (before the transport closes). */
  async settle(): Promise<void> {
    await this.inFlight;
  }
}
