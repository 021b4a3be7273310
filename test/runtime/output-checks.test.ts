import { describe, expect, it } from 'vitest';
import { refusal, TIMESTAMP_MARGIN_MS } from '../../src/runtime/output-checks.ts';
import { BATCH_OVERHEAD_BYTES, chunkEnd, recordSize } from '../../src/transport/chunks.ts';
import { parseTopicLimits } from '../../src/transport/kafka-transport.ts';
import type { OutgoingRecord } from '../../src/transport/types.ts';

const NOW = Date.UTC(2026, 11, 7, 12);
const HOUR = 3_600_000;
const LONG_MAX = '9223372036854775807';

function record(size: number, extra: Partial<OutgoingRecord> = {}): OutgoingRecord {
  return { topic: 't', key: Buffer.from('k'), value: Buffer.alloc(size - 1), timestamp: NOW, headers: {}, ...extra };
}

describe('parseTopicLimits', () => {
  it("reads a Kafka 4 topic's defaults: 1 MB batches, CreateTime, 1 hour ahead, unbounded behind", () => {
    const limits = parseTopicLimits(
      new Map([
        ['cleanup.policy', 'delete'],
        ['max.message.bytes', '1048588'],
        ['message.timestamp.type', 'CreateTime'],
        ['message.timestamp.before.max.ms', LONG_MAX],
        ['message.timestamp.after.max.ms', '3600000'],
      ]),
    );
    expect(limits).toEqual({ compacted: false, maxMessageBytes: 1_048_588, timestamps: { afterMaxMs: HOUR } });
  });

  it('a compacted LogAppendTime topic has no timestamp window', () => {
    const limits = parseTopicLimits(new Map([['cleanup.policy', 'compact,delete'], ['message.timestamp.type', 'LogAppendTime'], ['message.timestamp.after.max.ms', '3600000']]));
    expect(limits).toEqual({ compacted: true });
  });
});

describe('refusal', () => {
  const kafka4 = { compacted: false, maxMessageBytes: 64_000, timestamps: { afterMaxMs: HOUR, beforeMaxMs: 24 * HOUR } };

  it('takes a record inside every limit', () => {
    expect(refusal(record(1_000), kafka4, 1_048_076, () => NOW)).toBeUndefined();
    expect(refusal(record(1_000, { timestamp: NOW + HOUR }), kafka4, 1_048_076, () => NOW)).toBeUndefined();
  });

  it("refuses a record over the smaller of the topic's max.message.bytes and maxRecordBytes, naming which", () => {
    const limit = 64_000 - BATCH_OVERHEAD_BYTES;
    expect(refusal(record(limit), kafka4, 1_048_076, () => NOW)).toBeUndefined();
    expect(refusal(record(limit + 1), kafka4, 1_048_076, () => NOW)?.message).toMatch(new RegExp(`is ${limit + 1} bytes, more than the ${limit} bytes .*max\\.message\\.bytes=64000 on 't'`));
    expect(refusal(record(2_000), kafka4, 1_500, () => NOW)?.message).toMatch(/more than the 1500 bytes .*--max-record-bytes/);
    expect(refusal(record(2_000), undefined, 1_500, () => NOW)?.message).toMatch(/more than the 1500 bytes/);
  });

  it('refuses a keyless record only for a compacted topic', () => {
    expect(refusal(record(10, { key: null }), kafka4, undefined, () => NOW)).toBeUndefined();
    expect(refusal(record(10, { key: null }), { compacted: true }, undefined, () => NOW)?.message).toMatch(/has no key, and 't' is compacted/);
  });

  it("refuses timestamps outside a CreateTime topic's window (behind with a margin) and negative ones", () => {
    expect(refusal(record(10, { timestamp: NOW + HOUR + 1 }), kafka4, undefined, () => NOW)?.message).toMatch(/more than 3600000 ms ahead of now/);
    expect(refusal(record(10, { timestamp: NOW - 24 * HOUR + TIMESTAMP_MARGIN_MS + 1 }), kafka4, undefined, () => NOW)).toBeUndefined();
    expect(refusal(record(10, { timestamp: NOW - 24 * HOUR + TIMESTAMP_MARGIN_MS - 1 }), kafka4, undefined, () => NOW)?.message).toMatch(/more than 86400000 ms behind now/);
    expect(refusal(record(10, { timestamp: -5 }), { compacted: false, timestamps: {} }, undefined, () => NOW)?.message).toMatch(/negative timestamp -5/);
    expect(refusal(record(10, { timestamp: NOW + 100 * HOUR }), { compacted: false }, undefined, () => NOW)).toBeUndefined();
  });
});

describe('chunkEnd', () => {
  const limits = { maxRecords: 100, maxBytes: 10_000, topicBytes: (topic: string) => (topic === 'small' ? 3_000 : 10_000) };

  it("keeps each topic's records in a request under its own limit, and the request under maxBytes", () => {
    const records = [...Array.from({ length: 5 }, () => record(900, { topic: 'small' })), ...Array.from({ length: 20 }, () => record(900, { topic: 'big' }))];
    const ends: number[] = [];
    for (let start = 0; start < records.length; ) {
      const end = chunkEnd(records, start, limits);
      const chunk = records.slice(start, end);
      const bytes = (topic: string) => chunk.filter((r) => r.topic === topic).reduce((sum, r) => sum + recordSize(r), 0);
      expect(bytes('small')).toBeLessThanOrEqual(3_000);
      expect(bytes('small') + bytes('big')).toBeLessThanOrEqual(10_000);
      ends.push(end);
      start = end;
    }
    expect(ends[ends.length - 1]).toBe(records.length);
    expect(ends[0]).toBe(3);
  });

  it('sends a record larger than the limits alone, and stops at maxRecords', () => {
    expect(chunkEnd([record(20_000), record(10)], 0, limits)).toBe(1);
    expect(chunkEnd([record(10), record(20_000)], 0, limits)).toBe(1);
    expect(chunkEnd(Array.from({ length: 300 }, () => record(10)), 0, limits)).toBe(100);
  });
});
