import { InMemoryKeyValueStore } from './memory-kv.ts';
import { InMemorySessionStore } from './memory-session.ts';
import { InMemorySubscriptionStore } from './memory-subscription.ts';
import { InMemoryVersionedKeyValueStore } from './memory-versioned.ts';
import { InMemoryWindowStore } from './memory-window.ts';
import type { StateStore, StoreSpec } from './store.ts';

type StoreMaker = (spec: StoreSpec) => StateStore;

const makers = new Map<string, StoreMaker>([
  ['key-value', (spec) => {
    if (spec.versioned) return new InMemoryVersionedKeyValueStore(spec.name, spec.versioned);
    return spec.foreignKeyIndexed ? new InMemorySubscriptionStore(spec.name) : new InMemoryKeyValueStore(spec.name);
  }],
]);

/** Registers the in-memory implementation of a store type (window and session stores add theirs). */
export function registerInMemoryStore(type: StoreSpec['type'], maker: StoreMaker): void {
  makers.set(type, maker);
}

function retentionOf(spec: StoreSpec): number {
  if (spec.retentionMs === undefined) throw new Error(`${spec.type} store '${spec.name}' needs retentionMs (how long windows are kept after they end)`);
  return spec.retentionMs;
}

registerInMemoryStore('window', (spec) => new InMemoryWindowStore(spec.name, {
  retentionMs: retentionOf(spec),
  ...(spec.windowSizeMs !== undefined ? { windowSizeMs: spec.windowSizeMs } : {}),
  ...(spec.retainDuplicates !== undefined ? { retainDuplicates: spec.retainDuplicates } : {}),
}));
registerInMemoryStore('session', (spec) => new InMemorySessionStore(spec.name, { retentionMs: retentionOf(spec) }));

/** Creates the in-memory store a spec describes. */
export function createInMemoryStore(spec: StoreSpec): StateStore {
  const make = makers.get(spec.type);
  if (!make) throw new Error(`no in-memory implementation for ${spec.type} store '${spec.name}'`);
  return make(spec);
}
