import { InMemoryKeyValueStore } from './memory-kv.ts';
import type { StateStore, StoreSpec } from './store.ts';

type StoreMaker = (spec: StoreSpec) => StateStore;

const makers = new Map<string, StoreMaker>([['key-value', (spec) => new InMemoryKeyValueStore(spec.name)]]);

/** Registers the in-memory implementation of a store type (window and session stores add theirs). */
export function registerInMemoryStore(type: StoreSpec['type'], maker: StoreMaker): void {
  makers.set(type, maker);
}

/** Creates the in-memory store a spec describes. */
export function createInMemoryStore(spec: StoreSpec): StateStore {
  const make = makers.get(spec.type);
  if (!make) throw new Error(`no in-memory implementation for ${spec.type} store '${spec.name}'`);
  return make(spec);
}
