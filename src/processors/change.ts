/**
 * What a table node forwards: the new value of a key and the one it replaces (`null` = absent / deleted).
 * `isLatest: false` marks an out-of-order update of a versioned table (Kafka Streams' KIP-914): it
 * changed the key's history, not its current value. Absent means `true`.
 */
export interface Change<V> {
  readonly newValue: V | null;
  readonly oldValue: V | null;
  readonly isLatest?: boolean;
}

export function change<V>(newValue: V | null, oldValue: V | null, isLatest = true): Change<V> {
  return isLatest ? { newValue, oldValue } : { newValue, oldValue, isLatest: false };
}

/** Whether a change is its key's latest version (false only for a versioned table's out-of-order update). */
export function isLatestChange(value: Change<unknown>): boolean {
  return value.isLatest !== false;
}
