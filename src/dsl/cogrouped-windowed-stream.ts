import { sessionAggregateProcessor } from '../processors/session-aggregate.ts';
import type { Serde } from '../serdes/serde.ts';
import { Serdes, type Windowed } from '../serdes/serdes.ts';
import { buildCogroup, cogroupKeySerde, namedAndMaterialized, type CogroupInputs } from './cogrouped-stream.ts';
import { KTable } from './ktable.ts';
import type { Materialized, Named } from './options.ts';
import { addTimeWindowStore, timeWindowedSupplier, windowRetention, type TimeWindowSpec } from './time-windowed-stream.ts';
import type { SessionWindows } from './windows.ts';

function builderOf<K, VOut>(inputs: CogroupInputs<K, VOut>) {
  return [...inputs.keys()][0]!.stream.builder;
}

function windowedKeySerde<K, VOut>(inputs: CogroupInputs<K, VOut>, keySerde: Serde<K> | undefined): Serde<Windowed<K>> | undefined {
  const inner = keySerde ?? (builderOf(inputs).defaults.keySerde as Serde<K> | null) ?? undefined;
  return inner ? Serdes.windowed(inner) : undefined;
}

/**
 * A cogroup cut into time windows (`TimeWindows`, `SlidingWindows` or `UnlimitedWindows`): Kafka
 * Streams' `TimeWindowedCogroupedKStream`. Results are emitted on every update (cogroups have no
 * other emit strategy, as in Kafka Streams) into a `KTable<Windowed<K>, VOut>`.
 */
export class TimeWindowedCogroupedKStream<K, VOut> {
  /** @internal */
  constructor(private readonly inputs: CogroupInputs<K, VOut>, private readonly windows: TimeWindowSpec) {}

  /** Aggregates every input per key and window, each window starting from `initializer()`. */
  aggregate(initializer: () => VOut, materialized?: Materialized<K, VOut>): KTable<Windowed<K>, VOut>;
  aggregate(initializer: () => VOut, named: Named, materialized?: Materialized<K, VOut>): KTable<Windowed<K>, VOut>;
  aggregate(initializer: () => VOut, namedOrMaterialized?: Named | Materialized<K, VOut>, materializedArg?: Materialized<K, VOut>): KTable<Windowed<K>, VOut> {
    if (typeof initializer !== 'function') throw new TypeError('aggregate needs an initializer function');
    const { named, materialized } = namedAndMaterialized<Materialized<K, VOut>>(namedOrMaterialized, materializedArg);
    const builder = builderOf(this.inputs);
    const storeName = materialized?.storeName ?? builder.newName('COGROUPKSTREAM-AGGREGATE-STATE-STORE-');
    const keySerde = cogroupKeySerde(this.inputs, materialized);
    addTimeWindowStore(builder, storeName, this.windows, 'onWindowUpdate', materialized, keySerde);
    const grace = this.windows.gracePeriodMs();
    const mergeName = buildCogroup(
      this.inputs, storeName, named,
      (aggregator) => timeWindowedSupplier<K, unknown, VOut>(storeName, this.windows, 'onWindowUpdate', initializer, aggregator, false, false),
      (name) => builder.windowCloseDelays.set(name, grace),
    );
    return new KTable<Windowed<K>, VOut>(builder, mergeName, windowedKeySerde(this.inputs, keySerde), materialized?.valueSerde, storeName);
  }
}

/**
 * A cogroup cut into sessions (`SessionWindows`): Kafka Streams' `SessionWindowedCogroupedKStream`.
 * When a record joins sessions, `merger` combines their aggregates; merged-away sessions become
 * tombstones, as in `windowedBy(SessionWindows).aggregate`.
 */
export class SessionWindowedCogroupedKStream<K, VOut> {
  /** @internal */
  constructor(private readonly inputs: CogroupInputs<K, VOut>, private readonly windows: SessionWindows) {}

  /** Aggregates every input per key and session, from `initializer()`; `merger` combines two sessions a record joins. */
  aggregate(initializer: () => VOut, merger: (key: K, aggregate1: VOut, aggregate2: VOut) => VOut, materialized?: Materialized<K, VOut>): KTable<Windowed<K>, VOut>;
  aggregate(initializer: () => VOut, merger: (key: K, aggregate1: VOut, aggregate2: VOut) => VOut, named: Named, materialized?: Materialized<K, VOut>): KTable<Windowed<K>, VOut>;
  aggregate(
    initializer: () => VOut,
    merger: (key: K, aggregate1: VOut, aggregate2: VOut) => VOut,
    namedOrMaterialized?: Named | Materialized<K, VOut>,
    materializedArg?: Materialized<K, VOut>,
  ): KTable<Windowed<K>, VOut> {
    if (typeof initializer !== 'function') throw new TypeError('aggregate needs an initializer function');
    if (typeof merger !== 'function') throw new TypeError('a session aggregate needs a merger function');
    const { named, materialized } = namedAndMaterialized<Materialized<K, VOut>>(namedOrMaterialized, materializedArg);
    const builder = builderOf(this.inputs);
    const storeName = materialized?.storeName ?? builder.newName('COGROUPKSTREAM-AGGREGATE-STATE-STORE-');
    const keySerde = cogroupKeySerde(this.inputs, materialized);
    const { inactivityGapMs, graceMs } = this.windows;
    builder.addStore({
      name: storeName,
      type: 'session',
      // As windowedBy(SessionWindows): a session ending exactly at streamTime - gap - grace is still open.
      retentionMs: windowRetention(materialized as Materialized<unknown, unknown> | undefined, inactivityGapMs + graceMs + 1, storeName),
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(materialized?.valueSerde ? { valueSerde: materialized.valueSerde as Serde<unknown> } : {}),
    });
    const mergeName = buildCogroup(
      this.inputs, storeName, named,
      (aggregator) => sessionAggregateProcessor<K, unknown, VOut>({ storeName, inactivityGapMs, graceMs, emit: 'onWindowUpdate', initializer, aggregator, merger }),
      (name) => builder.windowCloseDelays.set(name, graceMs + inactivityGapMs),
    );
    return new KTable<Windowed<K>, VOut>(builder, mergeName, windowedKeySerde(this.inputs, keySerde), materialized?.valueSerde, storeName);
  }
}
