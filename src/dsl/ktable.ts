import type { ProcessorSupplier } from '../processors/api.ts';
import { OldValues } from '../processors/old-values.ts';
import { tableFilterProcessor, tableMapValuesProcessor, tableToStreamProcessor } from '../processors/table-ops.ts';
import { tableRepartitionMapProcessor } from '../processors/table-aggregate.ts';
import type { Serde } from '../serdes/serde.ts';
import { changeSerde } from '../serdes/change.ts';
import type { InternalBuilder } from './internal-builder.ts';
import { KGroupedTable } from './kgrouped-table.ts';
import { KStream, type KeyValuePair } from './kstream.ts';
import type { Grouped, Materialized, Named } from './options.ts';
import { joinTables } from './table-joins.ts';
import { tableTransformValuesProcessor, type ValueTransformerWithKeySupplier } from '../processors/table-transform-values.ts';
import { joinOnForeignKey, type TableJoined } from './foreign-key-join.ts';
import type { TableTableJoiner } from '../processors/table-table-join.ts';

/** What the second and third arguments of `KTable.join` may be: a joiner or a foreign-key extractor. */
type TableJoinArgument<K, V> = (value: V, other: never, key: K) => unknown;
import { suppressTable, type Suppressed } from './suppressed.ts';
import { versionedSpec } from './stores.ts';
import { derivedReadThrough, transformedReadThrough, versionedSource, type VersionedReadThrough } from '../processors/versioned-read-through.ts';

/**
 * @internal Adds a table's key-value store and returns its name: timestamped, or versioned when
 * `materialized.versioned` is set (every table processor here puts through Kafka Streams'
 * `KeyValueStoreWrapper` semantics: sources, filter, mapValues, transformValues, joins,
 * aggregations, cogroups, foreign-key join results).
 */
export function addTableStore<K, V>(builder: InternalBuilder, materialized: Materialized<K, V> | undefined, prefix: string, keySerde: Serde<K> | undefined, valueSerde: Serde<V> | undefined): string {
  const storeName = materialized?.storeName ?? builder.newName(prefix);
  const ks = materialized?.keySerde ?? keySerde;
  const vs = materialized?.valueSerde ?? valueSerde;
  builder.addStore({
    name: storeName,
    type: 'key-value',
    timestamped: true,
    ...(materialized?.versioned ? { versioned: versionedSpec(storeName, materialized.versioned) } : {}),
    ...(ks ? { keySerde: ks as Serde<unknown> } : {}),
    ...(vs ? { valueSerde: vs as Serde<unknown> } : {}),
  });
  return storeName;
}

/** @internal Whether a table is materialized under a name of the user's (Kafka Streams' `queryableStoreName() != null`), which decides when it may send old values. */
export function isNamed<K, V>(materialized: Materialized<K, V> | undefined): boolean {
  return materialized?.storeName !== undefined || materialized?.versioned !== undefined;
}

/** Whether a foreign-key join's fourth argument is a `Materialized` (Kafka Streams' `join(other, fk, joiner, materialized)`) rather than a `TableJoined`. */
function isMaterialized<K, VR>(value: object | undefined): value is Materialized<K, VR> {
  if (value === undefined || 'name' in value || 'partitioner' in value || 'otherPartitioner' in value) return false;
  return 'storeName' in value || 'keySerde' in value || 'valueSerde' in value || 'versioned' in value || 'retention' in value;
}

/** Options of `KTable.toStream()`. */
export interface ToStreamOptions extends Named {
  /** `'keep'` (the default): deletes become `null` values, typed `V | null`. `'drop'`: deletes are left out, typed `V`. */
  tombstones?: 'keep' | 'drop';
}

/**
 * A changelog stream: the latest value per key. Every update flows downstream as a change (new and
 * old value); a `null` value is a tombstone. Each table is materialized in a store named
 * `storeName`, which interactive queries and the test driver can read.
 */
export class KTable<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly builder: InternalBuilder,
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** The store holding this table. */ readonly storeName: string,
    /**
     * @internal Set when this table answers reads as of a time: a table materialized as a versioned
     * store, or an unmaterialized `filter`/`mapValues`/`transformValues` of one, which reads through
     * to its history.
     */
    readonly versionedReadThrough?: VersionedReadThrough<K, V>,
    /** @internal Whether its changes carry old values, and how a downstream operator asks for them. */
    readonly oldValues: OldValues = OldValues.always(),
  ) {}

  /**
   * @internal How a child table of this one keeps history. Materialized as a versioned store
   * (`Materialized.as(Stores.persistentVersionedKeyValueStore(...))`), it has its own: as-of reads
   * go to its store. Without a store name it is unmaterialized as Kafka Streams counts it: for a
   * versioned parent, as-of reads go through to the parent's history with `step` applied (Kafka
   * Streams' `view()` value getters), and out-of-order updates pass through (`passOutOfOrder`).
   */
  private childHistory<V2>(materialized: Materialized<K, V2> | undefined, storeName: string, step: ((key: K, value: V) => V2 | null) | undefined): { passOutOfOrder: boolean; readThrough: VersionedReadThrough<K, V2> | undefined } {
    if (materialized?.versioned) return { passOutOfOrder: false, readThrough: versionedSource<K, V2>(storeName) };
    const inherits = this.versionedReadThrough !== undefined && materialized?.storeName === undefined;
    const readThrough = inherits && step && this.versionedReadThrough ? derivedReadThrough(this.versionedReadThrough, step) : undefined;
    return { passOutOfOrder: inherits, readThrough };
  }

  /** @internal A child table computed by a processor with its own store (see {@link childHistory}). */
  protected deriveTable<V2>(prefix: string, materialized: Materialized<K, V2> | undefined, make: (storeName: string, passOutOfOrder: boolean, oldValues: OldValues) => ProcessorSupplier, valueSerde: Serde<V2> | undefined, step: (key: K, value: V) => V2 | null, oldValues = OldValues.derived(this.oldValues, isNamed(materialized))): KTable<K, V2> {
    const name = this.builder.newName(prefix);
    const storeName = addTableStore(this.builder, materialized, 'KTABLE-STATE-STORE-', this.keySerde, valueSerde);
    const { passOutOfOrder, readThrough } = this.childHistory(materialized, storeName, step);
    this.builder.addProcessor(name, [this.nodeName], make(storeName, passOutOfOrder, oldValues), [storeName]);
    return new KTable<K, V2>(this.builder, name, this.keySerde, materialized?.valueSerde ?? valueSerde, storeName, readThrough, oldValues);
  }

  /**
   * Keeps rows for which `predicate` is true; other rows become tombstones downstream, except a
   * rejected row of a key that had none once old values are sent (see {@link filterTable}). Without a
   * store name in `materialized`, the filter of a versioned table is versioned too: a join reads
   * the source's history and applies `predicate` to the value as of the time. With
   * `Materialized.as(Stores.persistentVersionedKeyValueStore(name, retention))` it keeps a history
   * of its own: updates are put at their timestamps, an out-of-order one is forwarded with
   * `isLatest: false`, one older than the retention is dropped.
   */
  filter(predicate: (key: K, value: V) => boolean, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.filterTable(predicate, false, materialized);
  }

  /** Keeps rows for which `predicate` is false (versioned, or materialized as a versioned store, as `filter` is). */
  filterNot(predicate: (key: K, value: V) => boolean, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.filterTable(predicate, true, materialized);
  }

  /**
   * KTableFilter: sends old values from the start if this table already does (it asks without
   * forcing), and then, below a non-versioned table, drops a rejected row of a key that had none
   * instead of forwarding a needless tombstone; below a versioned table every update goes on.
   */
  private filterTable(predicate: (key: K, value: V) => boolean, negate: boolean, materialized: Materialized<K, V> | undefined): KTable<K, V> {
    const dropAbsentToAbsent = this.versionedReadThrough === undefined;
    const oldValues = OldValues.derived(this.oldValues, isNamed(materialized), this.oldValues.enable(false));
    const step = (key: K, value: V): V | null => (predicate(key, value) !== negate ? value : null);
    return this.deriveTable('KTABLE-FILTER-', materialized, (store, passOutOfOrder, sends) => tableFilterProcessor(store, predicate, negate, passOutOfOrder, sends, dropAbsentToAbsent), this.valueSerde, step, oldValues);
  }

  /**
   * Maps each row's value; the mapper never sees a tombstone. Without a store name in
   * `materialized`, the mapped table of a versioned table is versioned too (as-of reads map the
   * source's value as of the time); it may also be materialized as a versioned store, as `filter`.
   */
  mapValues<V2>(mapper: (value: V, key: K) => V2, materialized?: Materialized<K, V2>): KTable<K, V2> {
    return this.deriveTable<V2>('KTABLE-MAPVALUES-', materialized, (store, passOutOfOrder, oldValues) => tableMapValuesProcessor(store, mapper, passOutOfOrder, oldValues), undefined, (key, value) => mapper(value, key) ?? null);
  }

  /**
   * Transforms each row's value with access to state stores (Kafka Streams' `transformValues` with a
   * `ValueTransformerWithKey`): `transform(key, value)` gives the new value, also for a deleted row
   * (`value` null). Name the stores it reads in `storeNames` (added with `builder.addStateStore`).
   * It may be materialized as a versioned store, as `filter`.
   */
  transformValues<VR>(supplier: ValueTransformerWithKeySupplier<K, V, VR>, materialized?: Materialized<K, VR>, ...storeNames: string[]): KTable<K, VR> {
    const name = this.builder.newName('KTABLE-TRANSFORMVALUES-');
    const storeName = addTableStore(this.builder, materialized, 'KTABLE-STATE-STORE-', this.keySerde, materialized?.valueSerde);
    const { passOutOfOrder, readThrough: own } = this.childHistory<VR>(materialized, storeName, undefined);
    // Unmaterialized below a versioned table, as-of reads run a transformer of their own on the
    // historical value (Kafka Streams' KTableTransformValuesGetter).
    const readThrough = own ?? (passOutOfOrder && this.versionedReadThrough ? transformedReadThrough(this.versionedReadThrough, supplier, storeNames) : undefined);
    const oldValues = OldValues.derived(this.oldValues, isNamed(materialized));
    this.builder.addProcessor(name, [this.nodeName], tableTransformValuesProcessor(storeName, supplier, passOutOfOrder, oldValues), [storeName, ...storeNames]);
    return new KTable<K, VR>(this.builder, name, this.keySerde, materialized?.valueSerde, storeName, readThrough, oldValues);
  }

  /** The name of the store that holds this table, for interactive queries (`app.store(name)`); every Tributary table has one. */
  queryableStoreName(): string {
    return this.storeName;
  }

  /**
   * Holds back updates: `Suppressed.untilWindowCloses()` forwards one final result per window of a
   * windowed table once it closes; `Suppressed.untilTimeLimit(d)` forwards each key's latest value
   * `d` after its first update. The buffer is kept in a store, so it survives restarts.
   */
  suppress(suppressed: Suppressed): KTable<K, V> {
    return suppressTable(this, suppressed);
  }

  /**
   * The table's updates as a stream. A deleted row (a filtered-out row, a merged session, a join
   * whose side went away) becomes a record with a `null` value, a tombstone, so the stream is
   * typed `V | null`; with `{ tombstones: 'drop' }` deletes are left out and it is typed `V`.
   */
  toStream(options: ToStreamOptions & { tombstones: 'drop' }): KStream<K, V>;
  toStream(options?: ToStreamOptions): KStream<K, V | null>;
  /** The updates as a stream re-keyed by `mapper(key, value)` (Kafka Streams' `toStream(KeyValueMapper)`); marks the stream for repartitioning. */
  toStream<KR>(mapper: (key: K, value: V | null) => KR, options?: ToStreamOptions): KStream<KR, V | null>;
  toStream<KR>(optionsOrMapper: ToStreamOptions | ((key: K, value: V | null) => KR) = {}, mapperOptions: ToStreamOptions = {}): KStream<K, V> | KStream<K, V | null> | KStream<KR, V | null> {
    const options = typeof optionsOrMapper === 'function' ? mapperOptions : optionsOrMapper;
    const name = this.builder.name(options.name, 'KTABLE-TOSTREAM-');
    this.builder.addProcessor(name, [this.nodeName], tableToStreamProcessor(options.tombstones === 'drop'));
    const stream = new KStream<K, V | null>(this.builder, name, this.keySerde, this.valueSerde, false);
    return typeof optionsOrMapper === 'function' ? stream.selectKey(optionsOrMapper) : stream;
  }

  /**
   * Joins with another table on the key: an update on either side gives `joiner(value, otherValue, key)`
   * while both sides have the key (a tombstone when one side is deleted), at the later timestamp.
   * The result is materialized in its own store.
   *
   * With a `foreignKeyExtractor`, a foreign-key join instead: each row joins the other table's row
   * whose key `foreignKeyExtractor(value, key)` gives, `joiner(value, foreignValue)`; either table's
   * updates trigger it, and the tables need not be co-partitioned (see `TableJoined`). As in Kafka
   * Streams, `Materialized` may come fourth (without `TableJoined`) or fifth.
   */
  join<FK, VO, VR>(other: KTable<FK, VO>, foreignKeyExtractor: (value: V, key: K) => FK | null | undefined, joiner: (value: V, foreignValue: VO) => VR, materialized: Materialized<K, VR>): KTable<K, VR>;
  join<FK, VO, VR>(other: KTable<FK, VO>, foreignKeyExtractor: (value: V, key: K) => FK | null | undefined, joiner: (value: V, foreignValue: VO) => VR, tableJoined?: TableJoined<K, FK>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  join<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, materialized?: Materialized<K, VR>): KTable<K, VR>;
  join<FK, VO, VR>(other: KTable<FK, VO> | KTable<K, VO>, second: TableJoinArgument<K, V>, third?: TableJoinArgument<K, V> | Materialized<K, VR>, tableJoined?: TableJoined<K, FK> | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.joinEither<FK, VO, VR>(other, second, third, tableJoined, materialized, false);
  }

  /** Like `join`, and every row of this table gives a result, with `null` for a missing other (or foreign) row. */
  leftJoin<FK, VO, VR>(other: KTable<FK, VO>, foreignKeyExtractor: (value: V, key: K) => FK | null | undefined, joiner: (value: V, foreignValue: VO | null) => VR, materialized: Materialized<K, VR>): KTable<K, VR>;
  leftJoin<FK, VO, VR>(other: KTable<FK, VO>, foreignKeyExtractor: (value: V, key: K) => FK | null | undefined, joiner: (value: V, foreignValue: VO | null) => VR, tableJoined?: TableJoined<K, FK>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => VR, materialized?: Materialized<K, VR>): KTable<K, VR>;
  leftJoin<FK, VO, VR>(other: KTable<FK, VO> | KTable<K, VO>, second: TableJoinArgument<K, V>, third?: TableJoinArgument<K, V> | Materialized<K, VR>, tableJoined?: TableJoined<K, FK> | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.joinEither<FK, VO, VR>(other, second, third, tableJoined, materialized, true);
  }

  /** A function third argument makes it a foreign-key join (extractor, joiner); otherwise a key join (joiner, materialized). */
  private joinEither<FK, VO, VR>(other: KTable<FK, VO> | KTable<K, VO>, second: TableJoinArgument<K, V>, third: TableJoinArgument<K, V> | Materialized<K, VR> | undefined, fourth: TableJoined<K, FK> | Materialized<K, VR> | undefined, materialized: Materialized<K, VR> | undefined, left: boolean): KTable<K, VR> {
    if (typeof third === 'function') {
      const [tableJoined, resultStore] = materialized === undefined && isMaterialized(fourth) ? [{}, fourth] : [(fourth ?? {}) as TableJoined<K, FK>, materialized];
      return joinOnForeignKey<K, V, FK, VO, VR>(this, other as KTable<FK, VO>, second as (value: V, key: K) => FK | null, third as (value: V, foreignValue: VO | null) => VR, left, tableJoined, resultStore);
    }
    return joinTables<K, V, VO, VR>(this, other as KTable<K, VO>, second as TableTableJoiner<K, V, VO, VR>, left ? 'left' : 'inner', third);
  }

  /** Like `join`, and a row of either table gives a result, with `null` for the missing side; a tombstone when both are gone. */
  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K) => VR, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return joinTables<K, V, VO, VR>(this, other, joiner, 'outer', materialized);
  }

  /** Re-keys the table for an aggregation: `groupBy((k, v) => [k2, v2])`. Always repartitions. */
  groupBy<K2, V2>(selector: (key: K, value: V) => KeyValuePair<K2, V2>, grouped: Grouped<K2, V2> = {}): KGroupedTable<K2, V2> {
    const selectName = this.builder.newName('KTABLE-SELECT-');
    // The repartition carries the old row's pair so the aggregate can subtract it.
    this.oldValues.enable(true);
    this.builder.addProcessor(selectName, [this.nodeName], tableRepartitionMapProcessor(selector));
    return new KGroupedTable<K2, V2>(this.builder, selectName, grouped.keySerde, grouped.valueSerde, grouped.name, changeSerde);
  }
}
