import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import type { Change } from './change.ts';
import { tableStep } from './table-row-writer.ts';

/** Keeps rows matching `predicate`; other rows are forwarded as tombstones, even keys never present (as Kafka Streams does). */
export function tableFilterProcessor<K, V>(storeName: string, predicate: (key: K, value: V) => boolean, negate: boolean, passOutOfOrder = false): ProcessorSupplier {
  return tableStep<K, V, V>(storeName, (key, value) => (value !== null && predicate(key, value) !== negate ? value : null), passOutOfOrder);
}

/** Maps each row's value; tombstones stay tombstones (the mapper never sees `null`). */
export function tableMapValuesProcessor<K, V, V2>(storeName: string, mapper: (value: V, key: K) => V2, passOutOfOrder = false): ProcessorSupplier {
  return tableStep<K, V, V2>(storeName, (key, value) => (value === null ? null : mapper(value, key)), passOutOfOrder);
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
