/**
 * How a table that keeps no history of its own answers as-of reads (Kafka Streams'
 * `KTableValueGetter.get(key, asOfTimestamp)` on an unmaterialized `filter`/`mapValues`): by
 * reading the versioned source table's store as of the time and applying the derived tables'
 * filters and mappers to that historical value.
 */
export interface VersionedReadThrough<K, V> {
  /** The versioned store of the source table the reads go to. */
  readonly storeName: string;
  /** The source value, as of some time, seen through the derived tables (`null`: no row then). */
  readonly view: (key: K, sourceValue: unknown) => V | null;
}

/** The read-through of a versioned source table itself: its own store, values as they are. */
export function versionedSource<K, V>(storeName: string): VersionedReadThrough<K, V> {
  return { storeName, view: (_key, value) => value as V };
}

/** The read-through of a table derived by `step` (a filter or mapper applied to the parent's value; `null` in, `null` out). */
export function derivedReadThrough<K, V, V2>(parent: VersionedReadThrough<K, V>, step: (key: K, value: V) => V2 | null | undefined): VersionedReadThrough<K, V2> {
  return {
    storeName: parent.storeName,
    view: (key, sourceValue) => {
      const value = parent.view(key, sourceValue);
      return value === null ? null : (step(key, value) ?? null);
    },
  };
}
