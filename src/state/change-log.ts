/** One pending change of a store, for the write-behind buffer (`value === null` deletes). */
export interface StoreChange {
  /** The store-internal identity of the entry (see `keyId`). */
  id: string;
  key: unknown;
  value: unknown;
  /** Window stores: the window start; session stores: the session start and end. */
  windowStart?: number;
  windowEnd?: number;
  /** Window stores with `retainDuplicates`: which of the values of one key and window this is. */
  sequence?: number;
}

/**
 * Collects a store's changes between commits, last write per entry wins. Stores only record
 * changes while a persistent backend asked for them, so in-memory runs keep no buffer.
 */
export class ChangeLog {
  private pending = new Map<string, StoreChange>();
  enabled = false;

  record(change: StoreChange): void {
    if (this.enabled) this.pending.set(change.id, change);
  }

  get size(): number {
    return this.pending.size;
  }

  /** The changes since the last `take`, leaving them pending (exactly-once writes them to a changelog first). */
  peek(): StoreChange[] {
    return [...this.pending.values()];
  }

  /** Returns the changes since the last call and starts a new buffer. */
  take(): StoreChange[] {
    const changes = [...this.pending.values()];
    this.pending = new Map();
    return changes;
  }
}
