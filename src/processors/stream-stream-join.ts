import type { JoinBufferKey, JoinBufferValue, JoinSide } from '../serdes/join-buffer.ts';
import { compareKeys } from '../state/key-id.ts';
import type { KeyValueStore, StateStore, WindowStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';

/** Combines a left and a right value of one key; an unmatched side is `null` (left and outer joins). */
export type StreamStreamJoiner<K, V1, V2, VR> = (left: V1 | null, right: V2 | null, key: K) => VR;

/** The time a stream-stream join shares between its two sides within one task. */
export interface JoinTime {
  /** The largest timestamp either side has seen (-1 before the first record). */
  streamTime: number;
  /** A lower bound of the timestamps in the outer buffer (skips scanning it when nothing can be due). */
  minTime: number;
}

/** Hands both sides of one join, in one task, the same `JoinTime`. */
export interface SharedJoinTime {
  /** The time of the task that owns `store` (the outer buffer, which both sides of a left or outer join open). */
  of(store: StateStore): JoinTime;
}

/**
 * One `JoinTime` per task instance for one join (the DSL makes one per join). It is keyed by a
 * store of the task's own, so two tasks never share it, even with equal task ids; an inner join,
 * which has no outer buffer, keys each side by the other side's store (its time is not read).
 */
export function sharedJoinTime(): SharedJoinTime {
  const byTask = new WeakMap<StateStore, JoinTime>();
  return {
    of(store) {
      let time = byTask.get(store);
      if (!time) byTask.set(store, (time = { streamTime: -1, minTime: Number.POSITIVE_INFINITY }));
      return time;
    },
  };
}

/** The settings of one side of a stream-stream join. */
export interface StreamStreamJoinSide<K, V1, V2, VR> {
  side: JoinSide;
  /** True when this side's unmatched records are emitted (the left side of left/outer joins, both sides of outer joins). */
  outer: boolean;
  /** `JoinWindows` before / after / grace, in ms, as declared (from the left side's point of view). */
  beforeMs: number;
  afterMs: number;
  graceMs: number;
  /** The other side's window store (this side's is kept by its {@link joinWindowProcessor}). */
  otherStoreName: string;
  /** The buffer of unmatched records (left and outer joins). */
  outerStoreName?: string;
  joiner: StreamStreamJoiner<K, V1, V2, VR>;
  time: SharedJoinTime;
}

/**
 * One side of a KStream-KStream join. A record at `t` is joined with every record of the other
 * side's window store whose timestamp is in `[t - before, t + after]` (seen from the left; the
 * right side mirrors it), both ends inclusive; each match emits `joiner(left, right)` at
 * `max(tl, tr)`. The windowed node before it keeps the record in this side's window store once
 * the join is done (Kafka Streams' KStreamJoinWindow then KStreamKStreamJoin).
 *
 * Left/outer joins buffer unmatched records in the outer store and emit `joiner(l, null)` at the
 * record's own timestamp once its window has closed (`t + after + grace < streamTime`, the
 * stream time shared by both sides); a later match removes it from the buffer. The buffer is
 * checked when a record arrives with `ts == streamTime`, on either side, before that record's own
 * results, in order of (timestamp, right before left, key), duplicates in arrival order. A record
 * already past its window on arrival (`t + after < streamTime`) is emitted at once.
 */
export function streamStreamJoinProcessor<K, V1, V2, VR>(config: StreamStreamJoinSide<K, V1, V2, VR>): ProcessorSupplier {
  const isLeft = config.side === 'left';
  const joinBeforeMs = isLeft ? config.beforeMs : config.afterMs;
  const joinAfterMs = isLeft ? config.afterMs : config.beforeMs;
  const otherSide: JoinSide = isLeft ? 'right' : 'left';
  const join = (key: K, mine: unknown, theirs: unknown): VR =>
    isLeft ? config.joiner(mine as V1 | null, theirs as V2 | null, key) : config.joiner(theirs as V1 | null, mine as V2 | null, key);

  return () => {
    let ctx: ProcessorContext;
    let time: JoinTime;
    let otherStore: WindowStore<K, unknown>;
    let outerStore: KeyValueStore<JoinBufferKey<K>, JoinBufferValue> | undefined;

    const isWindowOpen = (entry: JoinBufferKey<K>): boolean =>
      entry.timestamp + (entry.side === 'left' ? config.afterMs : config.beforeMs) + config.graceMs >= time.streamTime;

    const emitClosedWindows = (record: StreamRecord<K, unknown>): void => {
      const store = outerStore!;
      if (time.minTime + joinAfterMs + config.graceMs >= time.streamTime) return;
      time.minTime = Number.POSITIVE_INFINITY;
      const entries = store.all().sort((a, b) =>
        a.key.timestamp - b.key.timestamp || (a.key.side === b.key.side ? 0 : a.key.side === 'right' ? -1 : 1) || compareKeys(a.key.key, b.key.key));
      let leftOpen = false;
      let rightOpen = false;
      for (const { key: entry, value } of entries) {
        time.minTime = entry.timestamp;
        if (leftOpen && rightOpen) break;
        if (isWindowOpen(entry)) {
          if (entry.side === 'left') leftOpen = true;
          else rightOpen = true;
          continue;
        }
        const own = entry.side === config.side;
        for (const v of value.values) {
          ctx.forward({ ...record, key: entry.key, timestamp: entry.timestamp, value: own ? join(entry.key, v, null) : join(entry.key, null, v) });
        }
        store.delete(entry);
      }
    };

    return {
      init(context) {
        ctx = context;
        otherStore = context.getStateStore(config.otherStoreName);
        outerStore = config.outerStoreName === undefined ? undefined : context.getStateStore<KeyValueStore<JoinBufferKey<K>, JoinBufferValue>>(config.outerStoreName);
        time = config.time.of(outerStore ?? otherStore);
      },
      process(record: StreamRecord<K, unknown>) {
        const ts = record.timestamp;
        if (ts > time.streamTime) time.streamTime = ts;
        if (config.outer && record.key == null && record.value != null) {
          ctx.forward({ ...record, value: join(record.key, record.value, null) });
          return;
        }
        if (record.key == null || record.value == null) {
          ctx.recordDropped(record.key == null ? 'null key' : 'null value');
          return;
        }
        if (outerStore && ts === time.streamTime) emitClosedWindows(record);

        const timeTo = Math.max(0, ts + joinAfterMs);
        const matches = otherStore.fetch(record.key, Math.max(0, ts - joinBeforeMs), timeTo);
        for (const match of matches) {
          outerStore?.delete({ timestamp: match.key, side: otherSide, key: record.key });
          ctx.forward({ ...record, timestamp: Math.max(ts, match.key), value: join(record.key, record.value, match.value) });
        }
        if (config.outer && matches.length === 0) {
          if (!outerStore || timeTo < time.streamTime) {
            ctx.forward({ ...record, value: join(record.key, record.value, null) });
          } else {
            time.minTime = Math.min(time.minTime, ts);
            const bufferKey: JoinBufferKey<K> = { timestamp: ts, side: config.side, key: record.key };
            const buffered = outerStore.get(bufferKey);
            outerStore.put(bufferKey, { side: config.side, values: [...(buffered?.values ?? []), record.value] });
          }
        }
      },
    };
  };
}

/**
 * The windowed node of one side of a stream-stream join (Kafka Streams' KStreamJoinWindow): forwards
 * each record to the side's join node, then keeps it in the side's window store (duplicates kept),
 * unless its key or value is `null`, which no later record can join.
 */
export function joinWindowProcessor<K>(storeName: string): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let store: WindowStore<K, unknown>;
    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(storeName);
      },
      process(record: StreamRecord<K, unknown>) {
        ctx.forward(record);
        if (record.key != null && record.value != null) store.put(record.key, record.value, record.timestamp);
      },
    };
  };
}
