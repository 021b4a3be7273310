import type { Serde } from '../serdes/serde.ts';
import type { Windowed } from '../serdes/serdes.ts';

/** The kinds of state store. */
export type StoreType = 'key-value' | 'window' | 'session';

/** Every store has a name; the task opens, flushes and closes it. */
export interface StateStore {
  readonly name: string;
  readonly type: StoreType | 'custom';
  close?(): void;
}

/** A key with its value. */
export interface KeyValue<K, V> {
  key: K;
  value: V;
}

/** Read access to a key-value store (what interactive queries and the test driver get). */
export interface ReadOnlyKeyValueStore<K, V> {
  get(key: K): V | undefined;
  /** Entries with `from <= key <= to` in key order (either bound may be omitted). */
  range(from?: K, to?: K): KeyValue<K, V>[];
  /** All entries in key order. */
  all(): KeyValue<K, V>[];
  approximateNumEntries(): number;
}

/** A key-value store. A `null` value deletes the key, as a tombstone does. */
export interface KeyValueStore<K, V> extends StateStore, ReadOnlyKeyValueStore<K, V> {
  readonly type: 'key-value';
  put(key: K, value: V | null): void;
  /** Puts only if the key is absent; returns the value already there, if any. */
  putIfAbsent(key: K, value: V): V | undefined;
  /** Deletes the key; returns its old value. */
  delete(key: K): V | undefined;
}

/** Read access to a window store: values per key and window start. */
export interface ReadOnlyWindowStore<K, V> {
  /** The value of one key in the window starting at `windowStart`. */
  fetch(key: K, windowStart: number): V | undefined;
  /** The windows of one key whose start is in `[timeFrom, timeTo]`, by start: `{ key: windowStart, value }`. */
  fetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  /** Every key's windows whose start is in `[timeFrom, timeTo]`, by start then key. */
  fetchAll(timeFrom: number, timeTo: number): KeyValue<Windowed<K>, V>[];
  /** Every window still retained. */
  all(): KeyValue<Windowed<K>, V>[];
}

/**
 * A window store: `(key, windowStart) → value`. Windows older than the store's observed stream
 * time minus its retention are dropped. With `retainDuplicates` every put is kept (join buffers).
 */
export interface WindowStore<K, V> extends StateStore, ReadOnlyWindowStore<K, V> {
  readonly type: 'window';
  /** Puts (or with `null` deletes) the value of `key` in the window starting at `windowStart`. */
  put(key: K, value: V | null, windowStart: number): void;
}

/** Read access to a session store: aggregates per key and session `[start, end]` (both inclusive). */
export interface ReadOnlySessionStore<K, V> {
  /** Every session of `key`, by start. */
  fetch(key: K): KeyValue<Windowed<K>, V>[];
  /** Sessions of `key` with `end >= earliestSessionEnd` and `start <= latestSessionStart`, by start. */
  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): KeyValue<Windowed<K>, V>[];
  /** The aggregate of one exact session. */
  fetchSession(key: K, sessionStart: number, sessionEnd: number): V | undefined;
  /** Every session still retained, by start then key. */
  all(): KeyValue<Windowed<K>, V>[];
}

/** A session store. Sessions that ended before the observed stream time minus retention are dropped. */
export interface SessionStore<K, V> extends StateStore, ReadOnlySessionStore<K, V> {
  readonly type: 'session';
  /** Puts (or with `null` removes) the aggregate of one session. */
  put(session: Windowed<K>, aggregate: V | null): void;
  remove(session: Windowed<K>): void;
}

/** How a store is declared in a topology (plain data). */
export interface StoreSpec<K = unknown, V = unknown> {
  name: string;
  type: StoreType;
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** Window and session stores: how long windows are kept after they end. */
  retentionMs?: number;
  /** Window stores: the window size. */
  windowSizeMs?: number;
  /** Window stores: keep every value of a key and window (stream-stream joins). */
  retainDuplicates?: boolean;
  /** Global stores are filled from a topic by every instance and are read-only to processors. */
  global?: boolean;
  /** Values are `ValueAndTimestamp` (the DSL's stores); views show the value only. */
  timestamped?: boolean;
  /** Key-value stores keyed by `{ foreignKey, primaryKey }` (a foreign-key join's subscriptions), listable by foreign key. */
  foreignKeyIndexed?: boolean;
  /** Key-value stores that keep each key's history (Kafka Streams' versioned stores): a {@link VersionedKeyValueStore}. */
  versioned?: VersionedStoreOptions;
}

/** How long a versioned store keeps history (`Stores.persistentVersionedKeyValueStore`). */
export interface VersionedStoreOptions {
  /** How far back `get(key, asOfTimestamp)` answers, and how late a put may come, before the newest timestamp put. */
  historyRetentionMs: number;
  /** How often, in stream time, old versions are swept out (Kafka Streams' segment interval). */
  segmentIntervalMs?: number;
}

/** One version of a key in a versioned store: valid from `timestamp` until `validTo` (exclusive; absent for the latest). */
export interface VersionedRecord<V> {
  value: V;
  timestamp: number;
  validTo?: number;
}

/** `put` returns this when the record is the latest version of its key (Kafka's `PUT_RETURN_CODE_VALID_TO_UNDEFINED`). */
export const PUT_RETURN_CODE_VALID_TO_UNDEFINED = -1;
/** `put` returns this when the record was older than the history retention allows, and was not put (Kafka's `PUT_RETURN_CODE_NOT_PUT`). */
export const PUT_RETURN_CODE_NOT_PUT = Number.MIN_SAFE_INTEGER;

/** Read access to a versioned key-value store: the latest version of a key, or the one valid at a time. */
export interface ReadOnlyVersionedKeyValueStore<K, V> {
  /** The latest version of `key`; undefined when there is none or it was deleted. */
  get(key: K): VersionedRecord<V> | undefined;
  /**
   * The version of `key` valid at `asOfTimestamp` (the one with the largest timestamp not after
   * it); undefined when none, when it is a deletion, or when `asOfTimestamp` is older than the
   * history retention, unless the latest version qualifies (the latest version never expires).
   */
  get(key: K, asOfTimestamp: number): VersionedRecord<V> | undefined;
  /**
   * Kafka Streams' `MultiVersionedKeyQuery`: every version of `key` valid at some time in
   * `[fromTime, toTime]` (`timestamp <= toTime` and `validTo > fromTime`), deletions left out,
   * newest first unless `order` is `'ascending'`. When `toTime` is older than the history
   * retention only the latest version can answer, if its timestamp is at most `toTime`.
   */
  getVersions(key: K, query?: VersionsQuery): VersionedRecord<V>[];
}

/** The time range and order of {@link ReadOnlyVersionedKeyValueStore.getVersions}; an absent bound is unbounded. */
export interface VersionsQuery {
  fromTime?: number;
  toTime?: number;
  /** `'descending'` (the default: newest first, what Kafka Streams returns for `ResultOrder.ANY`) or `'ascending'`. */
  order?: 'ascending' | 'descending';
}

/**
 * A key-value store that keeps each key's versions by timestamp, as Kafka Streams'
 * `VersionedKeyValueStore`. Its observed stream time is the largest timestamp put; versions no
 * longer valid at `observedStreamTime - historyRetention` are dropped, and puts older than that
 * are refused. Also readable as a plain key-value store of the latest versions (`range`, `all`).
 */
export interface VersionedKeyValueStore<K, V> extends StateStore, ReadOnlyVersionedKeyValueStore<K, V> {
  readonly type: 'key-value';
  readonly versioned: true;
  readonly historyRetentionMs: number;
  /**
   * Adds a version (`null` records a deletion at `timestamp`); a put at a timestamp the key already
   * has replaces that version. Returns the new version's `validTo`, {@link PUT_RETURN_CODE_VALID_TO_UNDEFINED}
   * when it is the latest, or {@link PUT_RETURN_CODE_NOT_PUT} when it was too old to be put.
   */
  put(key: K, value: V | null, timestamp: number): number;
  /** Records a deletion at `timestamp`; returns the version valid at that time before it (undefined when too old to delete). */
  delete(key: K, timestamp: number): VersionedRecord<V> | undefined;
  /** The latest versions with `from <= key <= to`, in key order (deleted keys left out). */
  range(from?: K, to?: K): KeyValue<K, VersionedRecord<V>>[];
  /** Every key's latest version, in key order (deleted keys left out). */
  all(): KeyValue<K, VersionedRecord<V>>[];
  approximateNumEntries(): number;
}

/** True for the stores that keep history ({@link VersionedKeyValueStore}). */
export function isVersionedStore(store: StateStore | undefined): store is VersionedKeyValueStore<unknown, unknown> {
  return (store as Partial<VersionedKeyValueStore<unknown, unknown>> | undefined)?.versioned === true;
}

/** The key of a foreign-key join's subscription store: the right table's key, then the left table's. */
export interface CombinedKey<FK, PK> {
  readonly foreignKey: FK;
  readonly primaryKey: PK;
}

/** A key-value store keyed by {@link CombinedKey} that lists the entries of one foreign key (Kafka Streams' prefix scan). */
export interface SubscriptionStore<FK, PK, V> extends KeyValueStore<CombinedKey<FK, PK>, V> {
  /** The entries whose foreign key is `foreignKey`, by primary key. */
  subscribers(foreignKey: FK): KeyValue<CombinedKey<FK, PK>, V>[];
}

/** What timestamped stores (the DSL's) keep per key: the value and the timestamp of its last update. */
export interface ValueAndTimestamp<V> {
  value: V;
  timestamp: number;
}

/** A read-only, value-only view of a timestamped key-value store (what interactive queries and the driver show). */
export function valueOnlyView<K, V>(store: ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>>): ReadOnlyKeyValueStore<K, V> {
  const strip = (entries: KeyValue<K, ValueAndTimestamp<V>>[]): KeyValue<K, V>[] => entries.map((e) => ({ key: e.key, value: e.value.value }));
  return {
    get: (key) => store.get(key)?.value,
    range: (from, to) => strip(store.range(from, to)),
    all: () => strip(store.all()),
    approximateNumEntries: () => store.approximateNumEntries(),
  };
}
