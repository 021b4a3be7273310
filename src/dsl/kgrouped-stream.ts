import { reduceAggregator, streamAggregateProcessor } from '../processors/aggregate.ts';
import type { Serde } from '../serdes/serde.ts';
import { Serdes } from '../serdes/serdes.ts';
import type { KStream } from './kstream.ts';
import { addTableStore, KTable } from './ktable.ts';
import { OldValues } from '../processors/old-values.ts';
import type { Grouped, Materialized } from './options.ts';
import { SessionWindowedKStream } from './session-windowed-stream.ts';
import { TimeWindowedKStream } from './time-windowed-stream.ts';
import { SessionWindows, type SlidingWindows, type TimeWindows, type UnlimitedWindows } from './windows.ts';
import { CogroupedKStream } from './cogrouped-stream.ts';
import { versionedSource } from '../processors/versioned-read-through.ts';

/** A stream grouped by key, ready to aggregate (and repartitioned first if its key changed). */
export class KGroupedStream<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly stream: KStream<K, V>,
    /** @internal */ readonly grouped: Grouped<K, V>,
  ) {}

  /** @internal This grouping's repartitions by topic base name: its named aggregations and the cogroups that name the same topic share one. */
  readonly repartitioned = new Map<string, KStream<K, V>>();

  /** @internal The stream to aggregate: repartitioned through `<base>-repartition` when the key changed. */
  source(storeName: string): KStream<K, V> {
    const keySerde = this.grouped.keySerde ?? this.stream.keySerde;
    const valueSerde = this.grouped.valueSerde ?? this.stream.valueSerde;
    if (!this.stream.repartitionRequired) return this.stream;
    // Under a Grouped name, all aggregations of this grouping share one repartition (Kafka's
    // GroupedStreamAggregateBuilder), still taking the three names each would.
    const name = this.grouped.name;
    const shared = name === undefined ? undefined : this.repartitioned.get(name);
    if (shared !== undefined) {
      this.stream.builder.skipIndexes(3);
      return shared;
    }
    const repartitioned = this.stream.repartitionForGrouping(name ?? storeName, keySerde, valueSerde);
    if (name !== undefined) this.repartitioned.set(name, repartitioned);
    return repartitioned;
  }

  /** Counts records per key (records with a `null` key or value are dropped). */
  count(materialized?: Materialized<K, number>): KTable<K, number> {
    // Kafka Streams' count(Materialized) takes one name more when the store is unnamed ("for compatibility"); so do we.
    if (materialized !== undefined && materialized.storeName === undefined) this.stream.builder.skipIndexes(1);
    return this.aggregate(() => 0, (_k, _v, n) => n + 1, { valueSerde: Serdes.int64(), ...materialized });
  }

  /** Combines the values of each key: the first value is the initial aggregate. */
  reduce(reducer: (aggregate: V, value: V, key: K) => V, materialized?: Materialized<K, V>): KTable<K, V> {
    const table = this.aggregateAs<V | undefined>('KSTREAM-REDUCE-', () => undefined, reduceAggregator(reducer), { valueSerde: this.grouped.valueSerde ?? this.stream.valueSerde, ...materialized } as Materialized<K, V | undefined>);
    return table as KTable<K, V>;
  }

  /** Cuts each key's records into time windows (tumbling, hopping or sliding) to aggregate per window. */
  windowedBy(windows: TimeWindows | SlidingWindows | UnlimitedWindows): TimeWindowedKStream<K, V>;
  /** Cuts each key's records into sessions of activity to aggregate per session. */
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: TimeWindows | SlidingWindows | UnlimitedWindows | SessionWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    return windows instanceof SessionWindows ? new SessionWindowedKStream<K, V>(this, windows) : new TimeWindowedKStream<K, V>(this, windows);
  }

  /**
   * Starts a cogroup: several grouped streams (of any value types) aggregated into one table with
   * one store, each with its own aggregator. Add more with `.cogroup(other, aggregator)`, then
   * `.aggregate(initializer)` or `.windowedBy(...)`.
   */
  cogroup<VOut>(aggregator: (key: K, value: V, aggregate: VOut) => VOut): CogroupedKStream<K, VOut> {
    return CogroupedKStream.of(this, aggregator);
  }

  /**
   * Aggregates the values of each key, starting from `initializer()`. Materialized as a versioned
   * store (`Materialized.as(Stores.persistentVersionedKeyValueStore(name, retention))`), the
   * aggregate keeps its history: joins with a grace period read it as of a time, and a record older
   * than the retention is dropped (as Kafka Streams' KStreamAggregate over a versioned store).
   */
  aggregate<A>(initializer: () => A, aggregator: (key: K, value: V, aggregate: A) => A, materialized?: Materialized<K, A>): KTable<K, A> {
    return this.aggregateAs('KSTREAM-AGGREGATE-', initializer, aggregator, materialized);
  }

  /** The aggregation behind count, reduce and aggregate; `prefix` names its store and processor (`KSTREAM-REDUCE-` for reduce), as Kafka Streams does. */
  private aggregateAs<A>(prefix: string, initializer: () => A, aggregator: (key: K, value: V, aggregate: A) => A, materialized: Materialized<K, A> | undefined): KTable<K, A> {
    const builder = this.stream.builder;
    const storeName = materialized?.storeName ?? builder.newName(`${prefix}STATE-STORE-`);
    const name = builder.newName(prefix); // before the repartition, as Kafka Streams names them
    const input = this.source(storeName);
    const keySerde = (materialized?.keySerde ?? input.keySerde) as Serde<K> | undefined;
    addTableStore(builder, { ...materialized, storeName }, '', keySerde, materialized?.valueSerde);
    const oldValues = OldValues.onRequest();
    builder.addProcessor(name, [input.nodeName], streamAggregateProcessor(storeName, initializer, aggregator, true, oldValues), [storeName]);
    return new KTable<K, A>(builder, name, keySerde, materialized?.valueSerde, storeName, materialized?.versioned ? versionedSource<K, A>(storeName) : undefined, oldValues);
  }
}
