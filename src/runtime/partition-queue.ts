import type { IncomingRecord } from '../transport/types.ts';

/**
 * The records fetched from one partition and not yet processed, in offset order. It also knows
 * the offset the task expects next, so records delivered twice (a seek, a rejoin that refetches
 * from the group's committed position) are dropped instead of processed twice.
 */
export class PartitionQueue {
  private records: IncomingRecord[] = [];
  private head = 0;
  /** The offset of the next record to accept; -1 accepts whatever comes first. */
  nextOffset = -1;
  paused = false;
  /** The partition's first offset and its end as last known (at assignment, then from delivered records). */
  low = 0;
  knownEnd = 0;
  /** Since when this queue has been empty while its partition still had records to fetch. */
  waitingSince: number | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get size(): number {
    return this.records.length - this.head;
  }

  /** Appends the records at or after `nextOffset`; returns how many were taken. */
  push(records: readonly IncomingRecord[]): number {
    let taken = 0;
    for (const record of records) {
      if (record.offset < this.nextOffset) continue;
      this.records.push(record);
      this.nextOffset = record.offset + 1;
      taken++;
    }
    if (this.nextOffset > this.knownEnd) this.knownEnd = this.nextOffset;
    return taken;
  }

  /** The timestamp of the next record, or `undefined` when empty. */
  headTimestamp(): number | undefined {
    return this.head < this.records.length ? this.records[this.head]!.timestamp : undefined;
  }

  shift(): IncomingRecord | undefined {
    if (this.head >= this.records.length) return undefined;
    const record = this.records[this.head]!;
    this.records[this.head] = undefined as unknown as IncomingRecord;
    this.head++;
    if (this.head === this.records.length) {
      this.records = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
    return record;
  }

  /**
   * Offsets `from` to `next` hold nothing to deliver (transaction markers, aborted records): once
   * what is queued before them is processed, the position moves to `next`. Ignored unless they
   * start at or before the offset expected next (nothing unseen may be skipped).
   */
  skip(from: number, next: number): void {
    if (this.nextOffset < 0 || from > this.nextOffset || next <= this.nextOffset) return;
    this.nextOffset = next;
    this.skippedTo = next;
    if (next > this.knownEnd) this.knownEnd = next;
  }

  /** Where the position moves once the queue is empty (after skipped offsets), or -1. */
  skippedTo = -1;

  /** Drops what is queued and expects `offset` next. */
  reset(offset: number): void {
    this.records = [];
    this.head = 0;
    this.nextOffset = offset;
    this.skippedTo = -1;
  }

  /** True while the queue is empty but the partition is known to hold records not fetched yet. */
  isLagging(): boolean {
    const position = this.nextOffset >= 0 ? this.nextOffset : this.low;
    return this.size === 0 && position < this.knownEnd;
  }
}

/**
 * Of a task's queues, the one whose next record has the smallest timestamp (Kafka Streams'
 * choice), or `undefined` when none has data, or when one is empty while its partition still
 * has records to fetch: then the task waits for them (up to `maxIdleMs`), so that a join sees
 * both sides in timestamp order, as Kafka Streams does.
 */
export function nextQueue(queues: readonly PartitionQueue[], now = 0, maxIdleMs = 0): PartitionQueue | undefined {
  if (queues.length === 1) return queues[0]!.size > 0 ? queues[0] : undefined;
  let best: PartitionQueue | undefined;
  let bestTimestamp = Infinity;
  let wait = false;
  for (const queue of queues) {
    if (queue.isLagging()) {
      queue.waitingSince ??= now;
      if (now - queue.waitingSince < maxIdleMs) wait = true;
      continue;
    }
    queue.waitingSince = undefined;
    const timestamp = queue.headTimestamp();
    if (timestamp !== undefined && (best === undefined || timestamp < bestTimestamp)) {
      best = queue;
      bestTimestamp = timestamp;
    }
  }
  return wait ? undefined : best;
}
