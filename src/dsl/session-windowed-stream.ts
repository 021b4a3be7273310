import { sessionAggregateProcessor } from '../processors/session-aggregate.ts';
import type { Serde } from '../serdes/serde.ts';
import { Serdes, type Windowed } from '../serdes/serdes.ts';
import type { KGroupedStream } from './kgrouped-stream.ts';
import { KTable } from './ktable.ts';
import type { Materialized } from './options.ts';
import { windowedInput, windowRetention } from './time-windowed-stream.ts';
import type { EmitStrategy, SessionWindows } from './windows.ts';

/**
 * A grouped stream cut into sessions of activity (`SessionWindows`), ready to aggregate. Each
 * result is a `KTable<Windowed<K>, V>` keyed by `[start, end]` (both inclusive) with the key serde
 * `Serdes.windowed(keySerde)`. When a record joins two sessions, the merged-away sessions are
 * updated to tombstones.
 *
 * ```ts
 * clicks.groupByKey().windowedBy(SessionWindows.ofInactivityGapWithNoGrace('30m')).count();
 * ```
 */
export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly grouped: KGroupedStream<K, V>,
    private readonly windows: SessionWindows,
    private readonly emit: EmitStrategy = 'onWindowUpdate',
  ) {}

  /**
   * When results are forwarded: `'onWindowUpdate'` (default) on every update (tombstones for merged
   * sessions included), or `'onWindowClose'`: once per session when it closes (end + gap + grace).
   */
  emitStrategy(strategy: EmitStrategy): SessionWindowedKStream<K, V> {
    if (strategy !== 'onWindowUpdate' && strategy !== 'onWindowClose') throw new TypeError(`unknown emit strategy '${String(strategy)}': use 'onWindowUpdate' or 'onWindowClose'`);
    return new SessionWindowedKStream(this.grouped, this.windows, strategy);
  }

  /** Counts the records of each session (records with a `null` key are dropped). */
  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    // Kafka Streams' count(Materialized) takes one name more when the store is unnamed ("for compatibility"); so do we.
    if (materialized !== undefined && materialized.storeName === undefined) this.grouped.stream.builder.skipIndexes(1);
    return this.build(() => 0, (_k, _v, n: number) => n + 1, (_k, a, b) => a + b, { valueSerde: Serdes.int64(), ...materialized }, false);
  }

  /** Combines the values of each session; merging two sessions combines their aggregates with `reducer` too. */
  reduce(reducer: (aggregate: V, value: V, key: K) => V, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    const valueSerde = materialized?.valueSerde ?? this.grouped.grouped.valueSerde ?? this.grouped.stream.valueSerde;
    const table = this.build<V | undefined>(
      () => undefined,
      (key, value, aggregate) => (aggregate === undefined ? value : reducer(aggregate, value, key)),
      (key, a, b) => (a === undefined ? b : b === undefined ? a : reducer(a, b, key)),
      { ...materialized, ...(valueSerde ? { valueSerde } : {}) } as Materialized<K, V | undefined>,
      true,
      'KSTREAM-REDUCE-',
    );
    return table as KTable<Windowed<K>, V>;
  }

  /** Aggregates each session from `initializer()`; `merger` combines the aggregates of two sessions a record joins. */
  aggregate<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    merger: (key: K, aggregate1: A, aggregate2: A) => A,
    materialized?: Materialized<K, A>,
  ): KTable<Windowed<K>, A> {
    return this.build(initializer, aggregator, merger, materialized, false);
  }

  private build<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    merger: (key: K, aggregate1: A, aggregate2: A) => A,
    materialized: Materialized<K, A> | undefined,
    dropNullValues: boolean,
    /** The store's and processor's, `KSTREAM-REDUCE-` for reduce, as Kafka Streams names them. */
    prefix = 'KSTREAM-AGGREGATE-',
  ): KTable<Windowed<K>, A> {
    const builder = this.grouped.stream.builder;
    const storeName = materialized?.storeName ?? builder.newName(`${prefix}STATE-STORE-`);
    const name = builder.newName(prefix); // before the repartition, as Kafka Streams names them
    const { input, keySerde, windowedKeySerde } = windowedInput(this.grouped, storeName, materialized);
    const { inactivityGapMs, graceMs } = this.windows;
    builder.addStore({
      name: storeName,
      type: 'session',
      // A session ending exactly at streamTime - gap - grace is still open (it can grow and is not yet
      // emitted on close), so the store keeps sessions 1 ms past gap + grace.
      retentionMs: windowRetention(materialized as Materialized<unknown, unknown> | undefined, inactivityGapMs + graceMs + 1, storeName),
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(materialized?.valueSerde ? { valueSerde: materialized.valueSerde as Serde<unknown> } : {}),
    });
    builder.addProcessor(name, [input.nodeName], sessionAggregateProcessor<K, V, A>({
      storeName, inactivityGapMs, graceMs, emit: this.emit, initializer, aggregator, merger, dropNullValues,
    }), [storeName]);
    builder.windowCloseDelays.set(name, graceMs + inactivityGapMs);
    return new KTable<Windowed<K>, A>(builder, name, windowedKeySerde, materialized?.valueSerde, storeName);
  }
}
