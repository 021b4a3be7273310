import { BATCH_OVERHEAD_BYTES } from '../transport/chunks.ts';
import type { TopicLimits } from '../transport/transport.ts';
import { headersBytes, type Headers } from '../util/headers.ts';

/**
 * A record sent this close to the edge of the topic's `message.timestamp.before.max.ms` window is
 * refused here already: it waits for the commit (exactly-once) and its request, and must still be
 * inside the window when the broker checks it.
 */
export const TIMESTAMP_MARGIN_MS = 60_000;

/** An output record the broker would refuse because of what it is: dead-lettered, never sent. */
export class RefusedRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedRecordError';
  }
}

/** The parts of an output record the broker checks. */
export interface OutputRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  timestamp: number;
}

/**
 * Why the broker would refuse `record` as a whole batch — no key for a compacted topic, larger
 * than the topic takes, a timestamp outside the topic's window (INVALID_RECORD, MESSAGE_TOO_LARGE,
 * INVALID_TIMESTAMP) — or undefined when it would take it. `limits` are the topic's (when known),
 * `maxRecordBytes` the configured limit for every topic.
 */
export function refusal(record: OutputRecord, limits: TopicLimits | undefined, maxRecordBytes: number | undefined, clock: () => number): RefusedRecordError | undefined {
  const { topic } = record;
  if (record.key === null && limits?.compacted) {
    return new RefusedRecordError(`the output record to '${topic}' has no key, and '${topic}' is compacted (cleanup.policy=compact): the broker refuses records without a key there`);
  }
  const topicLimit = limits?.maxMessageBytes !== undefined ? limits.maxMessageBytes - BATCH_OVERHEAD_BYTES : undefined;
  const limit = topicLimit !== undefined && (maxRecordBytes === undefined || topicLimit < maxRecordBytes) ? topicLimit : maxRecordBytes;
  if (limit !== undefined) {
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0) + headersBytes(record.headers);
    if (size > limit) {
      const why =
        limit === topicLimit
          ? `(max.message.bytes=${limits!.maxMessageBytes} on '${topic}', less ${BATCH_OVERHEAD_BYTES} for the batch around it)`
          : `(maxRecordBytes, --max-record-bytes: set it to the topic's max.message.bytes)`;
      return new RefusedRecordError(`the output record to '${topic}' is ${size} bytes, more than the ${limit} bytes a record may have ${why}`);
    }
  }
  const window = limits?.timestamps;
  if (!window) return undefined;
  if (record.timestamp < 0) {
    return new RefusedRecordError(`the output record to '${topic}' has the negative timestamp ${record.timestamp}: '${topic}' (message.timestamp.type=CreateTime) refuses it`);
  }
  // The clock is read only for a window with a bound (most topics have none): not once per record.
  if (window.afterMaxMs === undefined && window.beforeMaxMs === undefined) return undefined;
  const now = clock();
  if (window.afterMaxMs !== undefined && record.timestamp > now + window.afterMaxMs) {
    return new RefusedRecordError(
      `the output record to '${topic}' has timestamp ${describeTime(record.timestamp)}, which is more than ${window.afterMaxMs} ms ahead of now ` +
        `(${describeTime(now)}): '${topic}' refuses it (message.timestamp.after.max.ms=${window.afterMaxMs}; Kafka 4 defaults to 1 hour)`,
    );
  }
  if (window.beforeMaxMs !== undefined && record.timestamp < now - window.beforeMaxMs + TIMESTAMP_MARGIN_MS) {
    return new RefusedRecordError(
      `the output record to '${topic}' has timestamp ${describeTime(record.timestamp)}, which is more than ${window.beforeMaxMs} ms behind now ` +
        `(${describeTime(now)}, with a ${TIMESTAMP_MARGIN_MS / 1000} s margin): '${topic}' refuses it (message.timestamp.before.max.ms=${window.beforeMaxMs})`,
    );
  }
  return undefined;
}

function describeTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : `${ms} (${date.toISOString()})`;
}
