import { ChangeLog } from './change-log.ts';
import { compareKeys, keyId } from './key-id.ts';
import type { KeyValue, KeyValueStore } from './store.ts';

/**
 * The key-value store every task uses: a map in the task's memory. A persistent backend (Redis)
 * loads it on restore and writes its change log at each commit.
 */
export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly type = 'key-value' as const;
  readonly changes = new ChangeLog();
  private readonly entries = new Map<string, KeyValue<K, V>>();

  constructor(readonly name: string) {}

  get(key: K): V | undefined {
    return this.entries.get(keyId(key))?.value;
  }

  put(key: K, value: V | null): void {
    const id = keyId(key);
    if (value === null || value === undefined) {
      if (this.entries.delete(id) && this.changes.enabled) this.changes.record({ id, key, value: null });
      return;
    }
    // An entry never leaves the store (reads copy it out): a key's update changes it in place.
    const entry = this.entries.get(id);
    if (entry === undefined) this.entries.set(id, { key, value });
    else {
      entry.key = key;
      entry.value = value;
    }
    if (this.changes.enabled) this.changes.record({ id, key, value });
  }

  putIfAbsent(key: K, value: V): V | undefined {
    const existing = this.get(key);
    if (existing === undefined) this.put(key, value);
    return existing;
  }

  delete(key: K): V | undefined {
    const existing = this.get(key);
    this.put(key, null);
    return existing;
  }

  range(from?: K, to?: K): KeyValue<K, V>[] {
    return this.all().filter(
      (e) => (from === undefined || compareKeys(e.key, from) >= 0) && (to === undefined || compareKeys(e.key, to) <= 0),
    );
  }

  all(): KeyValue<K, V>[] {
    return [...this.entries.values()].sort((a, b) => compareKeys(a.key, b.key)).map((e) => ({ key: e.key, value: e.value }));
  }

  approximateNumEntries(): number {
    return this.entries.size;
  }

  /** Restores an entry without recording it as a change (used by the persistent backend). */
  restore(key: K, value: V): void {
    this.entries.set(keyId(key), { key, value });
  }
}
