import { Serdes, StreamsBuilder, type Change, type KTable, type StreamRecord, type TestOutputTopic } from 'tributary';

/** Kafka Streams' `MockValueJoiner.TOSTRING_JOINER`: `"<left>+<right>"`, with `null` printed as `null`. */
export const toStringJoiner = (left: string | null, right: string | null): string => `${left}+${right}`;

/** Integer keys and string values, as the Kafka Streams join tests use. */
export const intKeys = Serdes.int32();
export const strings = Serdes.string();
export const consumed = { keySerde: intKeys, valueSerde: strings };
/** For output topics that carry null keys or tombstones (a non-nullable serde refuses null bytes). */
export const nullableIntKeys = Serdes.nullable(intKeys);
export const nullableStrings = Serdes.nullable(strings);

export interface KeyValueTimestamp<K, V> {
  key: K;
  value: V;
  timestamp: number;
}

/** `new KeyValueTimestamp<>(key, value, ts)` of the Kafka tests. */
export function kvt<K, V>(key: K, value: V, timestamp: number): KeyValueTimestamp<K, V> {
  return { key, value, timestamp };
}

/** Reads and clears what an output topic received, as `{ key, value, timestamp }` (Kafka's `checkAndClearProcessResult`). */
export function drain<K, V>(output: TestOutputTopic<K, V>): KeyValueTimestamp<K, V>[] {
  return output.readRecordsToList().map(({ key, value, timestamp }) => ({ key, value, timestamp }));
}

/** A fresh builder whose defaults are the tests' serdes. */
export function newBuilder(): StreamsBuilder {
  return new StreamsBuilder({ defaultKeySerde: intKeys as never, defaultValueSerde: strings as never });
}

/**
 * `sendOldValues`: ask the table for old values, as Kafka's tests do with
 * `((KTableImpl) table).enableSendingOldValues(true)` (an operator downstream that needs them, such
 * as groupBy or a join, asks the same way); without it a change carries them only if the table
 * already sends them.
 */
export interface CaptureOptions {
  sendOldValues?: boolean;
}

/**
 * Captures the `Change`s a table node forwards (new and old value), like the `MockApiProcessor`
 * the Kafka tests attach to a KTable's node.
 */
export function captureChanges<K, V>(builder: StreamsBuilder, table: KTable<K, V>, options: CaptureOptions = {}): KeyValueTimestamp<K, Change<V>>[] {
  if (options.sendOldValues) table.oldValues.enable(true);
  const captured: KeyValueTimestamp<K, Change<V>>[] = [];
  builder.internal.addProcessor(builder.internal.newName('CAPTURE-'), [table.nodeName], () => ({
    process: (record: StreamRecord<unknown, unknown>) => {
      const change = record.value as Change<V>;
      captured.push({ key: record.key as K, value: { newValue: change.newValue, oldValue: change.oldValue }, timestamp: record.timestamp });
    },
  }));
  return captured;
}

/** Empties a captured list and returns what it held. */
export function take<T>(captured: T[]): T[] {
  return captured.splice(0, captured.length);
}

/** The four keys every Kafka join test uses. */
export const expectedKeys = [0, 1, 2, 3];

/** The changes a table node forwards, with `isLatest` (absent when true), as Kafka's MockApiProcessor records them. */
export function captureAll<K, V>(builder: StreamsBuilder, table: KTable<K, V>, options: CaptureOptions = {}): { key: K; value: Change<V>; timestamp: number }[] {
  if (options.sendOldValues) table.oldValues.enable(true);
  const captured: { key: K; value: Change<V>; timestamp: number }[] = [];
  builder.internal.addProcessor(builder.internal.newName('CAPTURE-'), [table.nodeName], () => ({
    process: (record: StreamRecord<unknown, unknown>) => {
      captured.push({ key: record.key as K, value: record.value as Change<V>, timestamp: record.timestamp });
    },
  }));
  return captured;
}
