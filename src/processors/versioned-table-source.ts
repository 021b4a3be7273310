import { PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED, type VersionedKeyValueStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change } from './change.ts';
import { oldValueIfSent, type OldValues } from './old-values.ts';

/**
 * Materializes a changelog into a versioned table (Kafka Streams' `KTableSource` over a versioned
 * store): every record becomes a version of its key at its timestamp (`null` a deletion), so joins
 * can read the table as of a time. A record older than the history retention is not put and is
 * dropped. Every other record is forwarded as `Change(new, old)`; an out-of-order one (older than
 * the key's latest version) is marked `isLatest: false`: downstream joins and groupBy drop it.
 */
export function versionedTableSourceProcessor<K, V>(storeName: string, oldValues?: OldValues): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let store: VersionedKeyValueStore<K, V>;
    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(storeName);
      },
      process(record: StreamRecord<K, V>) {
        if (record.key == null) {
          ctx.recordDropped('null key');
          return;
        }
        const old = store.get(record.key);
        const value = record.value ?? null;
        const validTo = store.put(record.key, value, record.timestamp);
        if (validTo === PUT_RETURN_CODE_NOT_PUT) {
          ctx.recordDropped('older than the versioned table\'s history retention');
          return;
        }
        // Kafka Streams' KTableSource (KIP-914): out-of-order updates are forwarded too, marked
        // isLatest = false, with the key's latest value as the old value (while old values are sent).
        ctx.forward({ key: record.key, value: change(value, oldValueIfSent(oldValues, old?.value ?? null), validTo === PUT_RETURN_CODE_VALID_TO_UNDEFINED) });
      },
    };
  };
}
