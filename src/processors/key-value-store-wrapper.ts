import { isVersionedStore, PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED, type KeyValueStore, type StateStore, type ValueAndTimestamp, type VersionedKeyValueStore } from '../state/store.ts';
import type { ProcessorContext } from './api.ts';

export { PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED as PUT_RETURN_CODE_IS_LATEST };

/**
 * A table's store as Kafka Streams' `KeyValueStoreWrapper` sees it: a timestamped store or a
 * versioned one behind the same latest-value reads and timestamped puts. `put` returns
 * `PUT_RETURN_CODE_IS_LATEST` when the value became the key's latest (always, for a timestamped
 * store), `PUT_RETURN_CODE_NOT_PUT` when a versioned store refused it as older than its history
 * retention, and any other number when it only went into the history.
 */
export interface KeyValueStoreWrapper<K, V> {
  readonly versioned: boolean;
  get(key: K): ValueAndTimestamp<V> | undefined;
  put(key: K, value: V | null, timestamp: number): number;
}

/** Opens the store named `storeName` of this processor as a {@link KeyValueStoreWrapper}. */
export function keyValueStoreWrapper<K, V>(context: ProcessorContext, storeName: string): KeyValueStoreWrapper<K, V> {
  const store: StateStore = context.getStateStore(storeName);
  if (isVersionedStore(store)) {
    const versions = store as unknown as VersionedKeyValueStore<K, V>;
    return {
      versioned: true,
      get: (key) => {
        const latest = versions.get(key);
        return latest ? { value: latest.value, timestamp: latest.timestamp } : undefined;
      },
      put: (key, value, timestamp) => versions.put(key, value, timestamp),
    };
  }
  const rows = store as KeyValueStore<K, ValueAndTimestamp<V>>;
  return {
    versioned: false,
    get: (key) => rows.get(key) ?? undefined,
    put: (key, value, timestamp) => {
      rows.put(key, value === null ? null : { value, timestamp });
      return PUT_RETURN_CODE_VALID_TO_UNDEFINED;
    },
  };
}
