import { suppressProcessor } from '../processors/suppress.ts';
import type { Serde } from '../serdes/serde.ts';
import { suppressBufferSerde } from '../serdes/suppress-buffer.ts';
import { TopologyError } from '../topology/errors.ts';
import { toMillis, type Duration } from '../util/duration.ts';
import type { InternalBuilder } from './internal-builder.ts';
import { KTable } from './ktable.ts';

/** Options of `Suppressed.untilWindowCloses`. */
export interface UntilWindowClosesOptions {
  /** The most windows the buffer holds; past it the task fails (final results cannot be emitted early). Default: unbounded. */
  maxRecords?: number;
  /** Names the operator; its buffer store is `<name>-store`. */
  name?: string;
}

/** Options of `Suppressed.untilTimeLimit`. */
export interface UntilTimeLimitOptions {
  /** The most keys the buffer holds. Default: unbounded. */
  maxRecords?: number;
  /** When the buffer is full, emit its earliest keys early (default `true`); `false` fails the task instead. */
  emitEarlyWhenFull?: boolean;
  /** Names the operator; its buffer store is `<name>-store`. */
  name?: string;
}

/**
 * How `KTable.suppress` holds back updates. `untilWindowCloses()` gives one final result per window
 * of a windowed table, when the window closes (end + grace; for sessions end + gap + grace), in
 * window-end order, and drops tombstones. `untilTimeLimit(d)` forwards each key's latest value `d`
 * after the key's first buffered update (rate limiting); tombstones are forwarded.
 *
 * ```ts
 * counts.suppress(Suppressed.untilWindowCloses()).toStream().to('final-counts');
 * table.suppress(Suppressed.untilTimeLimit('5s', { maxRecords: 10_000 }));
 * ```
 */
export class Suppressed {
  private constructor(
    /** Which kind of suppression. */ readonly kind: 'untilWindowCloses' | 'untilTimeLimit',
    /** untilTimeLimit: how long a key waits for more updates, in ms. */ readonly timeLimitMs: number,
    /** The most keys the buffer holds. */ readonly maxRecords: number,
    /** What a full buffer does. */ readonly whenFull: 'emit-early' | 'shut-down',
    /** The operator's name, if given. */ readonly name: string | undefined,
  ) {}

  /** One final result per window, once the window has closed; windowed tables only. */
  static untilWindowCloses(options: UntilWindowClosesOptions = {}): Suppressed {
    return new Suppressed('untilWindowCloses', 0, maxRecordsOf(options.maxRecords), 'shut-down', options.name);
  }

  /** Each key's latest value, `timeToWaitForMoreEvents` after its first buffered update (0: at once). */
  static untilTimeLimit(timeToWaitForMoreEvents: Duration, options: UntilTimeLimitOptions = {}): Suppressed {
    const whenFull = options.emitEarlyWhenFull === false ? 'shut-down' : 'emit-early';
    return new Suppressed('untilTimeLimit', toMillis(timeToWaitForMoreEvents, 'suppression time limit'), maxRecordsOf(options.maxRecords), whenFull, options.name);
  }
}

function maxRecordsOf(maxRecords: number | undefined): number {
  if (maxRecords === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxRecords) || maxRecords < 0) throw new RangeError(`maxRecords must be a non-negative integer, got ${maxRecords}`);
  return maxRecords;
}

/** The close delay (grace, or gap + grace) of the windowed aggregation upstream of `nodeName`, if any. */
function upstreamWindowCloseDelay(builder: InternalBuilder, nodeName: string): number | undefined {
  const seen = new Set<string>();
  const queue = [nodeName];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const delay = builder.windowCloseDelays.get(name);
    if (delay !== undefined) return delay;
    const node = builder.nodes.find((n) => n.name === name);
    if (node && node.kind !== 'source') queue.push(...node.parents);
  }
  return undefined;
}

/** @internal `KTable.suppress`: a processor with its buffer store after the table's node. */
export function suppressTable<K, V>(table: KTable<K, V>, suppressed: Suppressed): KTable<K, V> {
  const builder = table.builder;
  if (table.versionedReadThrough !== undefined) {
    // Kafka Streams' InternalStreamsBuilder refuses it too: a versioned table's out-of-order updates cannot be buffered as latest values.
    throw new TopologyError('suppress() is only supported for non-versioned KTables (note that version semantics might be inherited from upstream): suppress the table it derives from, or materialize the derived table without a versioned store');
  }
  let waitMs = suppressed.timeLimitMs;
  if (suppressed.kind === 'untilWindowCloses') {
    const delay = upstreamWindowCloseDelay(builder, table.nodeName);
    if (delay === undefined) {
      throw new TopologyError('suppress(Suppressed.untilWindowCloses()) needs a windowed table (groupByKey().windowedBy(...).count() and the like): for other tables use Suppressed.untilTimeLimit(...)');
    }
    waitMs = delay;
  }
  const name = builder.name(suppressed.name, 'KTABLE-SUPPRESS-');
  const storeName = suppressed.name !== undefined ? `${suppressed.name}-store` : builder.newName('KTABLE-SUPPRESS-STATE-STORE-');
  const keySerde = table.keySerde ?? (builder.defaults.keySerde as Serde<K> | null) ?? undefined;
  const valueSerde = table.valueSerde ?? (builder.defaults.valueSerde as Serde<V> | null) ?? undefined;
  builder.addStore({
    name: storeName,
    type: 'key-value',
    ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
    ...(valueSerde ? { valueSerde: suppressBufferSerde(valueSerde) as Serde<unknown> } : {}),
  });
  // The buffer keeps each key's prior value to forward with the result (KTableSuppressProcessorSupplier asks for it).
  table.oldValues.enable(true);
  builder.addProcessor(name, [table.nodeName], suppressProcessor<K, V>({
    bufferStoreName: storeName,
    waitMs,
    bufferTime: suppressed.kind === 'untilWindowCloses' ? 'window-end' : 'record-time',
    dropTombstones: suppressed.kind === 'untilWindowCloses',
    maxRecords: suppressed.maxRecords,
    whenFull: suppressed.whenFull,
  }), [storeName]);
  return new KTable<K, V>(builder, name, table.keySerde, table.valueSerde, table.storeName);
}
