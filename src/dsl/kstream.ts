import { Subject, type Observable } from 'rxjs';
import type { ProcessorSupplier, StreamRecord } from '../processors/api.ts';
import {
  filterProcessor, flatMapProcessor, flatMapValuesProcessor, foreachProcessor, mapProcessor,
  mapValuesProcessor, observeProcessor, passThroughProcessor, peekProcessor, selectKeyProcessor,
} from '../processors/stateless.ts';
import type { Serde } from '../serdes/serde.ts';
import type { TopicNameExtractor } from '../topology/nodes.ts';
import { filterProcessor as keepNonNullKeys } from '../processors/stateless.ts';
import { tableSourceProcessor } from '../processors/table-source.ts';
import { versionedTableSourceProcessor } from '../processors/versioned-table-source.ts';
import { versionedSource } from '../processors/versioned-read-through.ts';
import { predictProcessor, type PredictOptions } from '../processors/predict.ts';
import type { Model, Prediction } from '../ml/model.ts';
import type { InternalBuilder } from './internal-builder.ts';
import { KGroupedStream } from './kgrouped-stream.ts';
import { addTableStore, isNamed, KTable } from './ktable.ts';
import { OldValues } from '../processors/old-values.ts';
import type { Grouped, Materialized, Named, Produced, Repartitioned } from './options.ts';
import type { GlobalKTable } from './global-ktable.ts';
import type { JoinWindows } from './join-windows.ts';
import type { Joined, StreamJoined } from './joined.ts';
import { streamJoin } from './stream-joins.ts';
import { fixedKeyProcessor, type FixedKeyProcessorSupplier } from '../processors/fixed-key.ts';
import { printProcessor } from '../processors/print.ts';
import { Printed } from './printed.ts';
import { BranchedKStream } from './branched-stream.ts';

export { BranchedKStream, type BranchOptions } from './branched-stream.ts';

/** A record's key and value, for operators that return both. */
export type KeyValuePair<K, V> = readonly [K, V];

/**
 * A record stream. Every operator returns a new stream and records a node in the topology; nothing
 * runs until the topology is started (or driven by the test driver).
 */
export class KStream<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly builder: InternalBuilder,
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
    /** @internal True after a key-changing operator: a later grouping or join repartitions first. */ readonly repartitionRequired: boolean,
  ) {}

  /** @internal The repartition an unnamed join inserted after this stream, which the next unnamed join of it reuses (Kafka Streams' `repartitionNode`). */
  private joinRepartition: KStream<K, V> | undefined;

  /** @internal A child stream of a new processor node. */
  protected derive<K2, V2>(prefix: string, named: Named | undefined, supplier: ProcessorSupplier, keySerde: Serde<K2> | undefined, valueSerde: Serde<V2> | undefined, repartitionRequired: boolean, stores: string[] = []): KStream<K2, V2> {
    const name = this.builder.name(named?.name, prefix);
    this.builder.addProcessor(name, [this.nodeName], supplier, stores);
    return new KStream<K2, V2>(this.builder, name, keySerde, valueSerde, repartitionRequired);
  }

  /** Keeps records for which `predicate` is true. */
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.derive('KSTREAM-FILTER-', named, filterProcessor(predicate, false), this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  /** Keeps records for which `predicate` is false. */
  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.derive('KSTREAM-FILTER-', named, filterProcessor(predicate, true), this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  /** Replaces key and value: `map((k, v) => [k2, v2])`. Marks the stream for repartitioning. */
  map<K2, V2>(mapper: (key: K, value: V) => KeyValuePair<K2, V2>, named?: Named): KStream<K2, V2> {
    return this.derive<K2, V2>('KSTREAM-MAP-', named, mapProcessor(mapper), undefined, undefined, true);
  }

  /** Replaces the value; the key (and partitioning) stays. */
  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KStream<K, V2> {
    return this.derive<K, V2>('KSTREAM-MAPVALUES-', named, mapValuesProcessor(mapper), this.keySerde, undefined, this.repartitionRequired);
  }

  /** Replaces the key. Marks the stream for repartitioning. */
  selectKey<K2>(selector: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    return this.derive<K2, V>('KSTREAM-KEY-SELECT-', named, selectKeyProcessor(selector), undefined, this.valueSerde, true);
  }

  /** Zero or more records per record: `flatMap((k, v) => [[k1, v1], [k2, v2]])`. Marks the stream for repartitioning. */
  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValuePair<K2, V2>>, named?: Named): KStream<K2, V2> {
    return this.derive<K2, V2>('KSTREAM-FLATMAP-', named, flatMapProcessor(mapper), undefined, undefined, true);
  }

  /** Zero or more values per record, with the same key. */
  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>, named?: Named): KStream<K, V2> {
    return this.derive<K, V2>('KSTREAM-FLATMAPVALUES-', named, flatMapValuesProcessor(mapper), this.keySerde, undefined, this.repartitionRequired);
  }

  /** Calls `action` for each record and passes it on unchanged. */
  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.derive('KSTREAM-PEEK-', named, peekProcessor(action), this.keySerde, this.valueSerde, this.repartitionRequired);
  }

  /** Calls `action` for each record; a terminal operation. */
  foreach(action: (key: K, value: V) => void, named?: Named): void {
    this.derive('KSTREAM-FOREACH-', named, foreachProcessor(action), undefined, undefined, false);
  }

  /** Interleaves this stream with `other` in processing order. */
  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    const name = this.builder.name(named?.name, 'KSTREAM-MERGE-');
    this.builder.addProcessor(name, [this.nodeName, other.nodeName], passThroughProcessor());
    return new KStream<K, V>(this.builder, name, this.keySerde ?? other.keySerde, this.valueSerde ?? other.valueSerde, this.repartitionRequired || other.repartitionRequired);
  }

  /** Splits the stream: each record goes to the first branch whose predicate matches. */
  split(named?: Named): BranchedKStream<K, V> {
    return new BranchedKStream<K, V>(this, named?.name ?? '');
  }

  /** Writes to and reads back from an internal topic `<applicationId>-<name>-repartition`. */
  repartition(options: Repartitioned<K, V> = {}): KStream<K, V> {
    const base = options.name ?? this.builder.newName('KSTREAM-REPARTITION-');
    return this.repartitionAs(base, options.keySerde ?? this.keySerde, options.valueSerde ?? this.valueSerde, options.partitions, options);
  }

  /** @internal Sink to and source from `<base>-repartition`. */
  repartitionAs(base: string, keySerde: Serde<K> | undefined, valueSerde: Serde<V> | undefined, partitions?: number, options: Repartitioned<K, V> = {}): KStream<K, V> {
    const topic = `${base}-repartition`;
    const sinkName = this.builder.name(options.name !== undefined ? `${base}-repartition-sink` : undefined, 'KSTREAM-SINK-');
    this.builder.addSink({
      name: sinkName,
      parents: [this.nodeName],
      topic,
      internal: true,
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(valueSerde ? { valueSerde: valueSerde as Serde<unknown> } : {}),
      ...(options.partitioner ? { partitioner: options.partitioner as never } : {}),
      ...(partitions !== undefined ? { partitions } : {}),
    });
    const sourceName = this.builder.name(options.name !== undefined ? `${base}-repartition-source` : undefined, 'KSTREAM-SOURCE-');
    this.builder.addSource({
      name: sourceName,
      topics: [topic],
      internal: true,
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(valueSerde ? { valueSerde: valueSerde as Serde<unknown> } : {}),
    });
    return new KStream<K, V>(this.builder, sourceName, keySerde, valueSerde, false);
  }

  /**
   * @internal The repartition a grouping or a join inserts after a key change: drop null keys, then
   * `<base>-repartition`. As Kafka Streams' `createRepartitionedSource`, it always takes three
   * generated names (sink, filter, source) to keep later names where Kafka has them, and uses them
   * when `base` is itself generated (`KSTREAM-...-0000000007`); a user's base names the nodes
   * `<topic>-filter`, `<topic>-sink` and `<topic>-source`.
   */
  repartitionForGrouping(base: string, keySerde: Serde<K> | undefined, valueSerde: Serde<V> | undefined): KStream<K, V> {
    const topic = base.endsWith('-repartition') ? base : `${base}-repartition`;
    const generated = { sink: this.builder.newName('KSTREAM-SINK-'), filter: this.builder.newName('KSTREAM-FILTER-'), source: this.builder.newName('KSTREAM-SOURCE-') };
    const names = /^KSTREAM.*-[0-9]{10}$/.test(base) ? generated : { sink: `${topic}-sink`, filter: `${topic}-filter`, source: `${topic}-source` };
    const filterName = names.filter;
    this.builder.addProcessor(filterName, [this.nodeName], keepNonNullKeys((key) => key != null, false));
    this.builder.addSink({
      name: names.sink, parents: [filterName], topic, internal: true,
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(valueSerde ? { valueSerde: valueSerde as Serde<unknown> } : {}),
    });
    const sourceName = names.source;
    this.builder.addSource({
      name: sourceName, topics: [topic], internal: true,
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(valueSerde ? { valueSerde: valueSerde as Serde<unknown> } : {}),
    });
    return new KStream<K, V>(this.builder, sourceName, keySerde, valueSerde, false);
  }

  /**
   * @internal The repartition before a join (Kafka Streams' `repartitionForJoin`): named `name`
   * (the join's name, or this node's for an unnamed join); an unnamed join reuses the one an
   * earlier unnamed join of this stream inserted, still taking its three names.
   */
  repartitionForJoin(name: string | undefined, keySerde: Serde<K> | undefined, valueSerde: Serde<V> | undefined): KStream<K, V> {
    if (name === undefined && this.joinRepartition !== undefined) {
      this.builder.skipIndexes(3);
      return this.joinRepartition;
    }
    const repartitioned = this.repartitionForGrouping(name ?? this.nodeName, keySerde, valueSerde);
    if (name === undefined) this.joinRepartition = repartitioned;
    return repartitioned;
  }

  /** Groups by the current key (repartitioning first if an earlier operator changed the key). */
  groupByKey(grouped: Grouped<K, V> = {}): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this, grouped);
  }

  /** Groups by a new key; always repartitions. */
  groupBy<K2>(selector: (key: K, value: V) => K2, grouped: Grouped<K2, V> = {}): KGroupedStream<K2, V> {
    const rekeyed = this.derive<K2, V>('KSTREAM-KEY-SELECT-', undefined, selectKeyProcessor(selector), grouped.keySerde, this.valueSerde, true);
    return new KGroupedStream<K2, V>(rekeyed, grouped);
  }

  /**
   * The stream as a table: the latest value per key; a `null` value deletes the key. Materialized
   * as a versioned store it keeps each key's history, as `builder.table` does.
   */
  toTable(materialized?: Materialized<K, V>): KTable<K, V> {
    const storeName = addTableStore(this.builder, materialized, 'KSTREAM-TOTABLE-STATE-STORE-', this.keySerde, this.valueSerde);
    const name = this.builder.newName('KSTREAM-TOTABLE-');
    const versioned = materialized?.versioned !== undefined;
    const oldValues = OldValues.source(isNamed(materialized));
    this.builder.addProcessor(name, [this.nodeName], versioned ? versionedTableSourceProcessor(storeName, oldValues) : tableSourceProcessor(storeName, oldValues), [storeName]);
    return new KTable<K, V>(this.builder, name, materialized?.keySerde ?? this.keySerde, materialized?.valueSerde ?? this.valueSerde, storeName, versioned ? versionedSource<K, V>(storeName) : undefined, oldValues);
  }

  /**
   * Joins with another stream within `windows`: each pair of records with the same key whose
   * timestamps are at most the window apart gives `joiner(value, otherValue, key)`, at the later
   * of the two timestamps.
   */
  join<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, windows: JoinWindows, options?: StreamJoined<K, V, VO>): KStream<K, VR>;
  /** Joins each record with the table's current value for its key; records whose key is not in the table give nothing. */
  join<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT, key: K) => VR, options?: Joined<K, V, VT>): KStream<K, VR>;
  /** Joins each record with the global table's value for `keySelector(key, value)`; no match gives nothing. */
  join<GK, GV, VR>(globalTable: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK | null | undefined, joiner: (value: V, globalValue: GV, key: K) => VR, named?: Named): KStream<K, VR>;
  join(other: unknown, a: unknown, b?: unknown, c?: unknown): KStream<K, unknown> {
    return streamJoin(this as KStream<K, unknown>, 'inner', other, a, b, c);
  }

  /**
   * Like `join(stream, ...)`, and a record that found no match within its window gives
   * `joiner(value, null, key)` once the window has closed (window end + grace).
   */
  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => VR, windows: JoinWindows, options?: StreamJoined<K, V, VO>): KStream<K, VR>;
  /** Like `join(table, ...)`, and a record whose key is not in the table gives `joiner(value, null, key)`. */
  leftJoin<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT | null, key: K) => VR, options?: Joined<K, V, VT>): KStream<K, VR>;
  /** Like `join(globalTable, ...)`, and a record without a match gives `joiner(value, null, key)`. */
  leftJoin<GK, GV, VR>(globalTable: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK | null | undefined, joiner: (value: V, globalValue: GV | null, key: K) => VR, named?: Named): KStream<K, VR>;
  leftJoin(other: unknown, a: unknown, b?: unknown, c?: unknown): KStream<K, unknown> {
    return streamJoin(this as KStream<K, unknown>, 'left', other, a, b, c);
  }

  /**
   * Like `leftJoin(stream, ...)` in both directions: unmatched records of either side give
   * `joiner(value, null, key)` or `joiner(null, otherValue, key)` once their window has closed.
   */
  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K) => VR, windows: JoinWindows, options?: StreamJoined<K, V, VO>): KStream<K, VR> {
    return streamJoin(this as KStream<K, unknown>, 'outer', other, joiner, windows, options) as KStream<K, VR>;
  }

  /** Writes every record to a topic, or to the topic `extractor(key, value, ctx)` names per record. */
  to(topic: string | TopicNameExtractor<K, V>, produced: Produced<K, V> = {}): void {
    const keySerde = produced.keySerde ?? this.keySerde;
    const valueSerde = produced.valueSerde ?? this.valueSerde;
    this.builder.addSink({
      name: this.builder.name(produced.name, 'KSTREAM-SINK-'),
      parents: [this.nodeName],
      topic: topic as string | TopicNameExtractor,
      internal: false,
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(valueSerde ? { valueSerde: valueSerde as Serde<unknown> } : {}),
      ...(produced.partitioner ? { partitioner: produced.partitioner as never } : {}),
    });
  }

  /** Runs a custom processor (Processor API) with access to the named stores. Marks the stream for repartitioning. */
  process<KOut = K, VOut = V>(supplier: ProcessorSupplier<K, V, KOut, VOut>, ...storeNames: string[]): KStream<KOut, VOut> {
    return this.derive<KOut, VOut>('KSTREAM-PROCESSOR-', undefined, supplier as ProcessorSupplier, undefined, undefined, true, storeNames);
  }

  /**
   * Runs a fixed-key processor (Kafka Streams' `processValues`): like `process`, but the processor
   * forwards `record.withValue(v)` and cannot change the key, so the stream is not marked for
   * repartitioning and keeps its key serde.
   */
  processValues<VOut = V>(supplier: FixedKeyProcessorSupplier<K, V, VOut>, ...storeNames: string[]): KStream<K, VOut> {
    return this.derive<K, VOut>('KSTREAM-PROCESSVALUES-', undefined, fixedKeyProcessor(supplier), this.keySerde, undefined, this.repartitionRequired, storeNames);
  }

  /**
   * Prints every record, `[label]: key, value` per line, to standard output or a file (Kafka
   * Streams' `print(Printed)`): `print(Printed.toSysOut().withLabel('orders'))`, or `print({ label })`
   * for standard output. The label defaults to the node's name. A terminal operation.
   */
  print(printed: Printed<K, V> | PrintOptions<K, V> = Printed.toSysOut<K, V>()): void {
    const options = printed instanceof Printed ? printed : undefined;
    const plain = printed instanceof Printed ? undefined : printed;
    const name = this.builder.name(options?.name ?? plain?.name, 'KSTREAM-PRINTER-');
    const base = options ?? Printed.toSysOut<K, V>();
    const mapper = plain?.mapper ?? base.mapper;
    this.builder.addProcessor(name, [this.nodeName], printProcessor(base.target, options?.label ?? plain?.label ?? name, mapper));
  }

  /** Scores each value with a model, in micro-batches; by default the value gains a `prediction` field. */
  predict<Out, R = V & { prediction: Prediction<Out> }>(model: Model<V, Out>, options: PredictOptions<V, Out, R> = {}, named?: Named): KStream<K, R> {
    return this.derive<K, R>('KSTREAM-PREDICT-', named, predictProcessor<K, V, Out, R>(model, options), this.keySerde, undefined, this.repartitionRequired);
  }

  /** The records of this stream as an RxJS observable (from every task that runs the topology). */
  toObservable(): Observable<StreamRecord<K, V>> {
    const subject = new Subject<StreamRecord<K, V>>();
    this.derive('KSTREAM-OBSERVE-', undefined, observeProcessor(subject), undefined, undefined, false);
    return subject.asObservable();
  }
}

/** Options of `print` to standard output (or pass a `Printed`). */
export interface PrintOptions<K, V> extends Named {
  /** Starts each line with `[label]: ` (default: the node's name). */
  label?: string;
  /** Formats a record (default `${key}, ${value}`). */
  mapper?: (key: K, value: V) => string;
}
