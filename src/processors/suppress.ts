import type { SuppressBufferEntry } from '../serdes/suppress-buffer.ts';
import type { Windowed } from '../serdes/serdes.ts';
import { compareKeys } from '../state/key-id.ts';
import type { KeyValueStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change, type Change } from './change.ts';

/** The settings of a `suppress` operator. */
export interface SuppressConfig {
  /** The key-value store holding the buffer (persistent backends keep it across restarts). */
  bufferStoreName: string;
  /** A key is emitted once `bufferTime <= streamTime - waitMs`. */
  waitMs: number;
  /** `'window-end'`: buffer time is the windowed key's end (final results); `'record-time'`: the timestamp of the key's first buffered update. */
  bufferTime: 'window-end' | 'record-time';
  /** Final results never forward tombstones. */
  dropTombstones: boolean;
  /** The most keys the buffer holds (`Infinity`: unbounded). */
  maxRecords: number;
  /** What a full buffer does: emit its earliest keys early, or fail the task. */
  whenFull: 'emit-early' | 'shut-down';
}

interface Buffered<K> {
  time: number;
  key: K;
}

/** Buffer order: time, then key (windowed keys by key, then window start), as Kafka orders by time and key bytes. */
function compareBuffered<K>(a: Buffered<K>, b: Buffered<K>): number {
  if (a.time !== b.time) return a.time - b.time;
  const x = a.key as unknown;
  const y = b.key as unknown;
  if (isWindowed(x) && isWindowed(y)) return compareKeys(x.key, y.key) || x.window.start - y.window.start;
  return compareKeys(x, y);
}

function isWindowed(key: unknown): key is Windowed<unknown> {
  return typeof key === 'object' && key !== null && 'window' in key && 'key' in key;
}

/**
 * `KTable.suppress`: holds back each key's updates in a buffer and forwards only its latest value,
 * once `bufferTime <= streamTime - waitMs` (the operator's own stream time). The buffer time of
 * a key is fixed by its first buffered update. Keys leave the buffer in order of buffer time, then
 * key, each at the timestamp of its latest update. The buffer lives in a key-value store so it
 * survives restarts; the time order is kept in memory and rebuilt from the store when needed.
 */
export function suppressProcessor<K, V>(config: SuppressConfig): ProcessorSupplier {
  const { bufferStoreName, waitMs, maxRecords } = config;
  return () => {
    let ctx: ProcessorContext;
    let store: KeyValueStore<K, SuppressBufferEntry<V>>;
    let observedStreamTime = -1;
    /** Buffered keys by (buffer time, key); entries before `head` have left. */
    let order: Buffered<K>[] | undefined;
    let head = 0;

    const load = (): Buffered<K>[] => {
      const loaded = store.all().map(({ key, value }) => ({ time: value.bufferTime, key }));
      return loaded.sort(compareBuffered);
    };

    const insert = (buffered: Buffered<K>): void => {
      const list = order!;
      let lo = head;
      let hi = list.length;
      if (hi === head || compareBuffered(list[hi - 1]!, buffered) <= 0) {
        list.push(buffered);
        return;
      }
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareBuffered(list[mid]!, buffered) <= 0) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, buffered);
    };

    const emitFirst = (): void => {
      const { key } = order![head++]!;
      if (head > 1024 && head * 2 > order!.length) {
        order = order!.slice(head);
        head = 0;
      }
      const entry = store.get(key);
      if (entry === undefined) return;
      store.delete(key);
      if (entry.newValue === null && config.dropTombstones) return;
      ctx.forward({ key, value: change(entry.newValue, entry.priorValue), timestamp: entry.timestamp, headers: entry.headers });
    };

    const size = (): number => order!.length - head;

    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(bufferStoreName);
      },
      process(record: StreamRecord<K, Change<V>>) {
        order ??= load();
        const key = record.key;
        if (record.timestamp > observedStreamTime) observedStreamTime = record.timestamp;
        const existing = store.get(key);
        const newValue = record.value.newValue;
        if (existing) {
          store.put(key, { ...existing, newValue, timestamp: record.timestamp, headers: record.headers });
        } else {
          const bufferTime = config.bufferTime === 'window-end' ? (key as unknown as Windowed<unknown>).window.end : record.timestamp;
          store.put(key, { bufferTime, newValue, priorValue: record.value.oldValue, timestamp: record.timestamp, headers: record.headers });
          insert({ time: bufferTime, key });
        }
        const expiry = observedStreamTime - waitMs;
        while (size() > 0 && order[head]!.time <= expiry) emitFirst();
        if (size() > maxRecords) {
          if (config.whenFull === 'shut-down') {
            throw new Error(`suppress buffer '${bufferStoreName}' is full (${size()} keys, maxRecords ${maxRecords}): raise maxRecords or use untilTimeLimit with emitEarlyWhenFull`);
          }
          while (size() > maxRecords) emitFirst();
        }
      },
    };
  };
}
