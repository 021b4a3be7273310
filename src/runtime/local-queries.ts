import type { Serde } from '../serdes/serde.ts';
import type { ReadOnlyKeyValueStore, ReadOnlySessionStore, ReadOnlyVersionedKeyValueStore, ReadOnlyWindowStore, StateStore, StoreSpec } from '../state/store.ts';
import { TopologyError } from '../topology/errors.ts';
import type { SubTopology } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';
import { partitionForKey } from '../transport/partitioner.ts';
import type { TopicPartition } from '../transport/transport.ts';
import type { PartitionQueue } from './partition-queue.ts';
import type { RunningTask } from './running-task.ts';
import { keyValueView, sessionView, versionedView, windowView } from './store-views.ts';
import type { InstanceRegistry, KeyQueryMetadata, StreamsMetadata } from './streams-metadata.ts';

/** What `store(name)` returns: the view that fits the store's type. */
export type QueryableStore = ReadOnlyKeyValueStore<unknown, unknown> | ReadOnlyWindowStore<unknown, unknown> | ReadOnlySessionStore<unknown, unknown>;

/** What the interactive queries read of the running application. */
export interface QueryDeps {
  /** The topology as run (its pattern sources resolved at start). */
  topology(): Topology;
  readonly tasks: ReadonlyMap<string, RunningTask>;
  readonly queues: ReadonlyMap<string, PartitionQueue>;
  /** The global tables' stores, once loaded. */
  globalStores(): ReadonlyMap<string, StateStore> | undefined;
  partitionCount(topic: string): number | undefined;
  /** A sub-topology's source topics as named on the broker. */
  sourcesOf(sub: SubTopology): string[];
  readonly registry: InstanceRegistry | undefined;
}

/**
 * Interactive queries over this instance's tasks (Kafka Streams' `store(StoreQueryParameters)`)
 * and the metadata that says which instance hosts a key (`queryMetadataForKey`, `metadataForAllStreamsClients`).
 */
export class LocalQueries {
  constructor(private readonly deps: QueryDeps) {}

  store<K, V>(name: string): ReadOnlyKeyValueStore<K, V> {
    // API.md's `app.store(name)` names any store: a window or session store gives its window or
    // session view at run time (`windowStore`/`sessionStore` give the same, typed).
    const type = this.deps.topology().stores.get(name)?.type;
    if (type === 'window' || type === 'session') {
      const view: QueryableStore = type === 'window' ? this.windowStore(name) : this.sessionStore(name);
      return view as unknown as ReadOnlyKeyValueStore<K, V>;
    }
    const spec = this.spec(name, 'key-value');
    return keyValueView<K, V>(() => this.localStores(name), spec.timestamped ?? false);
  }

  windowStore<K, V>(name: string): ReadOnlyWindowStore<K, V> {
    const spec = this.spec(name, 'window');
    return windowView<K, V>(() => this.localStores(name), spec.timestamped ?? false);
  }

  versionedStore<K, V>(name: string): ReadOnlyVersionedKeyValueStore<K, V> {
    const spec = this.spec(name, 'key-value');
    if (!spec.versioned) throw new TopologyError(`store '${name}' keeps no history: query it with store('${name}'), or create the table with { versioned: { historyRetention } }`);
    return versionedView<K, V>(() => this.localStores(name));
  }

  sessionStore<K, V>(name: string): ReadOnlySessionStore<K, V> {
    this.spec(name, 'session');
    return sessionView<K, V>(() => this.localStores(name));
  }

  async streamsMetadata(): Promise<StreamsMetadata[]> {
    if (!this.deps.registry) return [{ ...this.localMetadata(), host: 'local' }];
    return this.deps.registry.instances();
  }

  async queryMetadataForKey(storeName: string, key: unknown): Promise<KeyQueryMetadata> {
    const topology = this.deps.topology();
    const spec = topology.stores.get(storeName);
    if (!spec) throw new TopologyError(`no store named '${storeName}' in this topology (stores: ${[...topology.stores.keys()].join(', ') || 'none'})`);
    const sub = topology.subTopologies.find((s) => s.stores.includes(storeName));
    if (!sub || spec.global) throw new TopologyError(`store '${storeName}' is a global store: every instance holds all of it, query any`);
    const topic = this.deps.sourcesOf(sub)[0]!;
    const count = this.deps.partitionCount(topic);
    if (count === undefined) throw new Error(`queryMetadataForKey needs the partition count of '${topic}': call it after start()`);
    const bytes = (spec.keySerde ?? sourceKeySerde(sub))?.serialize(key, topic);
    if (!bytes) throw new TopologyError(`store '${storeName}' has no key serde to place key ${JSON.stringify(key)} with`);
    const partition = partitionForKey(bytes, count);
    const taskId = `${sub.id}_${partition}`;
    const instances = await this.streamsMetadata();
    return { activeHost: instances.find((i) => i.tasks.includes(taskId))?.host, standbyHosts: [], partition, taskId };
  }

  /** This instance's tasks, partitions and stores, as it publishes them. */
  localMetadata(partitions?: TopicPartition[]): StreamsMetadata {
    const tasks = [...this.deps.tasks.keys()].sort();
    const stores = new Set<string>();
    for (const sub of this.deps.topology().subTopologies) if (tasks.some((t) => t.startsWith(`${sub.id}_`))) for (const name of sub.stores) stores.add(name);
    const topicPartitions = partitions ?? [...this.deps.queues.values()].map((q) => ({ topic: q.topic, partition: q.partition }));
    return { host: this.deps.registry?.advertisedUrl ?? 'local', tasks, topicPartitions, stateStoreNames: [...stores].sort() };
  }

  private spec(name: string, type: 'key-value' | 'window' | 'session'): StoreSpec {
    const stores = this.deps.topology().stores;
    const spec = stores.get(name);
    if (!spec) throw new TopologyError(`no store named '${name}' in this topology (stores: ${[...stores.keys()].join(', ') || 'none'})`);
    if (spec.type !== type) {
      const method = spec.type === 'window' ? 'windowStore' : spec.type === 'session' ? 'sessionStore' : 'store';
      throw new TopologyError(`store '${name}' is a ${spec.type} store: query it with ${method}('${name}')`);
    }
    return spec;
  }

  /** The named store of each restored task here, and the global one. */
  private localStores(name: string): StateStore[] {
    const stores: StateStore[] = [];
    for (const rt of this.deps.tasks.values()) {
      const store = rt.task.ownStores().get(name);
      if (store && rt.ready) stores.push(store);
    }
    const global = this.deps.globalStores()?.get(name);
    if (global) stores.push(global);
    return stores;
  }
}

function sourceKeySerde(sub: SubTopology): Serde<unknown> | undefined {
  for (const node of sub.nodes) if (node.kind === 'source' && node.keySerde) return node.keySerde as Serde<unknown>;
  return undefined;
}
