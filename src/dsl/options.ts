import type { Serde } from '../serdes/serde.ts';
import type { Duration } from '../util/duration.ts';
import type { StreamPartitioner, TimestampExtractor } from '../topology/nodes.ts';
import { ConsumedBuilder, GroupedBuilder, NamedBuilder, ProducedBuilder } from './naming.ts';
import type { VersionedOptions, VersionedStoreSupplier } from './stores.ts';

/** Names an operator (and its internal topics and stores, where it has any). */
export interface Named {
  name?: string;
}

/** How a source topic is read. */
export interface Consumed<K, V> extends Named {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  timestampExtractor?: TimestampExtractor<K, V>;
  offsetReset?: 'earliest' | 'latest';
}

/** How a sink topic is written. */
export interface Produced<K, V> extends Named {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  partitioner?: StreamPartitioner<K, V>;
}

/** How an aggregation or table is stored. */
export interface Materialized<K, V> {
  storeName?: string;
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  retention?: Duration;
  /** A table kept with its history, for joins and reads as of a time (Kafka Streams' versioned stores): any non-windowed table, source, derived, join result or aggregation. */
  versioned?: VersionedOptions;
}

/** Builds `Materialized` options: `Materialized.as('counts')`, `Materialized.as(Stores.persistentVersionedKeyValueStore('t', '5m'))`. */
export const Materialized = {
  as<K = unknown, V = unknown>(store: string | VersionedStoreSupplier): Materialized<K, V> {
    if (typeof store === 'string') return { storeName: store };
    return { storeName: store.name, versioned: { historyRetention: store.historyRetention, ...(store.segmentInterval !== undefined ? { segmentInterval: store.segmentInterval } : {}) } };
  },
  with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Materialized<K, V> {
    return { ...(keySerde ? { keySerde } : {}), ...(valueSerde ? { valueSerde } : {}) };
  },
};

/** How records are grouped (and repartitioned when the key changed). */
export interface Grouped<K, V> extends Named {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
}

/** How a stream is repartitioned. */
export interface Repartitioned<K, V> extends Named {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  partitions?: number;
  partitioner?: StreamPartitioner<K, V>;
}

/** Kafka Streams' builders of the option objects, for code ported as written: `Named.as('x')`. */
export const Named = {
  as(name: string): NamedBuilder {
    return new NamedBuilder({ name });
  },
};

/** `Grouped.with(keySerde, valueSerde)`, `Grouped.as('name')`, `Grouped.keySerde(s)`, `Grouped.valueSerde(s)`. */
export const Grouped = {
  with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): GroupedBuilder<K, V> {
    return new GroupedBuilder<K, V>({ ...(keySerde ? { keySerde } : {}), ...(valueSerde ? { valueSerde } : {}) });
  },
  as<K = unknown, V = unknown>(name: string): GroupedBuilder<K, V> {
    return new GroupedBuilder<K, V>({ name });
  },
  keySerde<K, V = unknown>(keySerde: Serde<K>): GroupedBuilder<K, V> {
    return new GroupedBuilder<K, V>({ keySerde });
  },
  valueSerde<V, K = unknown>(valueSerde: Serde<V>): GroupedBuilder<K, V> {
    return new GroupedBuilder<K, V>({ valueSerde });
  },
};

/** `Produced.with(keySerde, valueSerde[, partitioner])`, `Produced.as('name')`, `Produced.keySerde(s)`, `Produced.valueSerde(s)`. */
export const Produced = {
  with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>, partitioner?: StreamPartitioner<K, V>): ProducedBuilder<K, V> {
    return new ProducedBuilder<K, V>({ ...(keySerde ? { keySerde } : {}), ...(valueSerde ? { valueSerde } : {}), ...(partitioner ? { partitioner } : {}) });
  },
  as<K = unknown, V = unknown>(name: string): ProducedBuilder<K, V> {
    return new ProducedBuilder<K, V>({ name });
  },
  keySerde<K, V = unknown>(keySerde: Serde<K>): ProducedBuilder<K, V> {
    return new ProducedBuilder<K, V>({ keySerde });
  },
  valueSerde<V, K = unknown>(valueSerde: Serde<V>): ProducedBuilder<K, V> {
    return new ProducedBuilder<K, V>({ valueSerde });
  },
};

/** `Consumed.with(keySerde, valueSerde)`, `Consumed.as('name')`, `Consumed.with(extractor)`-style chains via `.withTimestampExtractor`. */
export const Consumed = {
  with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): ConsumedBuilder<K, V> {
    return new ConsumedBuilder<K, V>({ ...(keySerde ? { keySerde } : {}), ...(valueSerde ? { valueSerde } : {}) });
  },
  as<K = unknown, V = unknown>(name: string): ConsumedBuilder<K, V> {
    return new ConsumedBuilder<K, V>({ name });
  },
};
