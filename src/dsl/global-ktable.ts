import type { Serde } from '../serdes/serde.ts';

/** A table replicated in full to every instance, filled from its topic; joined by a key selector. */
export class GlobalKTable<K, V> {
  /** @internal */
  constructor(
    /** The store holding this table. */ readonly storeName: string,
    /** @internal */ readonly keySerde: Serde<K> | undefined,
    /** @internal */ readonly valueSerde: Serde<V> | undefined,
  ) {}
}
