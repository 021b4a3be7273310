import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import type { Change } from './change.ts';
import type { OldValues } from './old-values.ts';
import { tableStep } from './table-row-writer.ts';

/**
 * Keeps rows matching `predicate`; other rows are forwarded as tombstones (KTableFilter). While old
 * values are sent, below a non-versioned table (`dropAbsentToAbsent`), a rejected row of a key that
 * had none is dropped; otherwise it is forwarded as a tombstone too, even for a key never present.
 */
export function tableFilterProcessor<K, V>(storeName: string, predicate: (key: K, value: V) => boolean, negate: boolean, passOutOfOrder = false, oldValues?: OldValues, dropAbsentToAbsent = false): ProcessorSupplier {
  return tableStep<K, V, V>(storeName, (key, value) => (value !== null && predicate(key, value) !== negate ? value : null), passOutOfOrder, oldValues, dropAbsentToAbsent);
}

/** Maps each row's value; tombstones stay tombstones (the mapper never sees `null`). */
export function tableMapValuesProcessor<K, V, V2>(storeName: string, mapper: (value: V, key: K) => V2, passOutOfOrder = false, oldValues?: OldValues): ProcessorSupplier {
  return tableStep<K, V, V2>(storeName, (key, value) => (value === null ? null : mapper(value, key)), passOutOfOrder, oldValues);
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
