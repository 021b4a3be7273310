import type { ProcessorSupplier, StreamRecord, VersionedKeyValueStore } from 'tributary';

/** The value Kafka's VersionedKeyValueStoreIntegrationTest sends to mean `store.delete(key, timestamp)`. */
export const DELETE_VALUE_KEYWORD = 'delete';

/** Kafka's `DataTracker`: key → timestamp → value put (`null` for a deletion), as the test produced it. */
export class DataTracker {
  readonly data = new Map<number, Map<number, string | null>>();

  add(key: number, timestamp: number, value: string | null): void {
    let versions = this.data.get(key);
    if (!versions) this.data.set(key, (versions = new Map()));
    versions.set(timestamp, value === DELETE_VALUE_KEYWORD ? null : value);
  }
}

/**
 * Kafka's `VersionedStoreContentCheckerProcessor`: optionally writes each record to the versioned
 * store (`delete` calls `store.delete`), then checks every tracked version with `get(key, ts)`
 * and every key's latest with `get(key)`, and forwards the number of failed checks.
 */
export function versionedStoreContentChecker(storeName: string, writeToStore: boolean, data: DataTracker = new DataTracker()): ProcessorSupplier<number, string | null, number, number> {
  return () => {
    let store: VersionedKeyValueStore<number, string>;
    let forward: (record: { key: number; value: number }) => void;
    return {
      init(context) {
        store = context.getStateStore(storeName);
        forward = (record) => context.forward(record);
      },
      process(record: StreamRecord<number, string | null>) {
        if (writeToStore) {
          if (record.value === DELETE_VALUE_KEYWORD) store.delete(record.key, record.timestamp);
          else store.put(record.key, record.value, record.timestamp);
          data.add(record.key, record.timestamp, record.value);
        }
        forward({ key: record.key, value: failedChecks(store, data) });
      },
    };
  };
}

function matches(found: { value: string; timestamp: number } | undefined, value: string | null, timestamp: number): boolean {
  if (value === null) return found === undefined;
  return found !== undefined && found.value === value && found.timestamp === timestamp;
}

function failedChecks(store: VersionedKeyValueStore<number, string>, data: DataTracker): number {
  let failed = 0;
  for (const [key, versions] of data.data) {
    let maxTimestamp = -1;
    let valueAtMax: string | null = null;
    for (const [timestamp, value] of versions) {
      if (timestamp > maxTimestamp) {
        maxTimestamp = timestamp;
        valueAtMax = value;
      }
      if (!matches(store.get(key, timestamp), value, timestamp)) failed++;
    }
    if (!matches(store.get(key), valueAtMax, maxTimestamp)) failed++;
  }
  return failed;
}
