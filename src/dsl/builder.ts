import type { Serde } from '../serdes/serde.ts';
import { Serdes } from '../serdes/serdes.ts';
import type { StoreSpec } from '../state/store.ts';
import { TopologyError } from '../topology/errors.ts';
import type { TopologyNode } from '../topology/nodes.ts';
import { Topology } from '../topology/topology.ts';
import { InternalBuilder } from './internal-builder.ts';
import { tableSourceProcessor } from '../processors/table-source.ts';
import { versionedTableSourceProcessor } from '../processors/versioned-table-source.ts';
import { versionedSource } from '../processors/versioned-read-through.ts';
import { GlobalKTable } from './global-ktable.ts';
import { KStream } from './kstream.ts';
import { addTableStore, isNamed, KTable } from './ktable.ts';
import { OldValues } from '../processors/old-values.ts';
import type { Consumed, Materialized } from './options.ts';

/**
 * Sources keep Kafka Streams' semantics whatever their serdes: a record's null key or value goes on
 * as null (joins and aggregations drop it), and the serde only ever reads bytes.
 */
function passingNull(serde: Serde<unknown>): Serde<unknown> {
  return {
    name: serde.name,
    serialize: (value, topic) => serde.serialize(value, topic),
    deserialize: (bytes, topic) => (bytes === null ? null : serde.deserialize(bytes, topic)),
  };
}

/** Options of a builder. */
export interface StreamsBuilderOptions {
  /** Key serde of sources, sinks and stores that name none (default `Serdes.string()`; `null`: none, every one must name its own). */
  defaultKeySerde?: Serde<unknown> | null;
  /** Value serde of sources, sinks and stores that name none (default `Serdes.json()`; `null`: none). */
  defaultValueSerde?: Serde<unknown> | null;
}

/** Declares a topology with the fluent DSL; `build()` returns it as plain data. */
export class StreamsBuilder {
  /** @internal */
  readonly internal: InternalBuilder;

  constructor(options: StreamsBuilderOptions = {}) {
    this.internal = new InternalBuilder({
      keySerde: options.defaultKeySerde === undefined ? (Serdes.string() as Serde<unknown>) : options.defaultKeySerde,
      valueSerde: options.defaultValueSerde === undefined ? (Serdes.json() as Serde<unknown>) : options.defaultValueSerde,
    });
  }

  /**
   * A stream of one or more topics, or of every topic whose whole name matches a pattern
   * (`stream(/orders-.+/)`, Kafka Streams' `stream(Pattern)`). Serdes given in `consumed` type the stream.
   */
  stream<K = string, V = unknown>(topics: string | readonly string[] | RegExp, consumed: Consumed<K, V> = {}): KStream<K, V> {
    const pattern = topics instanceof RegExp ? topics : undefined;
    const list = pattern ? [] : typeof topics === 'string' ? [topics] : [...(topics as readonly string[])];
    const name = this.internal.name(consumed.name, 'KSTREAM-SOURCE-');
    this.internal.addSource({
      name,
      topics: list,
      ...(pattern ? { pattern } : {}),
      internal: false,
      ...(consumed.keySerde ? { keySerde: consumed.keySerde as Serde<unknown> } : {}),
      ...(consumed.valueSerde ? { valueSerde: consumed.valueSerde as Serde<unknown> } : {}),
      ...(consumed.timestampExtractor ? { timestampExtractor: consumed.timestampExtractor as never } : {}),
      ...(consumed.offsetReset ? { offsetReset: consumed.offsetReset } : {}),
    });
    return new KStream<K, V>(this.internal, name, consumed.keySerde, consumed.valueSerde, false);
  }

  /**
   * A table of a topic: the latest value per key, materialized in a store (`null` values delete).
   * With `{ versioned: { historyRetention } }` the store keeps each key's history, and a stream
   * joined with the table meets the value as of each stream record's timestamp.
   */
  table<K = string, V = unknown>(topic: string, consumed: Consumed<K, V> = {}, materialized?: Materialized<K, V>): KTable<K, V> {
    // The store's name first, then the source's, as Kafka Streams numbers them.
    const storeName = addTableStore(this.internal, materialized, `${topic}-STATE-STORE-`, consumed.keySerde, consumed.valueSerde);
    const stream = this.stream<K, V>(topic, consumed);
    const name = this.internal.newName('KTABLE-SOURCE-');
    const oldValues = OldValues.source(isNamed(materialized));
    const processor = materialized?.versioned ? versionedTableSourceProcessor(storeName, oldValues) : tableSourceProcessor(storeName, oldValues);
    this.internal.addProcessor(name, [stream.nodeName], processor, [storeName]);
    const readThrough = materialized?.versioned ? versionedSource<K, V>(storeName) : undefined;
    return new KTable<K, V>(this.internal, name, materialized?.keySerde ?? consumed.keySerde, materialized?.valueSerde ?? consumed.valueSerde, storeName, readThrough, oldValues);
  }

  /** A table replicated in full to every instance (no co-partitioning needed to join it). */
  globalTable<K = string, V = unknown>(topic: string, consumed: Consumed<K, V> = {}, materialized?: Materialized<K, V>): GlobalKTable<K, V> {
    if (materialized?.versioned) throw new TopologyError(`globalTable('${topic}'): a global table cannot be versioned here; use builder.table(topic, consumed, { versioned: { historyRetention } })`);
    const storeName = materialized?.storeName ?? this.internal.newName(`${topic}-STATE-STORE-`);
    const ks = materialized?.keySerde ?? consumed.keySerde;
    const vs = materialized?.valueSerde ?? consumed.valueSerde;
    this.internal.addStore({ name: storeName, type: 'key-value', timestamped: true, global: true, ...(ks ? { keySerde: ks as Serde<unknown> } : {}), ...(vs ? { valueSerde: vs as Serde<unknown> } : {}) });
    const sourceName = this.internal.name(consumed.name, 'KSTREAM-SOURCE-');
    this.internal.addSource({
      name: sourceName, topics: [topic], internal: false, globalStore: storeName,
      ...(consumed.keySerde ? { keySerde: consumed.keySerde as Serde<unknown> } : {}),
      ...(consumed.valueSerde ? { valueSerde: consumed.valueSerde as Serde<unknown> } : {}),
    });
    this.internal.addProcessor(this.internal.newName('KTABLE-SOURCE-'), [sourceName], tableSourceProcessor(storeName), [storeName]);
    return new GlobalKTable<K, V>(storeName, ks, vs);
  }

  /** Declares a store for custom processors: `addStateStore({ name: 'seen', type: 'key-value' })`. */
  addStateStore<K = unknown, V = unknown>(spec: StoreSpec<K, V>): this {
    this.internal.addStore(spec as StoreSpec);
    return this;
  }

  /** The topology declared so far, validated; fills in default serdes. */
  build(): Topology {
    const nodes = this.internal.nodes.map((node) => this.withSerdes(node));
    const stores = new Map([...this.internal.stores].map(([name, spec]) => [name, this.storeWithSerdes(spec)]));
    return new Topology(nodes, stores, this.internal.copartitionGroups);
  }

  private withSerdes(node: TopologyNode): TopologyNode {
    if (node.kind === 'processor') return node;
    const where = node.kind === 'source' ? `source '${node.name}' (topics ${node.topics.join(', ')})` : `sink '${node.name}'${typeof node.topic === 'string' ? ` (topic ${node.topic})` : ''}`;
    const keySerde = this.serde(node.keySerde, 'key', where);
    const valueSerde = this.serde(node.valueSerde, 'value', where);
    if (node.kind === 'sink') return { ...node, keySerde, valueSerde };
    return { ...node, keySerde: passingNull(keySerde), valueSerde: passingNull(valueSerde) };
  }

  private storeWithSerdes(spec: StoreSpec): StoreSpec {
    const where = `store '${spec.name}'`;
    return { ...spec, keySerde: this.serde(spec.keySerde, 'key', where), valueSerde: this.serde(spec.valueSerde, 'value', where) };
  }

  private serde(given: Serde<unknown> | undefined, which: 'key' | 'value', where: string): Serde<unknown> {
    const serde = given ?? (which === 'key' ? this.internal.defaults.keySerde : this.internal.defaults.valueSerde);
    if (!serde) {
      throw new TopologyError(`${where} has no ${which} serde and the builder has no default: pass { ${which}Serde } or set default${which === 'key' ? 'Key' : 'Value'}Serde`);
    }
    return serde;
  }
}
