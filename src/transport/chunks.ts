import { headersBytes } from '../util/headers.ts';
import type { OutgoingRecord } from './types.ts';

/** An upper bound of the bytes a record adds to a record batch beyond its key, value and headers. */
export const RECORD_OVERHEAD_BYTES = 70;

/**
 * Bytes a record batch adds around one record (batch header, record framing): a record alone in a
 * batch must stay this far under the topic's `max.message.bytes`.
 */
export const BATCH_OVERHEAD_BYTES = 512;

/** An upper bound of a record's size in a record batch. */
export function recordSize(record: OutgoingRecord): number {
  return RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0) + headersBytes(record.headers);
}

/** How records are cut into produce requests. */
export interface ChunkLimits {
  /** Records per request. */
  maxRecords: number;
  /** Bytes per request (a record larger than this goes alone). */
  maxBytes: number;
  /** Bytes one topic's records may take in a request: under its `max.message.bytes`, since kafkajs sends a partition's records as one batch. */
  topicBytes(topic: string): number;
}

/**
 * The end (exclusive) of the request that starts at `records[start]`: the records up to the
 * first that would take the request over `maxBytes` or its topic over `topicBytes`. A record too
 * large for either goes alone (it was checked against its topic's limit before it was queued).
 */
export function chunkEnd(records: readonly OutgoingRecord[], start: number, limits: ChunkLimits): number {
  let total = 0;
  const byTopic = new Map<string, number>();
  // Records of one topic come in runs: its total and limit are kept aside while the run lasts.
  let topic: string | undefined;
  let topicTotal = 0;
  let topicLimit = 0;
  let end = start;
  while (end < records.length && end - start < limits.maxRecords) {
    const record = records[end]!;
    if (record.topic !== topic) {
      if (topic !== undefined) byTopic.set(topic, topicTotal);
      topic = record.topic;
      topicTotal = byTopic.get(topic) ?? 0;
      topicLimit = limits.topicBytes(topic);
    }
    const size = recordSize(record);
    if (end > start && (total + size > limits.maxBytes || topicTotal + size > topicLimit)) break;
    total += size;
    topicTotal += size;
    end++;
  }
  return end;
}
