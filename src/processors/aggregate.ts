import type { ForwardCachedOptions, ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change } from './change.ts';
import { oldValueIfSent, type OldValues } from './old-values.ts';
import { keyValueStoreWrapper, PUT_RETURN_CODE_IS_LATEST, PUT_RETURN_CODE_NOT_PUT, type KeyValueStoreWrapper } from './key-value-store-wrapper.ts';

/**
 * The grouped-stream aggregation behind `count`, `reduce` and `aggregate`: records with a `null`
 * key or value are dropped; the result's timestamp is the max of the record's and the previous
 * aggregate's. Forwards `Change(new, old)` for every update; a key's first old value is the
 * initializer's (KStreamAggregate; `null` for `reduce`, which has none). In a versioned store (Kafka Streams'
 * KStreamAggregate over `KeyValueStoreWrapper`) a put the store refuses as older than its history
 * retention is neither aggregated nor forwarded, and forwards are not cached.
 */
export function streamAggregateProcessor<K, V, A>(
  storeName: string,
  initializer: () => A,
  aggregator: (key: K, value: V, aggregate: A) => A,
  /** Forward through the record cache (false when a cogroup's merge node caches for all its inputs). */
  cached = true,
  /** Whether updates carry the previous aggregate (absent: always). */
  oldValues?: OldValues,
): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let store: KeyValueStoreWrapper<K, A>;
    // Made once (old values are settled when the topology is built), not per record.
    let existingKey: ForwardCachedOptions;
    let newKey: ForwardCachedOptions;
    return {
      init(context) {
        ctx = context;
        store = keyValueStoreWrapper(context, storeName);
        existingKey = { sendOldValue: oldValues?.sending !== false };
        newKey = { ...existingKey, storedOldValue: null };
      },
      process(record: StreamRecord<K, V>) {
        if (record.key == null || record.value == null) {
          ctx.recordDropped(record.key == null ? 'null key' : 'null value');
          return;
        }
        const old = store.get(record.key);
        const previous = old ? old.value : initializer();
        const next = aggregator(record.key, record.value, previous);
        const timestamp = old ? Math.max(old.timestamp, record.timestamp) : record.timestamp;
        const putReturnCode = store.put(record.key, next, timestamp);
        if (putReturnCode === PUT_RETURN_CODE_NOT_PUT) {
          ctx.recordDropped(`older than the history retention of versioned store '${storeName}'`);
          return;
        }
        const isLatest = putReturnCode === PUT_RETURN_CODE_IS_LATEST;
        // The old value is the aggregate the update started from (a new key's: the initializer's);
        // through the cache it is the stored one (none for a new key), as Kafka's caching store sends.
        if (cached && !store.versioned) ctx.forwardCached({ key: record.key, value: change(next, previous ?? null, isLatest), timestamp }, old === undefined ? newKey : existingKey);
        else ctx.forward({ key: record.key, value: change(next, oldValueIfSent(oldValues, previous ?? null), isLatest), timestamp });
      },
    };
  };
}

/** `reduce` as an aggregation: the first value is the initial aggregate. */
export function reduceAggregator<K, V>(reducer: (aggregate: V, value: V, key: K) => V): (key: K, value: V, aggregate: V | undefined) => V {
  return (key, value, aggregate) => (aggregate === undefined ? value : reducer(aggregate, value, key));
}
