import { isVersionedStore, PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED, type KeyValueStore, type StateStore, type ValueAndTimestamp, type VersionedKeyValueStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change, isLatestChange, type Change } from './change.ts';
import { oldValueIfSent, type OldValues } from './old-values.ts';

/** Stores a derived table's new row for the record that produced it and forwards the change. */
export type TableRowWriter<K, V> = (record: StreamRecord<K, Change<unknown>>, newValue: V | null) => void;

/**
 * How a derived table (filter, mapValues, transformValues) keeps its store, as Kafka Streams'
 * `KeyValueStoreWrapper` and the processors around it do (KIP-914):
 * - a versioned store of its own: the row is put at the record's timestamp; a put older than the
 *   history retention is refused and nothing is forwarded; any other is forwarded with the key's
 *   latest value as the old one and `isLatest` from the put (false for an out-of-order update,
 *   which only changed the history);
 * - a timestamped store below an unmaterialized versioned parent (`passOutOfOrder`): an
 *   out-of-order update is passed on with `isLatest: false` and the store left alone;
 * - otherwise the row replaces the stored one and is forwarded as latest.
 * The old value goes with it only while `oldValues` sends them (absent: always). With
 * `dropAbsentToAbsent` (a filter below a non-versioned table, KTableFilter), a change from no row to
 * no row is dropped while old values are sent: it would only be a needless tombstone.
 */
export function tableRowWriter<K, V>(context: ProcessorContext, storeName: string, passOutOfOrder: boolean, oldValues?: OldValues, dropAbsentToAbsent = false): TableRowWriter<K, V> {
  const store: StateStore = context.getStateStore(storeName);
  const needless = (old: V | null, newValue: V | null): boolean => dropAbsentToAbsent && old === null && newValue === null && (oldValues === undefined || oldValues.sending);
  if (isVersionedStore(store)) {
    const versions = store as unknown as VersionedKeyValueStore<K, V>;
    return (record, newValue) => {
      const old = oldValueIfSent(oldValues, versions.get(record.key)?.value ?? null);
      if (needless(old, newValue)) return;
      const validTo = versions.put(record.key, newValue, record.timestamp);
      if (validTo === PUT_RETURN_CODE_NOT_PUT) {
        context.recordDropped(`older than the history retention of versioned store '${storeName}'`);
        return;
      }
      context.forward({ key: record.key, value: change(newValue, old, validTo === PUT_RETURN_CODE_VALID_TO_UNDEFINED) });
    };
  }
  const rows = store as KeyValueStore<K, ValueAndTimestamp<V>>;
  return (record, newValue) => {
    const old = oldValueIfSent(oldValues, rows.get(record.key)?.value ?? null);
    if (needless(old, newValue)) return;
    if (passOutOfOrder && !isLatestChange(record.value)) {
      context.forward({ key: record.key, value: change(newValue, old, false) });
      return;
    }
    rows.put(record.key, newValue === null ? null : { value: newValue, timestamp: record.timestamp });
    context.forward({ key: record.key, value: change(newValue, old) });
  };
}

/**
 * A table-to-table step that computes each new row from the parent's change, then stores and
 * forwards it as {@link tableRowWriter} does (`passOutOfOrder`: below an unmaterialized versioned table).
 */
export function tableStep<K, V, V2>(storeName: string, compute: (key: K, value: V | null) => V2 | null, passOutOfOrder: boolean, oldValues?: OldValues, dropAbsentToAbsent = false): ProcessorSupplier {
  return () => {
    let write: TableRowWriter<K, V2>;
    return {
      init(context) {
        write = tableRowWriter<K, V2>(context, storeName, passOutOfOrder, oldValues, dropAbsentToAbsent);
      },
      process(record: StreamRecord<K, Change<V>>) {
        write(record, compute(record.key, record.value.newValue));
      },
    };
  };
}

/**
 * The result node of a foreign-key join (Kafka Streams' KTableSource over the result store): each
 * joined row is stored and forwarded with the store's latest value as the old one; in a versioned
 * store an out-of-order result only changes the history and goes on with `isLatest: false`, and
 * one older than the retention is dropped.
 */
export function tableSourceResultProcessor<K, V>(storeName: string, oldValues?: OldValues): ProcessorSupplier {
  return tableStep<K, V, V>(storeName, (_key, value) => value, false, oldValues);
}
