import type { Serde } from '../serdes/serde.ts';
import type { StoreSpec } from '../state/store.ts';
import { toMillis, type Duration } from '../util/duration.ts';

/** A versioned store as `Stores.persistentVersionedKeyValueStore` describes it: a name and its history retention. */
export interface VersionedStoreSupplier {
  readonly name: string;
  readonly historyRetention: Duration;
  readonly segmentInterval?: Duration;
}

/** The history options of `Materialized`: `{ versioned: { historyRetention: '5m' } }`. */
export interface VersionedOptions {
  /** How far back as-of reads answer, and how late an update may come, before the newest timestamp seen. */
  historyRetention: Duration;
  /** How often, in stream time, old versions are swept out (default as Kafka Streams picks it from the retention). */
  segmentInterval?: Duration;
}

/** @internal The store spec fields of versioned options, validated. */
export function versionedSpec(storeName: string, options: VersionedOptions): NonNullable<StoreSpec['versioned']> {
  const historyRetentionMs = toMillis(options.historyRetention, `historyRetention of versioned store '${storeName}'`);
  if (options.segmentInterval === undefined) return { historyRetentionMs };
  const segmentIntervalMs = toMillis(options.segmentInterval, `segmentInterval of versioned store '${storeName}'`);
  if (segmentIntervalMs < 1) throw new RangeError(`segmentInterval of versioned store '${storeName}' must be at least 1 ms, got ${segmentIntervalMs}`);
  return { historyRetentionMs, segmentIntervalMs };
}

/** Kafka Streams' `Stores`, for the stores the DSL options cannot describe alone. */
export const Stores = {
  /**
   * A versioned key-value store (Kafka Streams' `persistentVersionedKeyValueStore`): pass it to
   * `Materialized.as(...)` for a versioned table, or to `versionedKeyValueStoreBuilder` for a processor.
   */
  persistentVersionedKeyValueStore(name: string, historyRetention: Duration, segmentInterval?: Duration): VersionedStoreSupplier {
    const supplier = { name, historyRetention, ...(segmentInterval !== undefined ? { segmentInterval } : {}) };
    versionedSpec(name, supplier);
    return supplier;
  },
  /** The spec of a versioned store for `builder.addStateStore(...)`: processors get a `VersionedKeyValueStore`. */
  versionedKeyValueStoreBuilder<K, V>(supplier: VersionedStoreSupplier, keySerde?: Serde<K>, valueSerde?: Serde<V>): StoreSpec<K, V> {
    return { name: supplier.name, type: 'key-value', versioned: versionedSpec(supplier.name, supplier), ...(keySerde ? { keySerde } : {}), ...(valueSerde ? { valueSerde } : {}) };
  },
};
