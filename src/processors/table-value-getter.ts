import type { Windowed } from '../serdes/serdes.ts';
import type { KeyValueStore, SessionStore, StateStore, ValueAndTimestamp, WindowStore } from '../state/store.ts';

/** A table's current row for a key, with the timestamp of its last update; `undefined` when absent. */
export type TableValueGetter<K, V> = (key: K) => ValueAndTimestamp<V> | undefined;

/**
 * Reads a table's row from the store behind it, as Kafka Streams' `KTableValueGetter` does: a
 * key-value table by key; a windowed table (`KTable<Windowed<K>, V>`) from its window store, by key
 * and window start; a session-windowed table from its session store, by key and session, with the
 * session end as the row's timestamp. So windowed tables can be joined like any other table.
 */
export function tableValueGetter<K, V>(store: StateStore): TableValueGetter<K, V> {
  switch (store.type) {
    case 'window': {
      const windows = store as WindowStore<unknown, ValueAndTimestamp<V>>;
      return (key) => {
        const { key: inner, window } = key as Windowed<unknown>;
        const row = windows.fetch(inner, window.start);
        return row === undefined || row.value == null ? undefined : row;
      };
    }
    case 'session': {
      const sessions = store as SessionStore<unknown, V>;
      return (key) => {
        const { key: inner, window } = key as Windowed<unknown>;
        const value = sessions.fetchSession(inner, window.start, window.end);
        return value === undefined || value === null ? undefined : { value, timestamp: window.end };
      };
    }
    default: {
      const rows = store as KeyValueStore<K, ValueAndTimestamp<V>>;
      return (key) => rows.get(key);
    }
  }
}
