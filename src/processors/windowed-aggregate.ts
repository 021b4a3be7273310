import type { Window, Windowed } from '../serdes/serdes.ts';
import type { ValueAndTimestamp, WindowStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change } from './change.ts';

/** When a windowed aggregation forwards results: on every update, or once per window when it closes. */
export type WindowEmit = 'onWindowUpdate' | 'onWindowClose';

/** The settings of a time-window (tumbling or hopping) aggregation. */
export interface TimeWindowAggregateConfig<K, V, A> {
  storeName: string;
  sizeMs: number;
  advanceMs: number;
  graceMs: number;
  emit: WindowEmit;
  initializer: () => A;
  aggregator: (key: K, value: V, aggregate: A) => A;
  /** Drop records with a `null` value too (reduce); otherwise only a `null` key drops a record. */
  dropNullValues?: boolean;
  /** Forward updates through the record cache (default true; false when a cogroup's merge node caches for all its inputs). */
  cached?: boolean;
  /** The starts of the windows of a record at `timestamp`, instead of the hopping windows of `sizeMs` and `advanceMs` (`UnlimitedWindows`). */
  windowStarts?: (timestamp: number) => readonly number[];
}

/**
 * The starts of the time windows of size `sizeMs`, advancing by `advanceMs` and aligned to 0, that
 * contain `timestamp`, ascending: from `floor(max(0, t - size + advance) / advance) * advance` while `start <= t`.
 */
export function timeWindowsFor(timestamp: number, sizeMs: number, advanceMs: number): number[] {
  const starts: number[] = [];
  for (let start = Math.floor(Math.max(0, timestamp - sizeMs + advanceMs) / advanceMs) * advanceMs; start <= timestamp; start += advanceMs) starts.push(start);
  return starts;
}

/**
 * The aggregation behind `windowedBy(TimeWindows).count/reduce/aggregate`. For each window of the
 * record, the window is updated iff `end > observedStreamTime - grace` (the operator's own stream
 * time, whatever the key); other windows are skipped and counted as dropped. A window's timestamp
 * is the largest record timestamp in it. On update it forwards `Change(new, old)` keyed by
 * `Windowed<K>`; on close it forwards each window once, when `end <= streamTime - grace`, by
 * start then key, and only when a record moves the close time (before the record's own update, so
 * that a jump in stream time cannot expire a window from the store before it was emitted).
 */
export function timeWindowAggregateProcessor<K, V, A>(config: TimeWindowAggregateConfig<K, V, A>): ProcessorSupplier {
  const { storeName, sizeMs, advanceMs, graceMs, initializer, aggregator } = config;
  const emitOnUpdate = config.emit === 'onWindowUpdate';
  const cached = config.cached !== false;
  const windowStarts = config.windowStarts ?? ((timestamp: number) => timeWindowsFor(timestamp, sizeMs, advanceMs));
  return () => {
    let ctx: ProcessorContext;
    let store: WindowStore<K, ValueAndTimestamp<A>>;
    let observedStreamTime = -1;
    let lastEmitCloseTime = -1;
    // Records of one window share its (read-only) window object: one allocation less per update.
    let window: Window = { start: -1, end: -1 };

    const update = (record: StreamRecord<K, V>, start: number): void => {
      const key = record.key;
      const old = store.fetch(key, start);
      const timestamp = old === undefined ? record.timestamp : Math.max(record.timestamp, old.timestamp);
      const next = aggregator(key, record.value, old === undefined ? initializer() : old.value);
      store.put(key, { value: next, timestamp }, start);
      if (emitOnUpdate) {
        if (window.start !== start) window = { start, end: start + sizeMs };
        const windowed: Windowed<K> = { key, window };
        const updated = { key: windowed, value: change(next, old === undefined ? null : old.value), timestamp };
        if (cached) ctx.forwardCached(updated);
        else ctx.forward(updated);
      }
    };

    const emitClosed = (closeTime: number): void => {
      if (lastEmitCloseTime !== -1 && lastEmitCloseTime >= closeTime) return;
      const upper = closeTime - sizeMs;
      if (upper < 0) return;
      const lower = lastEmitCloseTime === -1 ? 0 : Math.max(0, lastEmitCloseTime - sizeMs) + 1;
      if (upper >= lower) {
        for (const { key, value } of store.fetchAll(lower, upper)) {
          const windowed: Windowed<K> = { key: key.key, window: { start: key.window.start, end: key.window.start + sizeMs } };
          ctx.forward({ key: windowed, value: change(value.value, null), timestamp: value.timestamp });
        }
      }
      lastEmitCloseTime = closeTime;
    };

    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(storeName);
      },
      process(record: StreamRecord<K, V>) {
        if (record.key == null || (config.dropNullValues && record.value == null)) {
          ctx.recordDropped(record.key == null ? 'null key' : 'null value');
          return;
        }
        const ts = record.timestamp;
        if (ts > observedStreamTime) observedStreamTime = ts;
        const closeTime = observedStreamTime - graceMs;
        if (!emitOnUpdate) emitClosed(closeTime);
        if (advanceMs === sizeMs && config.windowStarts === undefined) {
          const start = ts - (ts % sizeMs);
          if (start + sizeMs > closeTime) update(record, start);
          else ctx.recordDropped('expired window');
        } else {
          for (const start of windowStarts(ts)) {
            if (start + sizeMs > closeTime) update(record, start);
            else ctx.recordDropped('expired window');
          }
        }
      },
    };
  };
}
