import { ChangeLog } from './change-log.ts';
import { compareKeys, keyId } from './key-id.ts';
import {
  PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED,
  type KeyValue, type VersionedKeyValueStore, type VersionedRecord, type VersionedStoreOptions, type VersionsQuery,
} from './store.ts';

/** One version of a key: its value from `timestamp` on (`null`: deleted then). */
interface Version<V> {
  timestamp: number;
  value: V | null;
}

/** A key's versions, ascending by timestamp. */
interface History<K, V> {
  key: K;
  versions: Version<V>[];
}

/** What a versioned store's change log carries per version (`value: null` in the change itself drops the version). */
export interface VersionChange<V> {
  value: V | null;
}

/** Kafka Streams' default segment interval for a history retention (`RocksDbVersionedKeyValueBytesStoreSupplier`). */
export function defaultSegmentInterval(historyRetentionMs: number): number {
  if (historyRetentionMs <= 60_000) return Math.max(Math.floor(historyRetentionMs / 3), 2_000);
  if (historyRetentionMs <= 300_000) return Math.max(Math.floor(historyRetentionMs / 5), 20_000);
  if (historyRetentionMs <= 3_600_000) return Math.max(Math.floor(historyRetentionMs / 12), 60_000);
  return Math.max(Math.floor(historyRetentionMs / 24), 300_000);
}

/** Index of the last version with `timestamp <= time` (-1 when none). */
function floorIndex<V>(versions: readonly Version<V>[], time: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (versions[mid]!.timestamp <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The versioned key-value store every task uses, as Kafka Streams' `RocksDBVersionedStore`
 * behaves: each key's versions by timestamp in the task's memory. Deletions are versions too (a
 * put of `null`), so an as-of read just before a deletion still finds the value. Versions that no
 * query within the history retention can reach are swept out each time stream time crosses a
 * segment boundary (and on every put to their key); the latest version of a key is kept
 * whatever its age, deletions included, so the observed stream time is the largest timestamp
 * held and a restore gets it back without storing it apart.
 */
export class InMemoryVersionedKeyValueStore<K, V> implements VersionedKeyValueStore<K, V> {
  readonly type = 'key-value' as const;
  readonly versioned = true as const;
  readonly changes = new ChangeLog();
  readonly historyRetentionMs: number;
  readonly segmentIntervalMs: number;
  private observed = Number.MIN_SAFE_INTEGER;
  private readonly histories = new Map<string, History<K, V>>();
  private lastSweepSegment = Number.MIN_SAFE_INTEGER;

  constructor(
    readonly name: string,
    options: VersionedStoreOptions,
  ) {
    if (!(options.historyRetentionMs >= 0)) throw new RangeError(`versioned store '${name}': historyRetention must be a non-negative duration, got ${options.historyRetentionMs}`);
    if (options.segmentIntervalMs !== undefined && !(options.segmentIntervalMs >= 1)) throw new RangeError(`versioned store '${name}': segmentInterval must be at least 1 ms, got ${options.segmentIntervalMs}`);
    this.historyRetentionMs = options.historyRetentionMs;
    this.segmentIntervalMs = options.segmentIntervalMs ?? defaultSegmentInterval(options.historyRetentionMs);
  }

  /** The largest timestamp put (`Number.MIN_SAFE_INTEGER` before the first). */
  get observedStreamTime(): number {
    return this.observed;
  }

  put(key: K, value: V | null, timestamp: number): number {
    if (key == null) throw new TypeError(`versioned store '${this.name}': key cannot be null`);
    if (timestamp < this.observed - this.historyRetentionMs) return PUT_RETURN_CODE_NOT_PUT;
    this.observed = Math.max(this.observed, timestamp);
    const id = keyId(key);
    let history = this.histories.get(id);
    if (!history) this.histories.set(id, (history = { key, versions: [] }));
    const versions = history.versions;
    const at = floorIndex(versions, timestamp);
    const stored = value ?? null;
    if (at >= 0 && versions[at]!.timestamp === timestamp) versions[at]!.value = stored;
    else versions.splice(at + 1, 0, { timestamp, value: stored });
    this.record(id, key, timestamp, stored);
    const next = versions[floorIndex(versions, timestamp) + 1];
    this.prune(id, history);
    this.maybeSweep();
    return next === undefined ? PUT_RETURN_CODE_VALID_TO_UNDEFINED : next.timestamp;
  }

  delete(key: K, timestamp: number): VersionedRecord<V> | undefined {
    if (timestamp < this.observed - this.historyRetentionMs) return undefined;
    const existing = this.get(key, timestamp);
    this.put(key, null, timestamp);
    return existing;
  }

  get(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined {
    const versions = this.histories.get(keyId(key))?.versions;
    if (!versions || versions.length === 0) return undefined;
    const latest = versions[versions.length - 1]!;
    if (asOfTimestamp === undefined) return latest.value === null ? undefined : { value: latest.value, timestamp: latest.timestamp };
    if (asOfTimestamp < this.observed - this.historyRetentionMs) {
      // Beyond the history retention only the latest version answers (it never expires).
      return latest.value !== null && latest.timestamp <= asOfTimestamp ? { value: latest.value, timestamp: latest.timestamp } : undefined;
    }
    const at = floorIndex(versions, asOfTimestamp);
    if (at < 0) return undefined;
    const found = versions[at]!;
    if (found.value === null) return undefined;
    const next = versions[at + 1];
    return next === undefined ? { value: found.value, timestamp: found.timestamp } : { value: found.value, timestamp: found.timestamp, validTo: next.timestamp };
  }

  getVersions(key: K, query: VersionsQuery = {}): VersionedRecord<V>[] {
    const versions = this.histories.get(keyId(key))?.versions;
    if (!versions || versions.length === 0) return [];
    const fromTime = query.fromTime ?? Number.NEGATIVE_INFINITY;
    const toTime = query.toTime ?? Number.POSITIVE_INFINITY;
    const found: VersionedRecord<V>[] = [];
    if (toTime < this.observed - this.historyRetentionMs) {
      // As RocksDBVersionedStore: past the history retention only the latest version is looked at.
      const latest = versions[versions.length - 1]!;
      if (latest.value !== null && latest.timestamp <= toTime) found.push({ value: latest.value, timestamp: latest.timestamp });
      return found;
    }
    for (let i = 0; i < versions.length; i++) {
      const version = versions[i]!;
      if (version.timestamp > toTime) break;
      const next = versions[i + 1];
      if (version.value === null || (next !== undefined && next.timestamp <= fromTime)) continue;
      found.push(next === undefined ? { value: version.value, timestamp: version.timestamp } : { value: version.value, timestamp: version.timestamp, validTo: next.timestamp });
    }
    return query.order === 'ascending' ? found : found.reverse();
  }

  range(from?: K, to?: K): KeyValue<K, VersionedRecord<V>>[] {
    return this.all().filter((e) => (from === undefined || compareKeys(e.key, from) >= 0) && (to === undefined || compareKeys(e.key, to) <= 0));
  }

  all(): KeyValue<K, VersionedRecord<V>>[] {
    const out: KeyValue<K, VersionedRecord<V>>[] = [];
    for (const history of this.histories.values()) {
      const latest = history.versions[history.versions.length - 1];
      if (latest && latest.value !== null) out.push({ key: history.key, value: { value: latest.value, timestamp: latest.timestamp } });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  /** Keys whose latest version is a value (deleted keys are not counted). */
  approximateNumEntries(): number {
    let count = 0;
    for (const history of this.histories.values()) if (history.versions[history.versions.length - 1]?.value != null) count++;
    return count;
  }

  /** Every version still held of `key`, ascending (for tests and tools). */
  versionsOf(key: K): { timestamp: number; value: V | null }[] {
    return (this.histories.get(keyId(key))?.versions ?? []).map((v) => ({ timestamp: v.timestamp, value: v.value }));
  }

  /** Restores one version without recording it as a change (used by the persistent backend). */
  restore(key: K, timestamp: number, value: V | null): void {
    const id = keyId(key);
    let history = this.histories.get(id);
    if (!history) this.histories.set(id, (history = { key, versions: [] }));
    const at = floorIndex(history.versions, timestamp);
    if (at >= 0 && history.versions[at]!.timestamp === timestamp) history.versions[at]!.value = value;
    else history.versions.splice(at + 1, 0, { timestamp, value });
    this.observed = Math.max(this.observed, timestamp);
  }

  private record(id: string, key: K, timestamp: number, value: V | null | undefined): void {
    if (!this.changes.enabled) return;
    const change: VersionChange<V> | null = value === undefined ? null : { value };
    this.changes.record({ id: `${timestamp}|${id}`, key, value: change, windowStart: timestamp });
  }

  /** Drops the versions of one key that no query within the retention can reach: those followed by a version at or before the bound. */
  private prune(id: string, history: History<K, V>): void {
    const bound = this.observed - this.historyRetentionMs;
    const versions = history.versions;
    let drop = 0;
    while (drop + 1 < versions.length && versions[drop + 1]!.timestamp <= bound) drop++;
    if (drop === 0) return;
    for (const gone of versions.splice(0, drop)) this.record(id, history.key, gone.timestamp, undefined);
  }

  private maybeSweep(): void {
    const segment = Math.floor((this.observed - this.historyRetentionMs) / this.segmentIntervalMs);
    if (segment <= this.lastSweepSegment) return;
    this.lastSweepSegment = segment;
    for (const [id, history] of this.histories) this.prune(id, history);
  }
}
