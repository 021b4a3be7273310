import type { Windowed } from '../serdes/serdes.ts';
import type { KeyValue, ValueAndTimestamp, WindowStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change } from './change.ts';
import type { WindowEmit } from './windowed-aggregate.ts';

/** The settings of a sliding-window aggregation. */
export interface SlidingWindowAggregateConfig<K, V, A> {
  storeName: string;
  timeDifferenceMs: number;
  graceMs: number;
  emit: WindowEmit;
  initializer: () => A;
  aggregator: (key: K, value: V, aggregate: A) => A;
}

type Stored<A> = ValueAndTimestamp<A>;

/**
 * The aggregation behind `windowedBy(SlidingWindows).count/reduce/aggregate`, as Kafka Streams'
 * `KStreamSlidingWindowAggregate` does it. Windows are `[start, start + d]`, both ends inclusive
 * and only ever non-empty: a record at `t` updates every existing window that contains it, creates
 * its left window `[t - d, t]`, the right window `[t + 1, t + 1 + d]` when later records fall into
 * it, and the right window of the previous record when `t` falls into that one. Records with a
 * `null` key or value are dropped; a record is dropped whole when `t + d < streamTime - grace`, and
 * a single window is skipped (and counted) when `end < streamTime - grace`. Records before `d` share
 * the window `[0, d]`. On close it forwards each window once, when `end < streamTime - grace`.
 */
export function slidingWindowAggregateProcessor<K, V, A>(config: SlidingWindowAggregateConfig<K, V, A>): ProcessorSupplier {
  const { storeName, timeDifferenceMs: d, graceMs, initializer, aggregator } = config;
  const emitOnUpdate = config.emit === 'onWindowUpdate';
  return () => {
    let ctx: ProcessorContext;
    let store: WindowStore<K, Stored<A>>;
    let observedStreamTime = -1;
    let lastEmitCloseTime = -1;

    const windowed = (key: K, start: number): Windowed<K> => ({ key, window: { start, end: start + d } });

    /** Adds the record to the window at `start` (`current` is its aggregate so far; `existed` whether it is stored). */
    const updateWindow = (record: StreamRecord<K, V>, start: number, current: Stored<A>, existed: boolean, closeTime: number): void => {
      if (start + d < closeTime) {
        ctx.recordDropped('expired window');
        return;
      }
      const ts = record.timestamp;
      const oldAgg = current.value;
      const next = aggregator(record.key, record.value, oldAgg);
      const timestamp = oldAgg == null ? ts : Math.max(ts, current.timestamp);
      store.put(record.key, { value: next, timestamp }, start);
      if (emitOnUpdate) ctx.forward({ key: windowed(record.key, start), value: change(next, existed ? oldAgg : null), timestamp });
    };

    const createCurrentRightWindow = (record: StreamRecord<K, V>, rightAgg: Stored<A>): void => {
      const start = record.timestamp + 1;
      store.put(record.key, rightAgg, start);
      if (emitOnUpdate) ctx.forward({ key: windowed(record.key, start), value: change(rightAgg.value, null), timestamp: rightAgg.timestamp });
    };

    const fresh = (record: StreamRecord<K, V>): Stored<A> => ({ value: initializer(), timestamp: record.timestamp });

    const processEarly = (record: StreamRecord<K, V>, closeTime: number): void => {
      const ts = record.timestamp;
      let combined: KeyValue<number, Stored<A>> | undefined;
      let rightAgg: Stored<A> | undefined;
      let rightCreated = false;
      let previousTs: number | undefined;
      const starts = new Set<number>();
      for (const w of store.fetch(record.key, 0, ts + 1)) {
        const start = w.key;
        starts.add(start);
        if (start === 0) {
          combined = w;
          if (w.value.timestamp < ts) previousTs = w.value.timestamp;
        } else if (start <= ts) {
          rightAgg = w.value;
          updateWindow(record, start, w.value, true, closeTime);
        } else if (start === ts + 1) {
          rightCreated = true;
        } else {
          throw new Error(`unexpected sliding window starting at ${start} for a record at ${ts}`);
        }
      }
      if (rightAgg === undefined && combined !== undefined && combined.value.timestamp > ts) rightAgg = combined.value;
      if (!rightCreated && rightAgg !== undefined && rightAgg.timestamp > ts) createCurrentRightWindow(record, rightAgg);
      if (previousTs !== undefined && !starts.has(previousTs + 1)) updateWindow(record, previousTs + 1, fresh(record), false, closeTime);
      if (combined === undefined) updateWindow(record, 0, fresh(record), false, closeTime);
      else updateWindow(record, 0, combined.value, true, closeTime);
    };

    const processLater = (record: StreamRecord<K, V>, closeTime: number): void => {
      const ts = record.timestamp;
      let leftAgg: Stored<A> | undefined;
      let rightAgg: Stored<A> | undefined;
      let leftCreated = false;
      let rightCreated = false;
      let previousTs: number | undefined;
      const starts = new Set<number>();
      const found = store.fetch(record.key, Math.max(0, ts - 2 * d), ts + 1);
      for (let i = found.length - 1; i >= 0; i--) {
        const { key: start, value } = found[i]!;
        starts.add(start);
        const end = start + d;
        if (start === ts + 1) {
          rightCreated = true;
        } else if (end > ts) {
          rightAgg ??= value;
          updateWindow(record, start, value, true, closeTime);
        } else if (end === ts) {
          leftCreated = true;
          updateWindow(record, start, value, true, closeTime);
          if (value.timestamp < ts) previousTs = value.timestamp;
          else return;
        } else {
          leftAgg = value;
          previousTs = value.timestamp;
          break;
        }
      }
      if (previousTs !== undefined) {
        const previousRightStart = previousTs + 1;
        if (!starts.has(previousRightStart) && previousRightStart + d >= ts) updateWindow(record, previousRightStart, fresh(record), false, closeTime);
      }
      if (!leftCreated) {
        const leftNotEmpty = previousTs !== undefined && ts - d <= previousTs && leftAgg !== undefined;
        updateWindow(record, ts - d, leftNotEmpty ? { value: leftAgg!.value, timestamp: ts } : fresh(record), false, closeTime);
      }
      if (!rightCreated && rightAgg !== undefined && rightAgg.timestamp > ts) createCurrentRightWindow(record, rightAgg);
    };

    const emitClosed = (closeTime: number): void => {
      if (lastEmitCloseTime !== -1 && lastEmitCloseTime >= closeTime) return;
      const upper = closeTime - d - 1;
      if (upper < 0) return;
      const lower = lastEmitCloseTime === -1 ? 0 : Math.max(0, lastEmitCloseTime - d);
      for (const { key, value } of store.fetchAll(lower, upper)) {
        ctx.forward({ key: windowed(key.key, key.window.start), value: change(value.value, null), timestamp: value.timestamp });
      }
      lastEmitCloseTime = closeTime;
    };

    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(storeName);
      },
      process(record: StreamRecord<K, V>) {
        if (record.key == null || record.value == null) {
          ctx.recordDropped(record.key == null ? 'null key' : 'null value');
          return;
        }
        const ts = record.timestamp;
        if (ts > observedStreamTime) observedStreamTime = ts;
        const closeTime = observedStreamTime - graceMs;
        if (!emitOnUpdate) emitClosed(closeTime);
        if (ts + 1 + d <= closeTime) {
          ctx.recordDropped('expired window');
          return;
        }
        if (ts < d) processEarly(record, closeTime);
        else processLater(record, closeTime);
      },
    };
  };
}
