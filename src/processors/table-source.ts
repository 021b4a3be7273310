import type { KeyValueStore, ValueAndTimestamp } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change } from './change.ts';
import { oldValueIfSent, type OldValues } from './old-values.ts';

/**
 * Materializes a changelog into a table: a `null` value deletes the key (a tombstone, forwarded
 * even when the key did not exist); a `null` key is dropped. Forwards `Change(new, old)`, the old
 * value only while `oldValues` sends them.
 */
export function tableSourceProcessor<K, V>(storeName: string, oldValues?: OldValues): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let store: KeyValueStore<K, ValueAndTimestamp<V>>;
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
        store.put(record.key, value === null ? null : { value, timestamp: record.timestamp });
        ctx.forward({ key: record.key, value: change(value, oldValueIfSent(oldValues, old?.value ?? null)) });
      },
    };
  };
}
