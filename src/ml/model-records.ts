/**
 * Records a model asks the application running it to write: drift alerts and shadow comparisons
 * whose options name a topic. The ML layer knows nothing of brokers: a batch scored by `.predict`
 * carries a `ScoreContext` from the task, and the record goes out through that application (the
 * `KafkaStreams` runner or the test driver). A batch scored outside any application (a direct
 * `scoreBatch` call) has no context: its records go to the `onModelRecord` listeners.
 */
import type { ScoreContext } from './model.ts';

/** One record for the running application to produce. */
export interface ModelRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer;
  timestamp: number;
  headers: Record<string, string>;
}

const listeners = new Set<(record: ModelRecord) => void>();

/** Hears the model records of batches scored outside any application; returns the function that stops it. */
export function onModelRecord(listener: (record: ModelRecord) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Hands a record to the application scoring the batch, or without one to the listeners (none: it is dropped). */
export function emitModelRecord(record: ModelRecord, context?: ScoreContext): void {
  const targets = context !== undefined ? [(r: ModelRecord) => context.emitRecord(r)] : listeners;
  for (const write of targets) {
    try {
      write(record);
    } catch (error) {
      process.emitWarning(`writing a model record to '${record.topic}' failed: ${error instanceof Error ? error.message : String(error)}`, 'TributaryModelRecordWarning');
    }
  }
}

/** A record key as bytes: strings as UTF-8, buffers as they are, null and undefined as no key, anything else as JSON. */
export function recordKey(key: unknown): Buffer | null {
  if (key === null || key === undefined) return null;
  if (Buffer.isBuffer(key)) return key;
  if (key instanceof Uint8Array) return Buffer.from(key);
  return Buffer.from(typeof key === 'string' ? key : JSON.stringify(key, jsonSafe));
}

/** A JSON.stringify replacer that writes bigints (int64 outputs) as strings instead of throwing. */
export function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
