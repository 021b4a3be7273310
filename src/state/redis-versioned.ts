import type { StoreChange } from './change-log.ts';
import type { KeyCodec, PersistedStore, ValueCodec } from './redis-codec.ts';
import { StoredEntryError } from './redis-codec.ts';
import type { InMemoryVersionedKeyValueStore, VersionChange } from './memory-versioned.ts';

/** A deletion version's stored value (every encoded value starts with another tag, see redis-codec.ts). */
const TOMBSTONE = 'D';

/** Splits a version field, `<timestamp>|<encoded key>`. */
function parseVersionField(field: string): { timestamp: number; key: string } {
  const bar = field.indexOf('|', 1);
  if (bar < 0) throw new StoredEntryError(`a stored version field needs '<timestamp>|' before its key: ${field.slice(0, 60)}`);
  return { timestamp: Number(field.slice(0, bar)), key: field.slice(bar + 1) };
}

/**
 * How a versioned store lives under `prefix`: one hash `:ver:<store>` with a field per version,
 * `<timestamp>|<encoded key>`, whose value is the encoded value or `D` for a deletion. A version
 * the store sweeps out is deleted from the hash at the next commit. The observed stream time is
 * not stored: it is the largest timestamp held, since the latest version of a key is never swept.
 */
export function persistedVersionedStore(prefix: string, store: InMemoryVersionedKeyValueStore<unknown, unknown>, keys: KeyCodec, values: ValueCodec): PersistedStore {
  const decode = (text: string): unknown => (text === TOMBSTONE ? null : values.decode(text));
  return {
    name: store.name,
    changes: store.changes,
    hash: `${prefix}:ver:${store.name}`,
    index: undefined,
    appendsOnRestore: false,
    field: (change: StoreChange) => `${change.windowStart!}|${keys.encode(change.key)}`,
    score: () => 0,
    encodeValue: (value: unknown) => {
      const version = value as VersionChange<unknown>;
      return version.value === null ? TOMBSTONE : values.encode(version.value);
    },
    restore(field, value) {
      const { timestamp, key } = parseVersionField(field);
      store.restore(keys.decode(key), timestamp, decode(value));
      return true;
    },
    apply(field, value) {
      // A dropped version is the store's own sweep, which replaying the puts repeats.
      if (value === null) return;
      const { timestamp, key } = parseVersionField(field);
      store.put(keys.decode(key), decode(value), timestamp);
    },
  };
}
