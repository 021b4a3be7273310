import type { Windowed } from '../serdes/serdes.ts';
import type { SessionStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change } from './change.ts';
import type { WindowEmit } from './windowed-aggregate.ts';

/** The settings of a session-window aggregation. */
export interface SessionAggregateConfig<K, V, A> {
  storeName: string;
  inactivityGapMs: number;
  graceMs: number;
  emit: WindowEmit;
  initializer: () => A;
  aggregator: (key: K, value: V, aggregate: A) => A;
  merger: (key: K, aggregate1: A, aggregate2: A) => A;
  /** Drop records with a `null` value too (reduce); otherwise only a `null` key drops a record. */
  dropNullValues?: boolean;
}

/**
 * The aggregation behind `windowedBy(SessionWindows).count/reduce/aggregate`. A record at `t`
 * merges every session of its key with `end >= t - gap` and `start <= t + gap` into one session:
 * `merger(init(), s)` for each, then `aggregator(value)`. It is dropped (and counted) when the
 * merged session ends before `streamTime - grace - gap` (the operator's own stream time). On update
 * it forwards a tombstone for each merged-away session at that session's end, then the new session
 * at its end; on close it forwards each session once, when `end < streamTime - grace - gap`.
 */
export function sessionAggregateProcessor<K, V, A>(config: SessionAggregateConfig<K, V, A>): ProcessorSupplier {
  const { storeName, inactivityGapMs: gap, graceMs, initializer, aggregator, merger } = config;
  const emitOnUpdate = config.emit === 'onWindowUpdate';
  return () => {
    let ctx: ProcessorContext;
    let store: SessionStore<K, A>;
    let observedStreamTime = -1;
    let lastEmitCloseTime = -1;

    const emitClosed = (closeTime: number): void => {
      if (lastEmitCloseTime !== -1 && lastEmitCloseTime >= closeTime) return;
      const upper = closeTime - 1;
      if (upper < 0) return;
      const lower = Math.max(0, lastEmitCloseTime);
      for (const { key, value } of store.all()) {
        const end = key.window.end;
        if (end >= lower && end <= upper) ctx.forward({ key: { key: key.key, window: { ...key.window } }, value: change(value, null), timestamp: end });
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
        const key = record.key;
        const ts = record.timestamp;
        if (ts > observedStreamTime) observedStreamTime = ts;
        const closeTime = observedStreamTime - graceMs - gap;
        if (!emitOnUpdate) emitClosed(closeTime);
        const merged = store.findSessions(key, ts - gap, ts + gap);
        let aggregate = initializer();
        let start = ts;
        let end = ts;
        for (const session of merged) {
          aggregate = merger(key, aggregate, session.value);
          if (session.key.window.start < start) start = session.key.window.start;
          if (session.key.window.end > end) end = session.key.window.end;
        }
        if (end < closeTime) {
          ctx.recordDropped('expired window');
        } else {
          if (start !== ts || end !== ts) {
            for (const session of merged) {
              store.remove(session.key);
              if (emitOnUpdate) ctx.forward({ key: session.key, value: change<A>(null, session.value), timestamp: session.key.window.end });
            }
          }
          aggregate = aggregator(key, record.value, aggregate);
          const sessionKey: Windowed<K> = { key, window: { start, end } };
          store.put(sessionKey, aggregate);
          if (emitOnUpdate) ctx.forward({ key: sessionKey, value: change(aggregate, null), timestamp: end });
        }
      },
    };
  };
}
