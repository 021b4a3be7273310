import type { StoreSpec } from '../state/store.ts';
import { copartitionTopicGroups } from './copartition.ts';
import { describeTopology, topologyToMermaid } from './describe.ts';
import { TopologyError } from './errors.ts';
import type { SinkNode, SourceNode, SubTopology, TopologyNode } from './nodes.ts';
import { splitSubTopologies } from './subtopologies.ts';

/**
 * A built topology: plain data (nodes, edges, stores) that can be printed, compared and run.
 * `StreamsBuilder.build()` makes one; the runtime and the test driver execute it.
 */
export class Topology {
  readonly nodes: readonly TopologyNode[];
  readonly stores: ReadonlyMap<string, StoreSpec>;
  readonly subTopologies: readonly SubTopology[];
  /** Sources of global stores with the nodes that fill them; they run in every instance, outside tasks. */
  readonly globalNodes: readonly TopologyNode[];
  private readonly copartitioned: string[][];
  private readonly copartitionNodes: readonly (readonly string[])[];

  /** `copartition`: groups of nodes (join inputs) whose source topics must be co-partitioned. */
  constructor(nodes: TopologyNode[], stores: Map<string, StoreSpec>, copartition: readonly (readonly string[])[] = []) {
    validate(nodes, stores);
    this.nodes = nodes;
    this.copartitionNodes = copartition;
    this.stores = stores;
    const global = globalNodeNames(nodes);
    this.globalNodes = nodes.filter((n) => global.has(n.name));
    this.subTopologies = splitSubTopologies(nodes, stores, global);
    this.copartitioned = copartitionTopicGroups(nodes, copartition);
  }

  /** Groups of source topics (internal ones unprefixed) that joins require to be co-partitioned. */
  copartitionGroups(): string[][] {
    return this.copartitioned.map((group) => [...group]);
  }

  /** The topology in Kafka Streams' text format. */
  describe(): string {
    return describeTopology(this.subTopologies as SubTopology[], this.globalNodes.filter((n) => n.kind === 'source'), this.nodes as TopologyNode[], this.stores as Map<string, StoreSpec>);
  }

  /** A Mermaid flowchart of the topology. */
  toMermaid(): string {
    return topologyToMermaid(this.subTopologies as SubTopology[], this.nodes as TopologyNode[]);
  }

  /** Every topic the topology reads that is not internal. */
  sourceTopics(): string[] {
    return [...new Set(this.nodes.filter((n): n is SourceNode => n.kind === 'source' && !n.internal).flatMap((n) => n.topics))];
  }

  /** Every fixed topic the topology writes that is not internal. */
  sinkTopics(): string[] {
    return [...new Set(this.nodes.filter((n): n is SinkNode => n.kind === 'sink' && !n.internal && typeof n.topic === 'string').map((n) => n.topic as string))];
  }

  /** Internal (repartition) topics, unprefixed, with the partition count asked for (if any). */
  internalTopics(): { topic: string; partitions?: number }[] {
    return this.nodes
      .filter((n): n is SinkNode => n.kind === 'sink' && n.internal && typeof n.topic === 'string')
      .map((n) => ({ topic: n.topic as string, ...(n.partitions !== undefined ? { partitions: n.partitions } : {}) }));
  }

  /** The topic patterns of sources that subscribe by pattern (`builder.stream(/orders-.+/)`). */
  sourcePatterns(): RegExp[] {
    return this.nodes.flatMap((n) => (n.kind === 'source' && n.pattern ? [n.pattern] : []));
  }

  /**
   * This topology with each pattern source reading the existing topics its pattern matches, as
   * Kafka Streams resolves a pattern subscription against the cluster's topics. A pattern that
   * matches no topic is an error naming it.
   */
  withPatternsResolved(topicNames: readonly string[]): Topology {
    if (this.sourcePatterns().length === 0) return this;
    const nodes = this.nodes.map((node) => {
      if (node.kind !== 'source' || !node.pattern) return node;
      const topics = topicNames.filter((t) => matchesWhole(node.pattern!, t)).sort();
      if (topics.length === 0) throw new TopologyError(`source '${node.name}' reads the topics matching /${node.pattern.source}/, and no topic matches: create one (or fix the pattern)`);
      return { ...node, topics };
    });
    return new Topology(nodes, new Map(this.stores), this.copartitionNodes);
  }

  node(name: string): TopologyNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }
}

/** Whether the whole of `topic` matches `pattern`, as Java's `Pattern.matcher(topic).matches()`. */
export function matchesWhole(pattern: RegExp, topic: string): boolean {
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, '')).test(topic);
}

function globalNodeNames(nodes: TopologyNode[]): Set<string> {
  const global = new Set(nodes.filter((n) => n.kind === 'source' && n.globalStore !== undefined).map((n) => n.name));
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) {
      if (n.kind !== 'source' && !global.has(n.name) && n.parents.some((p) => global.has(p))) {
        global.add(n.name);
        grew = true;
      }
    }
  }
  return global;
}

function validate(nodes: TopologyNode[], stores: Map<string, StoreSpec>): void {
  const names = new Set<string>();
  for (const node of nodes) {
    if (names.has(node.name)) {
      throw new TopologyError(`two nodes are named '${node.name}': give each operator a unique name`);
    }
    names.add(node.name);
  }
  const readers = new Map<string, string>();
  for (const node of nodes) {
    if (node.kind === 'source') {
      if (node.topics.length === 0 && !node.pattern) throw new TopologyError(`source '${node.name}' reads no topic: name at least one`);
      for (const topic of node.topics) {
        const other = readers.get(topic);
        if (other !== undefined) {
          throw new TopologyError(`topic '${topic}' is read by both '${other}' and '${node.name}': read it once and reuse the stream (or use merge)`);
        }
        readers.set(topic, node.name);
      }
      continue;
    }
    for (const parent of node.parents) {
      if (!names.has(parent)) throw new TopologyError(`'${node.name}' reads from '${parent}', which is not in the topology`);
    }
    if (node.kind === 'processor') {
      for (const store of node.stores) {
        if (!stores.has(store)) {
          throw new TopologyError(`processor '${node.name}' uses store '${store}', which was never added: call builder.addStateStore({ name: '${store}', type: 'key-value' }) first`);
        }
      }
    }
  }
}
