import { describe, expect, it } from 'vitest';
import { PartitionQueue } from '../../src/runtime/partition-queue.ts';
import type { IncomingRecord } from '../../src/transport/types.ts';

const record = (offset: number): IncomingRecord => ({ topic: 't', partition: 0, offset, key: null, value: null, timestamp: offset, headers: {} });

describe('PartitionQueue: offsets with nothing to deliver (transaction markers)', () => {
  it('moves past a marker after its last record, once what is queued before it is taken', () => {
    const queue = new PartitionQueue('t', 0);
    queue.reset(10);
    queue.push([record(10), record(11)]);
    queue.skip(12, 13);
    expect(queue.nextOffset).toBe(13);
    expect(queue.skippedTo).toBe(13);
    expect(queue.shift()!.offset).toBe(10);
    expect(queue.size).toBe(1);
    // The owner applies skippedTo to the task's position only once the queue is empty.
    expect(queue.shift()!.offset).toBe(11);
    expect(queue.size).toBe(0);
    // Records after the marker are taken as usual.
    expect(queue.push([record(13)])).toBe(1);
  });

  it('never skips past offsets it has not seen, nor backwards', () => {
    const queue = new PartitionQueue('t', 0);
    queue.skip(0, 5);
    expect(queue.skippedTo).toBe(-1); // no position yet
    queue.reset(10);
    queue.skip(11, 20); // starts after the expected offset: offset 10 is unseen
    expect(queue.nextOffset).toBe(10);
    queue.skip(3, 8); // behind
    expect(queue.nextOffset).toBe(10);
    queue.skip(9, 12);
    expect(queue.nextOffset).toBe(12);
    queue.reset(4);
    expect(queue.skippedTo).toBe(-1);
  });
});
