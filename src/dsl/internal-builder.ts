import type { ProcessorSupplier } from '../processors/api.ts';
import type { Serde } from '../serdes/serde.ts';
import type { StoreSpec } from '../state/store.ts';
import { TopologyError } from '../topology/errors.ts';
import type { ProcessorNode, SinkNode, SourceNode, TopologyNode } from '../topology/nodes.ts';

/** Default serdes of a builder; `null` means "no default: every source, sink and store must name one". */
export interface SerdeDefaults {
  keySerde: Serde<unknown> | null;
  valueSerde: Serde<unknown> | null;
}

/**
 * Records the nodes and stores the DSL declares, in declaration order, and names them the way
 * Kafka Streams does (`KSTREAM-FILTER-0000000001`). It executes nothing.
 */
export class InternalBuilder {
  readonly nodes: TopologyNode[] = [];
  readonly stores = new Map<string, StoreSpec>();
  /** Groups of nodes (join inputs) whose source topics must be co-partitioned. */
  readonly copartitionGroups: string[][] = [];
  /** Windowed aggregation nodes → how long after a window's end it closes (grace; gap + grace for sessions), for `suppress(untilWindowCloses())`. */
  readonly windowCloseDelays = new Map<string, number>();
  private counter = 0;

  constructor(readonly defaults: SerdeDefaults) {}

  /** A fresh generated name: `<prefix><10-digit index>`. */
  newName(prefix: string): string {
    return `${prefix}${String(this.counter++).padStart(10, '0')}`;
  }

  /** The given name, or a generated one. */
  name(given: string | undefined, prefix: string): string {
    if (given !== undefined) {
      this.counter++;
      return given;
    }
    return this.newName(prefix);
  }

  /**
   * Uses up `count` indexes: Kafka Streams' builder gives an index to every node, named or not, so
   * an operator whose nodes get fixed names skips them to keep later generated names as Kafka's.
   */
  skipIndexes(count: number): void {
    this.counter += count;
  }

  addSource(node: Omit<SourceNode, 'kind'>): string {
    this.nodes.push({ kind: 'source', ...node });
    return node.name;
  }

  addProcessor(name: string, parents: string[], supplier: ProcessorSupplier, stores: string[] = []): string {
    const node: ProcessorNode = { kind: 'processor', name, parents, supplier, stores };
    this.nodes.push(node);
    return name;
  }

  addSink(node: Omit<SinkNode, 'kind'>): string {
    this.nodes.push({ kind: 'sink', ...node });
    return node.name;
  }

  addStore(spec: StoreSpec): void {
    if (this.stores.has(spec.name)) {
      throw new TopologyError(`a store named '${spec.name}' already exists: give each store a unique name`);
    }
    this.stores.set(spec.name, spec);
  }

  /** Requires the source topics feeding these nodes to be co-partitioned (the inputs of a join). */
  copartition(nodeNames: string[]): void {
    this.copartitionGroups.push([...nodeNames]);
  }
}
