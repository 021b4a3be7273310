import type { Serde } from '../serdes/serde.ts';
import type { Duration } from '../util/duration.ts';
import type { StreamPartitioner, TimestampExtractor } from '../topology/nodes.ts';

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
}

/** Builds `Materialized` options: `Materialized.as('counts')`. */
export const Materialized = {
  as<K = unknown, V = unknown>(storeName: string): Materialized<K, V> {
    return { storeName };
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
