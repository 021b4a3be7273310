import { streamAggregateProcessor } from '../processors/aggregate.ts';
import { OldValues } from '../processors/old-values.ts';
import type { ProcessorSupplier } from '../processors/api.ts';
import { cachedPassThroughProcessor, passThroughProcessor } from '../processors/stateless.ts';
import { versionedSource } from '../processors/versioned-read-through.ts';
import type { Serde } from '../serdes/serde.ts';
import type { KGroupedStream } from './kgrouped-stream.ts';
import type { KStream } from './kstream.ts';
import { addTableStore, KTable } from './ktable.ts';
import type { Materialized, Named } from './options.ts';
import { SessionWindowedCogroupedKStream, TimeWindowedCogroupedKStream } from './cogrouped-windowed-stream.ts';
import { SessionWindows, type SlidingWindows, type TimeWindows, type UnlimitedWindows } from './windows.ts';

/** @internal The aggregator of one input of a cogroup, over that input's values. */
export type CogroupAggregator<K, VOut> = (key: K, value: unknown, aggregate: VOut) => VOut;

/** @internal The grouped streams of a cogroup with their aggregators, in the order they were added. */
export type CogroupInputs<K, VOut> = ReadonlyMap<KGroupedStream<K, unknown>, CogroupAggregator<K, VOut>>;

/** @internal Splits Kafka Streams' `(initializer, [named,] [materialized])` arguments. */
export function namedAndMaterialized<M>(first: Named | M | undefined, second: M | undefined): { named: Named | undefined; materialized: M | undefined } {
  if (first !== undefined && typeof first === 'object' && first !== null && 'name' in first) return { named: first as Named, materialized: second };
  return { named: undefined, materialized: (first as M | undefined) ?? second };
}

/**
 * @internal Wires a cogroup as Kafka Streams does: each input (repartitioned first when its key
 * changed, through `<grouped name or store name>-repartition`) feeds its own aggregation node
 * (`COGROUPKSTREAM-AGGREGATE-…`, or `<name>-cogroup-agg-<i>`), all on one store, and a merge node
 * (`COGROUPKSTREAM-MERGE-…` or `<name>-cogroup-merge`) forwards their updates. The merge node is
 * where the record cache merges the updates of all inputs to one key. Returns the merge node.
 */
export function buildCogroup<K, VOut>(
  inputs: CogroupInputs<K, VOut>,
  storeName: string,
  named: Named | undefined,
  supplierFor: (aggregator: CogroupAggregator<K, VOut>) => ProcessorSupplier,
  onAggregateNode: (name: string) => void = () => undefined,
  /** A versioned store is not cached (Kafka Streams' versioned stores have no cache): the merge node forwards at once. */
  versioned = false,
): string {
  const first = [...inputs.keys()][0]!;
  const builder = first.stream.builder;
  const sources: KStream<K, unknown>[] = [...inputs.keys()].map((grouped) => {
    if (!grouped.stream.repartitionRequired) return grouped.stream;
    const base = grouped.grouped.name ?? storeName;
    const existing = grouped.repartitioned.get(base);
    if (existing) {
      builder.skipIndexes(3); // the names Kafka Streams' createRepartitionedSource takes each time
      return existing;
    }
    const keySerde = grouped.grouped.keySerde ?? grouped.stream.keySerde;
    const valueSerde = grouped.grouped.valueSerde ?? grouped.stream.valueSerde;
    const stream = grouped.stream.repartitionForGrouping(base, keySerde, valueSerde);
    grouped.repartitioned.set(base, stream);
    return stream;
  });
  if (sources.length > 1) builder.copartition(sources.map((s) => s.nodeName));
  const aggregateNodes = [...inputs.values()].map((aggregator, i) => {
    const name = builder.name(named?.name !== undefined ? `${named.name}-cogroup-agg-${i}` : undefined, 'COGROUPKSTREAM-AGGREGATE-');
    builder.addProcessor(name, [sources[i]!.nodeName], supplierFor(aggregator), [storeName]);
    onAggregateNode(name);
    return name;
  });
  const mergeName = builder.name(named?.name !== undefined ? `${named.name}-cogroup-merge` : undefined, 'COGROUPKSTREAM-MERGE-');
  builder.addProcessor(mergeName, aggregateNodes, versioned ? passThroughProcessor() : cachedPassThroughProcessor());
  return mergeName;
}

/** @internal The key serde of a cogroup's store and table: the materialized one, else the first input's. */
export function cogroupKeySerde<K, VOut>(inputs: CogroupInputs<K, VOut>, materialized: Materialized<K, VOut> | undefined): Serde<K> | undefined {
  const first = [...inputs.keys()][0]!;
  return materialized?.keySerde ?? first.grouped.keySerde ?? first.stream.keySerde;
}

/**
 * Several grouped streams, of any value types, aggregated into one table: Kafka Streams'
 * `CogroupedKStream`. Each input has its own aggregator; all share one initializer and one store,
 * so a key's aggregate sees the records of every input, in processing order.
 *
 * ```ts
 * const spend = clicks.groupByKey()
 *   .cogroup<Summary>((_user, _click, s) => ({ ...s, clicks: s.clicks + 1 }))
 *   .cogroup(purchases.groupByKey(), (_user, p, s) => ({ ...s, spent: s.spent + p.amount }))
 *   .aggregate(() => ({ clicks: 0, spent: 0 }), { storeName: 'customer-summary' });
 * ```
 */
export class CogroupedKStream<K, VOut> {
  private constructor(/** @internal */ readonly inputs: CogroupInputs<K, VOut>) {}

  /** @internal `KGroupedStream.cogroup`: the first input. */
  static of<K, V, VOut>(grouped: KGroupedStream<K, V>, aggregator: (key: K, value: V, aggregate: VOut) => VOut): CogroupedKStream<K, VOut> {
    return new CogroupedKStream<K, VOut>(new Map([[grouped as KGroupedStream<K, unknown>, aggregator as CogroupAggregator<K, VOut>]]));
  }

  /** Adds another grouped stream with its aggregator (cogrouping a stream again replaces its aggregator, as in Kafka Streams). */
  cogroup<VIn>(grouped: KGroupedStream<K, VIn>, aggregator: (key: K, value: VIn, aggregate: VOut) => VOut): CogroupedKStream<K, VOut> {
    if (grouped === undefined || grouped === null) throw new TypeError('cogroup needs a grouped stream');
    if (typeof aggregator !== 'function') throw new TypeError('cogroup needs an aggregator function');
    const inputs = new Map(this.inputs);
    inputs.set(grouped as KGroupedStream<K, unknown>, aggregator as CogroupAggregator<K, VOut>);
    return new CogroupedKStream<K, VOut>(inputs);
  }

  /** Cuts each key's records into time windows (tumbling, hopping, sliding or unlimited) to aggregate per window. */
  windowedBy(windows: TimeWindows | SlidingWindows | UnlimitedWindows): TimeWindowedCogroupedKStream<K, VOut>;
  /** Cuts each key's records into sessions of activity to aggregate per session. */
  windowedBy(windows: SessionWindows): SessionWindowedCogroupedKStream<K, VOut>;
  windowedBy(windows: TimeWindows | SlidingWindows | UnlimitedWindows | SessionWindows): TimeWindowedCogroupedKStream<K, VOut> | SessionWindowedCogroupedKStream<K, VOut> {
    if (windows === undefined || windows === null) throw new TypeError('windowedBy needs windows');
    return windows instanceof SessionWindows ? new SessionWindowedCogroupedKStream<K, VOut>(this.inputs, windows) : new TimeWindowedCogroupedKStream<K, VOut>(this.inputs, windows);
  }

  /**
   * Aggregates every input into one table, starting each key from `initializer()`; records with a
   * `null` key or value are dropped. Name the nodes with `Named` (`<name>-cogroup-agg-<i>`,
   * `<name>-cogroup-merge`) and the store with `Materialized`; a versioned store keeps the
   * aggregate's history, as `KGroupedStream.aggregate`'s.
   */
  aggregate(initializer: () => VOut, materialized?: Materialized<K, VOut>): KTable<K, VOut>;
  aggregate(initializer: () => VOut, named: Named, materialized?: Materialized<K, VOut>): KTable<K, VOut>;
  aggregate(initializer: () => VOut, namedOrMaterialized?: Named | Materialized<K, VOut>, materializedArg?: Materialized<K, VOut>): KTable<K, VOut> {
    if (typeof initializer !== 'function') throw new TypeError('aggregate needs an initializer function');
    const { named, materialized } = namedAndMaterialized<Materialized<K, VOut>>(namedOrMaterialized, materializedArg);
    const builder = [...this.inputs.keys()][0]!.stream.builder;
    const keySerde = cogroupKeySerde(this.inputs, materialized);
    const storeName = addTableStore(builder, materialized, 'COGROUPKSTREAM-AGGREGATE-STATE-STORE-', keySerde, materialized?.valueSerde);
    const versioned = materialized?.versioned !== undefined;
    const oldValues = OldValues.onRequest();
    const mergeName = buildCogroup(this.inputs, storeName, named, (aggregator) => streamAggregateProcessor(storeName, initializer, aggregator, false, oldValues), undefined, versioned);
    return new KTable<K, VOut>(builder, mergeName, keySerde, materialized?.valueSerde, storeName, versioned ? versionedSource<K, VOut>(storeName) : undefined, oldValues);
  }
}
