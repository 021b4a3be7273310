import type { KeyValueStore, ValueAndTimestamp } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change, isLatestChange, type Change } from './change.ts';

/** A table-to-table step that computes each new row from the parent's change and stores it. */
function tableStep<K, V, V2>(storeName: string, compute: (key: K, value: V | null) => V2 | null, versioned: boolean): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let store: KeyValueStore<K, ValueAndTimestamp<V2>>;
    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(storeName);
      },
      process(record: StreamRecord<K, Change<V>>) {
        const newValue = compute(record.key, record.value.newValue);
        const old = store.get(record.key)?.value ?? null;
        // KTableFilter/KTableMapValues (KIP-914): a versioned table's out-of-order update is passed on
        // (isLatest = false) without touching the latest value; a table materialized under its own
        // (non-versioned) name stores it and forwards it as latest, as Kafka's store put reports.
        if (versioned && !isLatestChange(record.value)) {
          ctx.forward({ key: record.key, value: change(newValue, old, false) });
          return;
        }
        store.put(record.key, newValue === null ? null : { value: newValue, timestamp: record.timestamp });
        ctx.forward({ key: record.key, value: change(newValue, old) });
      },
    };
  };
}

/** Keeps rows matching `predicate`; other rows are forwarded as tombstones, even keys never present (as Kafka Streams does). */
export function tableFilterProcessor<K, V>(storeName: string, predicate: (key: K, value: V) => boolean, negate: boolean, versioned = false): ProcessorSupplier {
  return tableStep<K, V, V>(storeName, (key, value) => (value !== null && predicate(key, value) !== negate ? value : null), versioned);
}

/** Maps each row's value; tombstones stay tombstones (the mapper never sees `null`). */
export function tableMapValuesProcessor<K, V, V2>(storeName: string, mapper: (value: V, key: K) => V2, versioned = false): ProcessorSupplier {
  return tableStep<K, V, V2>(storeName, (key, value) => (value === null ? null : mapper(value, key)), versioned);
}

/** Turns table changes into a stream of new values (tombstones become `null` values, or are left out with `dropTombstones`). */
export function tableToStreamProcessor(dropTombstones = false): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    return {
      init(context) {
        ctx = context;
      },
      process(record: StreamRecord<unknown, Change<unknown>>) {
        if (dropTombstones && record.value.newValue === null) return;
        ctx.forward({ key: record.key, value: record.value.newValue });
      },
    };
  };
}
