import { tableAggregateProcessor } from '../processors/table-aggregate.ts';
import type { Serde } from '../serdes/serde.ts';
import type { ChangeValue } from '../serdes/change.ts';
import { Serdes } from '../serdes/serdes.ts';
import type { InternalBuilder } from './internal-builder.ts';
import { addTableStore, KTable } from './ktable.ts';
import { OldValues } from '../processors/old-values.ts';
import type { Materialized } from './options.ts';
import { versionedSource } from '../processors/versioned-read-through.ts';

/** A re-keyed table, ready to aggregate with an adder and a subtractor. */
export class KGroupedTable<K, V> {
  /** @internal */
  constructor(
    private readonly builder: InternalBuilder,
    private readonly selectNode: string,
    private readonly keySerde: Serde<K> | undefined,
    private readonly valueSerde: Serde<V> | undefined,
    private readonly groupName: string | undefined,
    private readonly changeSerdeOf: <T>(inner: Serde<T>) => Serde<ChangeValue<T>>,
  ) {}

  /** The repartition's source once a named grouping created it. */
  private sharedSource: string | undefined;

  /** Counts rows per new key (an update moves a row from its old key to its new one). */
  count(materialized?: Materialized<K, number>): KTable<K, number> {
    return this.aggregate(() => 0, (_k, _v, n) => n + 1, (_k, _v, n) => n - 1, { valueSerde: Serdes.int64(), ...materialized });
  }

  /** Combines rows per key: `adder(aggregate, value)` on insert, `subtractor(aggregate, old)` on removal. */
  reduce(adder: (aggregate: V, value: V, key: K) => V, subtractor: (aggregate: V, value: V, key: K) => V, materialized?: Materialized<K, V>): KTable<K, V> {
    const table = this.aggregateAs<V | undefined>(
      'KTABLE-REDUCE-',
      () => undefined,
      (key, value, aggregate) => (aggregate === undefined ? value : adder(aggregate, value, key)),
      (key, value, aggregate) => (aggregate === undefined ? undefined : subtractor(aggregate, value, key)),
      { valueSerde: this.valueSerde, ...materialized } as Materialized<K, V | undefined>,
    );
    return table as KTable<K, V>;
  }

  /**
   * Aggregates rows per key with an initializer, an adder and a subtractor. It may be materialized
   * as a versioned store, as `KGroupedStream.aggregate` (Kafka Streams' KTableAggregate).
   */
  aggregate<A>(initializer: () => A, adder: (key: K, value: V, aggregate: A) => A, subtractor: (key: K, value: V, aggregate: A) => A, materialized?: Materialized<K, A>): KTable<K, A> {
    return this.aggregateAs('KTABLE-AGGREGATE-', initializer, adder, subtractor, materialized);
  }

  /**
   * The aggregation behind count, reduce and aggregate, named as Kafka Streams' KGroupedTableImpl
   * names it: the store, then the repartition's sink and source, then the processor (`prefix`).
   */
  private aggregateAs<A>(prefix: string, initializer: () => A, adder: (key: K, value: V, aggregate: A) => A, subtractor: (key: K, value: V, aggregate: A) => A, materialized: Materialized<K, A> | undefined): KTable<K, A> {
    const storeName = materialized?.storeName ?? this.builder.newName('KTABLE-AGGREGATE-STATE-STORE-');
    const base = this.groupName ?? storeName;
    const sinkName = this.builder.newName('KSTREAM-SINK-');
    const generatedSource = this.builder.newName('KSTREAM-SOURCE-');
    const name = this.builder.newName(prefix);
    const sourceName = this.sharedSource ?? this.repartition(base, sinkName, generatedSource);
    // Under a Grouped name, all aggregations of this grouping read one repartition (Kafka's KGroupedTableImpl).
    if (this.groupName !== undefined) this.sharedSource = sourceName;
    addTableStore(this.builder, { ...materialized, storeName }, '', this.keySerde, materialized?.valueSerde);
    const oldValues = OldValues.onRequest();
    this.builder.addProcessor(name, [sourceName], tableAggregateProcessor(storeName, initializer, adder, subtractor, oldValues), [storeName]);
    return new KTable<K, A>(this.builder, name, this.keySerde, materialized?.valueSerde, storeName, materialized?.versioned ? versionedSource<K, A>(storeName) : undefined, oldValues);
  }

  /** The re-keyed changes' way to the aggregation: a sink to `<base>-repartition` and a source reading it back. */
  private repartition(base: string, sinkName: string, sourceName: string): string {
    const valueSerde = this.valueSerde ?? (this.builder.defaults.valueSerde as Serde<V> | null) ?? undefined;
    const repartitionSerde = valueSerde ? (this.changeSerdeOf(valueSerde) as Serde<unknown>) : undefined;
    this.builder.addSink({
      name: sinkName, parents: [this.selectNode], topic: `${base}-repartition`, internal: true,
      ...(this.keySerde ? { keySerde: this.keySerde as Serde<unknown> } : {}),
      ...(repartitionSerde ? { valueSerde: repartitionSerde } : {}),
    });
    this.builder.addSource({
      name: sourceName, topics: [`${base}-repartition`], internal: true,
      ...(this.keySerde ? { keySerde: this.keySerde as Serde<unknown> } : {}),
      ...(repartitionSerde ? { valueSerde: repartitionSerde } : {}),
    });
    return sourceName;
  }
}
