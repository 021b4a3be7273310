import type { ForwardCachedOptions, ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change, isLatestChange, type Change } from './change.ts';
import { oldValueIfSent, type OldValues } from './old-values.ts';
import { keyValueStoreWrapper, PUT_RETURN_CODE_IS_LATEST, PUT_RETURN_CODE_NOT_PUT, type KeyValueStoreWrapper } from './key-value-store-wrapper.ts';

/**
 * Re-keys table changes for `KTable.groupBy`: the old row's mapping is forwarded (to be
 * subtracted) before the new row's (to be added), as Kafka Streams does. A `null` mapped key or
 * value is ignored. Values forwarded are `Change(new, null)` or `Change(null, old)`.
 */
export function tableRepartitionMapProcessor<K, V, K2, V2>(selector: (key: K, value: V) => readonly [K2, V2]): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    return {
      init(context) {
        ctx = context;
      },
      process(record: StreamRecord<K, Change<V>>) {
        if (!isLatestChange(record.value)) return; // KTableRepartitionMap (KIP-914): out-of-order updates must not change aggregates
        const { newValue, oldValue } = record.value;
        const oldPair = oldValue === null ? null : selector(record.key, oldValue);
        const newPair = newValue === null ? null : selector(record.key, newValue);
        if (oldPair && oldPair[0] != null && oldPair[1] != null) {
          const sameKey = newPair !== null && newPair[0] === oldPair[0];
          if (sameKey) {
            ctx.forward({ ...record, key: oldPair[0], value: change(newPair[1], oldPair[1]) });
            return;
          }
          ctx.forward({ ...record, key: oldPair[0], value: change<V2>(null, oldPair[1]) });
        }
        if (newPair && newPair[0] != null && newPair[1] != null) ctx.forward({ ...record, key: newPair[0], value: change<V2>(newPair[1], null) });
      },
    };
  };
}

/**
 * The grouped-table aggregation, as Kafka Streams' KTableAggregate: subtracts the old value from
 * the key's aggregate if it has one, then adds the new value (to the initializer's value when there
 * is no aggregate), and emits once. A change with only an old value (a tombstone upstream) only
 * subtracts; with no aggregate to subtract from, the key stays without one (a tombstone is
 * forwarded). The result's timestamp is the record's, or the max with the previous aggregate's
 * once that one was used. In a versioned store
 * (Kafka Streams' KTableAggregate over `KeyValueStoreWrapper`) a put the store refuses as older
 * than its history retention is not forwarded, and forwards are not cached.
 */
export function tableAggregateProcessor<K, V, A>(
  storeName: string,
  initializer: () => A,
  adder: (key: K, value: V, aggregate: A) => A,
  subtractor: (key: K, value: V, aggregate: A) => A,
  /** Whether updates carry the previous aggregate (absent: always). */
  oldValues?: OldValues,
): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let store: KeyValueStoreWrapper<K, A>;
    let cacheOptions: ForwardCachedOptions;
    return {
      init(context) {
        ctx = context;
        store = keyValueStoreWrapper(context, storeName);
        cacheOptions = { sendOldValue: oldValues?.sending !== false };
      },
      process(record: StreamRecord<K, Change<V>>) {
        if (record.key == null) {
          ctx.recordDropped('null key');
          return;
        }
        const old = store.get(record.key);
        const { newValue, oldValue } = record.value;
        const usesOld = old !== undefined && (oldValue !== null || newValue !== null);
        const intermediate = old !== undefined && oldValue !== null ? subtractor(record.key, oldValue, old.value) : (old?.value ?? null);
        const aggregate = newValue !== null ? adder(record.key, newValue, intermediate ?? initializer()) : intermediate;
        const timestamp = usesOld ? Math.max(old.timestamp, record.timestamp) : record.timestamp;
        const putReturnCode = store.put(record.key, aggregate, timestamp);
        if (putReturnCode === PUT_RETURN_CODE_NOT_PUT) {
          ctx.recordDropped(`older than the history retention of versioned store '${storeName}'`);
          return;
        }
        const isLatest = putReturnCode === PUT_RETURN_CODE_IS_LATEST;
        if (store.versioned) ctx.forward({ ...record, timestamp, value: change(aggregate, oldValueIfSent(oldValues, old?.value ?? null), isLatest) });
        else ctx.forwardCached({ ...record, timestamp, value: change(aggregate, old?.value ?? null, isLatest) }, cacheOptions);
      },
    };
  };
}
