import type { Windowed } from '../serdes/serdes.ts';
import { ChangeLog } from './change-log.ts';
import { compareKeys, keyId } from './key-id.ts';
import { SortedTimes } from './sorted-times.ts';
import type { KeyValue, WindowStore } from './store.ts';

/** How an in-memory window store keeps its windows. */
export interface InMemoryWindowStoreOptions {
  /** Windows starting at or before `observedStreamTime - retentionMs` are dropped (and puts to them ignored). */
  retentionMs: number;
  /** The window size: `fetchAll()` and `all()` report each window as `[start, start + windowSizeMs]`. Default 0. */
  windowSizeMs?: number;
  /** Keep every put of a key and window, in insertion order (stream-stream join buffers). */
  retainDuplicates?: boolean;
}

/** One of several values of a key and window (with `retainDuplicates`). */
interface Duplicate<V> {
  sequence: number;
  value: V;
}

/** The windows of one key. */
interface KeyWindows<K> {
  id: string;
  key: K;
  /** This key's window starts, ascending. */
  starts: number[];
  /** Window start → value (or → `Duplicate<V>[]` with `retainDuplicates`). */
  values: Map<number, unknown>;
}

/** Entries kept for reuse at most (see `forget`). */
const MAX_SPARE = 4_096;

/** Index of the first element of a sorted array that is `>= time`. */
function lowerBound(sorted: readonly number[], time: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The window store every task uses: `(key, windowStart) → value` in the task's memory, as Kafka
 * Streams' `InMemoryWindowStore` behaves. Its observed stream time is the largest window start put;
 * windows starting at or before `observedStreamTime - retentionMs` expire, are never returned and
 * cannot be written again. Fetches return windows by start, then key; duplicates in insertion
 * order. A persistent backend (Redis) loads it with `restore` and writes its change log at each
 * commit: every put, delete and expiry is recorded with its `windowStart` (and `sequence` for duplicates).
 */
export class InMemoryWindowStore<K, V> implements WindowStore<K, V> {
  readonly type = 'window' as const;
  readonly changes = new ChangeLog();
  readonly retentionMs: number;
  readonly windowSizeMs: number;
  readonly retainDuplicates: boolean;
  private observed = -1;
  private sequence = 0;
  private readonly byKey = new Map<string, KeyWindows<K>>();
  /** Window start → the keys that have a window there. */
  private readonly segments = new Map<number, Set<KeyWindows<K>>>();
  /** The key looked up last: an aggregation fetches, then puts, the same key. */
  private lastKey: unknown = undefined;
  private lastWindows: KeyWindows<K> | undefined;
  /** True when the last lookup found no windows for `lastKey` (keys enter only through `windowsOf`). */
  private lastMissing = false;
  /** The segment put to last: most puts go to the newest window. */
  private lastSegmentStart = Number.NaN;
  private lastSegment: Set<KeyWindows<K>> | undefined;
  private readonly starts = new SortedTimes();
  /** Entries of forgotten keys, empty, for reuse. */
  private readonly spare: KeyWindows<K>[] = [];

  constructor(
    readonly name: string,
    options: InMemoryWindowStoreOptions,
  ) {
    if (!(options.retentionMs >= 0)) throw new RangeError(`window store '${name}': retentionMs must be a non-negative number, got ${options.retentionMs}`);
    this.retentionMs = options.retentionMs;
    this.windowSizeMs = options.windowSizeMs ?? 0;
    this.retainDuplicates = options.retainDuplicates ?? false;
  }

  /** The largest window start this store has seen (-1 when none): retention counts from it. */
  get observedStreamTime(): number {
    return this.observed;
  }

  put(key: K, value: V | null, windowStart: number): void {
    if (!this.advance(windowStart)) return;
    const id = key === this.lastKey && this.lastWindows ? this.lastWindows.id : keyId(key);
    if (value === null || value === undefined) {
      if (!this.retainDuplicates) this.remove(id, windowStart, true);
      return;
    }
    const windows = this.windowsOf(id, key, windowStart);
    if (this.retainDuplicates) {
      const sequence = ++this.sequence;
      const list = windows.values.get(windowStart) as Duplicate<V>[] | undefined;
      if (list) list.push({ sequence, value });
      else windows.values.set(windowStart, [{ sequence, value }]);
      if (this.changes.enabled) this.changes.record({ id: `${windowStart}|${id}|${sequence}`, key, value, windowStart, sequence });
      return;
    }
    windows.values.set(windowStart, value);
    if (this.changes.enabled) this.changes.record({ id: `${windowStart}|${id}`, key, value, windowStart });
  }

  fetch(key: K, windowStart: number): V | undefined;
  fetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  fetch(key: K, from: number, to?: number): V | undefined | KeyValue<number, V>[] {
    const windows = this.lookup(key);
    if (to === undefined) {
      if (from < this.minLiveTime() || !windows) return undefined;
      const found = windows.values.get(from);
      return this.retainDuplicates ? (found as Duplicate<V>[] | undefined)?.[0]?.value : (found as V | undefined);
    }
    const out: KeyValue<number, V>[] = [];
    const min = Math.max(from, this.minLiveTime());
    if (!windows || to < min) return out;
    const starts = windows.starts;
    for (let i = lowerBound(starts, min); i < starts.length && starts[i]! <= to; i++) {
      const start = starts[i]!;
      const found = windows.values.get(start);
      if (this.retainDuplicates) for (const d of found as Duplicate<V>[]) out.push({ key: start, value: d.value });
      else out.push({ key: start, value: found as V });
    }
    return out;
  }

  fetchAll(timeFrom: number, timeTo: number): KeyValue<Windowed<K>, V>[] {
    const out: KeyValue<Windowed<K>, V>[] = [];
    const min = Math.max(timeFrom, this.minLiveTime());
    if (timeTo < min) return out;
    for (const start of this.starts.range(min, timeTo)) {
      const keys = [...this.segments.get(start)!];
      if (keys.length > 1) keys.sort((a, b) => compareKeys(a.key, b.key));
      for (const windows of keys) {
        const window = { start, end: start + this.windowSizeMs };
        const found = windows.values.get(start);
        if (this.retainDuplicates) for (const d of found as Duplicate<V>[]) out.push({ key: { key: windows.key, window }, value: d.value });
        else out.push({ key: { key: windows.key, window }, value: found as V });
      }
    }
    return out;
  }

  all(): KeyValue<Windowed<K>, V>[] {
    return this.fetchAll(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  /**
   * Restores a window without recording it as a change (used by the persistent backend). Stream
   * time and expiry follow as for `put`; duplicates keep their `sequence` so later changes match.
   */
  restore(key: K, windowStart: number, value: V, sequence?: number): void {
    if (!this.advance(windowStart)) return;
    const id = keyId(key);
    const windows = this.windowsOf(id, key, windowStart);
    if (!this.retainDuplicates) {
      windows.values.set(windowStart, value);
      return;
    }
    const seq = sequence ?? this.sequence + 1;
    if (seq > this.sequence) this.sequence = seq;
    const list = (windows.values.get(windowStart) as Duplicate<V>[] | undefined) ?? [];
    const at = list.findIndex((d) => d.sequence > seq);
    if (at < 0) list.push({ sequence: seq, value });
    else list.splice(at, 0, { sequence: seq, value });
    windows.values.set(windowStart, list);
  }

  /** The windows of a key, remembering the last key looked up. */
  private lookup(key: K): KeyWindows<K> | undefined {
    if (key === this.lastKey && (this.lastWindows || this.lastMissing)) return this.lastWindows;
    const windows = this.byKey.get(keyId(key));
    this.lastKey = key;
    this.lastWindows = windows;
    this.lastMissing = windows === undefined;
    return windows;
  }

  /** Moves observed stream time to `windowStart` if later and expires old windows; false if `windowStart` has expired. */
  private advance(windowStart: number): boolean {
    if (windowStart > this.observed) {
      this.observed = windowStart;
      this.expire();
    }
    return windowStart >= this.minLiveTime();
  }

  /** Windows starting before this time have expired. */
  private minLiveTime(): number {
    return this.observed - this.retentionMs + 1;
  }

  /** The windows of a key, registering `windowStart` for it. */
  private windowsOf(id: string, key: K, windowStart: number): KeyWindows<K> {
    let windows: KeyWindows<K> | undefined;
    if (this.lastWindows?.id === id) windows = this.lastWindows;
    else if (!(this.lastMissing && key === this.lastKey)) windows = this.byKey.get(id);
    if (!windows) {
      windows = this.spare.pop();
      if (windows) {
        windows.id = id;
        windows.key = key;
        windows.starts.push(windowStart);
      } else {
        windows = { id, key, starts: [windowStart], values: new Map() };
      }
      this.byKey.set(id, windows);
      this.lastKey = key;
      this.lastWindows = windows;
      this.lastMissing = false;
    } else if (!windows.values.has(windowStart)) {
      const starts = windows.starts;
      if (starts.length === 0 || starts[starts.length - 1]! < windowStart) starts.push(windowStart);
      else starts.splice(lowerBound(starts, windowStart), 0, windowStart);
    } else {
      return windows;
    }
    let segment = windowStart === this.lastSegmentStart ? this.lastSegment : this.segments.get(windowStart);
    if (!segment) {
      segment = new Set();
      this.segments.set(windowStart, segment);
      this.starts.add(windowStart);
    }
    this.lastSegmentStart = windowStart;
    this.lastSegment = segment;
    segment.add(windows);
    return windows;
  }

  /** Removes one key's window (recording deletes when asked to). */
  private remove(id: string, windowStart: number, record: boolean): void {
    const windows = this.byKey.get(id);
    if (!windows || !windows.values.has(windowStart)) return;
    if (record && this.changes.enabled) this.recordDeletes(id, windows, windowStart);
    windows.values.delete(windowStart);
    const starts = windows.starts;
    if (starts[0] === windowStart) starts.shift();
    else starts.splice(lowerBound(starts, windowStart), 1);
    if (starts.length === 0) this.forget(windows);
    const segment = this.segments.get(windowStart);
    if (segment) {
      segment.delete(windows);
      if (segment.size === 0) {
        this.segments.delete(windowStart);
        this.starts.delete(windowStart);
        if (this.lastSegmentStart === windowStart) this.lastSegment = undefined;
      }
    }
  }

  private recordDeletes(id: string, windows: KeyWindows<K>, windowStart: number): void {
    const found = windows.values.get(windowStart);
    if (!this.retainDuplicates) {
      this.changes.record({ id: `${windowStart}|${id}`, key: windows.key, value: null, windowStart });
      return;
    }
    for (const d of found as Duplicate<V>[]) {
      this.changes.record({ id: `${windowStart}|${id}|${d.sequence}`, key: windows.key, value: null, windowStart, sequence: d.sequence });
    }
  }

  /** Drops every window that starts before the minimum live time, a whole segment (window start) at a time. */
  private expire(): void {
    const minLive = this.minLiveTime();
    let first: number | undefined;
    while ((first = this.starts.first()) !== undefined && first < minLive) {
      this.starts.shift();
      const segment = this.segments.get(first)!;
      this.segments.delete(first);
      if (this.lastSegmentStart === first) this.lastSegment = undefined;
      for (const windows of segment) {
        if (this.changes.enabled) this.recordDeletes(windows.id, windows, first);
        windows.values.delete(first);
        const starts = windows.starts;
        // The expired start is the smallest of every key that has it.
        if (starts[0] === first) starts.shift();
        else starts.splice(lowerBound(starts, first), 1);
        if (starts.length === 0) this.forget(windows);
      }
    }
  }

  /** Drops a key that has no window left. */
  private forget(windows: KeyWindows<K>): void {
    this.byKey.delete(windows.id);
    // Tumbling windows forget most keys at every window boundary and see them again right after:
    // reusing their (empty) entries spares the garbage collector a map per key and window.
    if (this.spare.length < MAX_SPARE) this.spare.push(windows);
    if (this.lastWindows === windows) {
      this.lastKey = undefined;
      this.lastWindows = undefined;
      this.lastMissing = false;
    }
  }
}
