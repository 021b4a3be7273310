import { InMemoryKeyValueStore } from './memory-kv.ts';
import { compareKeys, keyId } from './key-id.ts';
import type { CombinedKey, KeyValue, SubscriptionStore } from './store.ts';

/**
 * A foreign-key join's subscription store: a key-value store (persisted like any other) with an
 * index from each foreign key to its subscribed primary keys, so a right-table update finds its
 * subscribers without scanning the store.
 */
export class InMemorySubscriptionStore<FK, PK, V> extends InMemoryKeyValueStore<CombinedKey<FK, PK>, V> implements SubscriptionStore<FK, PK, V> {
  private readonly byForeignKey = new Map<string, Map<string, CombinedKey<FK, PK>>>();

  override put(key: CombinedKey<FK, PK>, value: V | null): void {
    super.put(key, value);
    if (value === null || value === undefined) this.unindex(key);
    else this.index(key);
  }

  override restore(key: CombinedKey<FK, PK>, value: V): void {
    super.restore(key, value);
    this.index(key);
  }

  subscribers(foreignKey: FK): KeyValue<CombinedKey<FK, PK>, V>[] {
    const keys = this.byForeignKey.get(keyId(foreignKey));
    if (!keys) return [];
    return [...keys.values()]
      .sort((a, b) => compareKeys(a.primaryKey, b.primaryKey))
      .map((key) => ({ key, value: this.get(key)! }));
  }

  private index(key: CombinedKey<FK, PK>): void {
    const id = keyId(key.foreignKey);
    let keys = this.byForeignKey.get(id);
    if (!keys) this.byForeignKey.set(id, (keys = new Map()));
    keys.set(keyId(key.primaryKey), key);
  }

  private unindex(key: CombinedKey<FK, PK>): void {
    const id = keyId(key.foreignKey);
    const keys = this.byForeignKey.get(id);
    if (!keys) return;
    keys.delete(keyId(key.primaryKey));
    if (keys.size === 0) this.byForeignKey.delete(id);
  }
}
