import { reduceAggregator } from '../processors/aggregate.ts';
import type { ProcessorSupplier } from '../processors/api.ts';
import { slidingWindowAggregateProcessor } from '../processors/sliding-aggregate.ts';
import { timeWindowAggregateProcessor } from '../processors/windowed-aggregate.ts';
import type { Serde } from '../serdes/serde.ts';
import { Serdes, type Windowed } from '../serdes/serdes.ts';
import { TopologyError } from '../topology/errors.ts';
import { toMillis } from '../util/duration.ts';
import type { KGroupedStream } from './kgrouped-stream.ts';
import type { KStream } from './kstream.ts';
import { KTable } from './ktable.ts';
import type { Materialized } from './options.ts';
import { SlidingWindows, UnlimitedWindows, type EmitStrategy, type TimeWindows } from './windows.ts';
import type { InternalBuilder } from './internal-builder.ts';

/** @internal What a windowed aggregation needs of its grouped stream: the (repartitioned) input and its key serdes. */
export interface WindowedInput<K, V> {
  input: KStream<K, V>;
  keySerde: Serde<K> | undefined;
  valueSerde: Serde<V> | undefined;
  windowedKeySerde: Serde<Windowed<K>> | undefined;
}

/** @internal Resolves the input stream and serdes of a windowed aggregation storing into `storeName`. */
export function windowedInput<K, V>(grouped: KGroupedStream<K, V>, storeName: string, materialized: Materialized<K, unknown> | undefined): WindowedInput<K, V> {
  const input = grouped.source(storeName);
  const keySerde = materialized?.keySerde ?? grouped.grouped.keySerde ?? input.keySerde;
  const inner = keySerde ?? (grouped.stream.builder.defaults.keySerde as Serde<K> | null) ?? undefined;
  return {
    input,
    keySerde,
    valueSerde: grouped.grouped.valueSerde ?? grouped.stream.valueSerde,
    windowedKeySerde: inner ? Serdes.windowed(inner) : undefined,
  };
}

/**
 * @internal The store retention: `materialized.retention` if given (at least `minimum`), else
 * `minimum`. A windowed aggregation's store is a window or session store, never a versioned one
 * (Kafka Streams' `Materialized<K, V, WindowStore>` cannot take a versioned supplier).
 */
export function windowRetention(materialized: Materialized<unknown, unknown> | undefined, minimum: number, storeName: string): number {
  if (materialized?.versioned) {
    throw new TopologyError(`store '${storeName}': a windowed aggregation is kept in a window or session store, which cannot be versioned (versioned stores are key-value stores, as in Kafka Streams); materialize it without 'versioned'`);
  }
  if (materialized?.retention === undefined) return minimum;
  const retention = toMillis(materialized.retention, `retention of store '${storeName}'`);
  if (retention < minimum) {
    throw new TopologyError(`store '${storeName}': retention ${retention} ms is shorter than the windows need (${minimum} ms): windows would be dropped before they close`);
  }
  return retention;
}

/**
 * A grouped stream cut into time windows (`TimeWindows`: tumbling or hopping; `SlidingWindows`),
 * ready to aggregate. Each result is a `KTable<Windowed<K>, V>` whose key serde is
 * `Serdes.windowed(keySerde)`, so `.toStream().to(topic)` needs no serdes.
 *
 * ```ts
 * clicks.groupByKey().windowedBy(TimeWindows.ofSizeAndGrace('1m', '10s')).count({ storeName: 'clicks-per-minute' });
 * ```
 */
export class TimeWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: TimeWindowSpec,
    private readonly emit: EmitStrategy = 'onWindowUpdate',
  ) {}

  /**
   * When results are forwarded: `'onWindowUpdate'` (default) on every update, or `'onWindowClose'`:
   * once per window when it closes (end + grace), without tombstones.
   */
  emitStrategy(strategy: EmitStrategy): TimeWindowedKStream<K, V> {
    if (strategy !== 'onWindowUpdate' && strategy !== 'onWindowClose') throw new TypeError(`unknown emit strategy '${String(strategy)}': use 'onWindowUpdate' or 'onWindowClose'`);
    return new TimeWindowedKStream(this.grouped, this.windows, strategy);
  }

  /** Counts the records of each key in each window (records with a `null` key are dropped). */
  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    // Kafka Streams' TimeWindowedKStream.count(Materialized) takes one name more when the store is unnamed ("for compatibility"); its sliding windows do not.
    if (materialized !== undefined && materialized.storeName === undefined && !(this.windows instanceof SlidingWindows)) this.grouped.stream.builder.skipIndexes(1);
    return this.build(() => 0, (_k, _v, n: number) => n + 1, { valueSerde: Serdes.int64(), ...materialized }, false);
  }

  /** Combines the values of each key in each window; the first value is the initial aggregate. */
  reduce(reducer: (aggregate: V, value: V, key: K) => V, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    const valueSerde = materialized?.valueSerde ?? this.grouped.grouped.valueSerde ?? this.grouped.stream.valueSerde;
    const table = this.build<V | undefined>(() => undefined, reduceAggregator(reducer), { ...materialized, ...(valueSerde ? { valueSerde } : {}) } as Materialized<K, V | undefined>, true, 'KSTREAM-REDUCE-');
    return table as KTable<Windowed<K>, V>;
  }

  /** Aggregates the values of each key in each window, starting from `initializer()`. */
  aggregate<A>(initializer: () => A, aggregator: (key: K, value: V, aggregate: A) => A, materialized?: Materialized<K, A>): KTable<Windowed<K>, A> {
    return this.build(initializer, aggregator, materialized, false);
  }

  /** `prefix`: the store's and processor's, `KSTREAM-REDUCE-` for reduce, as Kafka Streams names them. */
  private build<A>(initializer: () => A, aggregator: (key: K, value: V, aggregate: A) => A, materialized: Materialized<K, A> | undefined, dropNullValues: boolean, prefix = 'KSTREAM-AGGREGATE-'): KTable<Windowed<K>, A> {
    const builder = this.grouped.stream.builder;
    const storeName = materialized?.storeName ?? builder.newName(`${prefix}STATE-STORE-`);
    const name = builder.newName(prefix); // before the repartition, as Kafka Streams names them
    const { input, keySerde, windowedKeySerde } = windowedInput(this.grouped, storeName, materialized);
    addTimeWindowStore(builder, storeName, this.windows, this.emit, materialized, keySerde);
    builder.addProcessor(name, [input.nodeName], timeWindowedSupplier<K, V, A>(storeName, this.windows, this.emit, initializer, aggregator, dropNullValues, true), [storeName]);
    builder.windowCloseDelays.set(name, this.windows.gracePeriodMs());
    return new KTable<Windowed<K>, A>(builder, name, windowedKeySerde, materialized?.valueSerde, storeName);
  }
}

/** The windows a `TimeWindowedKStream` (and a time-windowed cogroup) can aggregate over. */
export type TimeWindowSpec = TimeWindows | SlidingWindows | UnlimitedWindows;

/** @internal Adds the window store of a time, sliding or unlimited windowed aggregation. */
export function addTimeWindowStore<K>(builder: InternalBuilder, storeName: string, windows: TimeWindowSpec, emit: EmitStrategy, materialized: Materialized<K, unknown> | undefined, keySerde: Serde<K> | undefined): void {
  let windowSizeMs: number;
  let minimumRetention: number;
  if (windows instanceof SlidingWindows) {
    windowSizeMs = windows.timeDifferenceMs;
    // On close, a window ending exactly at the last close time is emitted one record later: keep it 1 ms longer.
    minimumRetention = 2 * windows.timeDifferenceMs + windows.graceMs + (emit === 'onWindowClose' ? 1 : 0);
  } else if (windows instanceof UnlimitedWindows) {
    windowSizeMs = windows.sizeMs;
    minimumRetention = Number.MAX_SAFE_INTEGER;
  } else {
    windowSizeMs = windows.sizeMs;
    minimumRetention = windows.sizeMs + windows.graceMs;
  }
  builder.addStore({
    name: storeName,
    type: 'window',
    timestamped: true,
    retentionMs: windowRetention(materialized as Materialized<unknown, unknown> | undefined, minimumRetention, storeName),
    windowSizeMs,
    ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
    ...(materialized?.valueSerde ? { valueSerde: materialized.valueSerde as Serde<unknown> } : {}),
  });
}

/** @internal The processor of a time, sliding or unlimited windowed aggregation into `storeName`. */
export function timeWindowedSupplier<K, V, A>(
  storeName: string,
  windows: TimeWindowSpec,
  emit: EmitStrategy,
  initializer: () => A,
  aggregator: (key: K, value: V, aggregate: A) => A,
  dropNullValues: boolean,
  cached: boolean,
): ProcessorSupplier {
  if (windows instanceof SlidingWindows) {
    return slidingWindowAggregateProcessor<K, V, A>({ storeName, timeDifferenceMs: windows.timeDifferenceMs, graceMs: windows.graceMs, emit, initializer, aggregator });
  }
  if (windows instanceof UnlimitedWindows) {
    return timeWindowAggregateProcessor<K, V, A>({
      storeName, sizeMs: windows.sizeMs, advanceMs: windows.sizeMs, graceMs: 0, emit, initializer, aggregator, dropNullValues, cached,
      windowStarts: (timestamp) => windows.windowStartsFor(timestamp),
    });
  }
  return timeWindowAggregateProcessor<K, V, A>({
    storeName, sizeMs: windows.sizeMs, advanceMs: windows.advanceMs, graceMs: windows.graceMs, emit, initializer, aggregator, dropNullValues, cached,
  });
}
