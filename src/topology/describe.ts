import type { StoreSpec } from '../state/store.ts';
import type { SubTopology, TopologyNode } from './nodes.ts';
import { JavaTreeSet, javaHashOrder } from './java-order.ts';

function childrenOf(nodes: TopologyNode[]): Map<string, string[]> {
  const children = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  for (const node of nodes) {
    if (node.kind === 'source') continue;
    for (const p of node.parents) children.get(p)?.push(node.name);
  }
  return children;
}

function topicLabel(node: TopologyNode & { kind: 'sink' }): string {
  return typeof node.topic === 'string' ? node.topic : 'extractor';
}

/**
 * The topology in Kafka Streams' `TopologyDescription` text format, byte for byte: sub-topologies
 * by id, each followed by a blank line; within one, nodes with the larger sub-tree first (a node
 * counts itself and, once per path, every node below it), then by name (Kafka's NODE_COMPARATOR);
 * global stores last, with their source and processor. Each node's `-->` and `<--` lists are in
 * the order Kafka's builder leaves them (see {@link connect}).
 */
export function describeTopology(subTopologies: SubTopology[], globalSources: TopologyNode[], allNodes: TopologyNode[], stores: Map<string, StoreSpec>): string {
  const children = childrenOf(allNodes);
  let text = 'Topologies:\n ';
  for (const sub of subTopologies) {
    const { size, successors, predecessors } = connect(sub.nodes);
    const byName = new Map(sub.nodes.map((node) => [node.name, node]));
    const ordered = [...byName.keys()].sort((a, b) => size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0));
    text += `  Sub-topology: ${sub.id}\n`;
    for (const name of ordered) text += `    ${describeNode(byName.get(name)!, successors(name), predecessors(name))}\n`;
    text += '\n';
  }
  let globalId = subTopologies.length;
  for (const source of globalSources) {
    if (source.kind !== 'source') continue;
    const kids = children.get(source.name) ?? [];
    text += `  Sub-topology: ${globalId++} for global store (will not generate tasks)\n    ${describeNode(source, kids, [])}\n`;
    for (const child of kids) {
      const node = allNodes.find((n) => n.name === child);
      if (node) text += `    ${describeNode(node, children.get(child) ?? [], node.kind === 'source' ? [] : node.parents)}\n`;
    }
  }
  void stores;
  return text;
}

/**
 * Connects a sub-topology's nodes as Kafka Streams' `describeSubtopology` does, for its orders:
 * it visits the nodes in Java hash order, adds each node's parents to its predecessors and the
 * node to each parent's successors (TreeSets ordered by sub-tree size, then name, with the sizes of
 * that moment), and only then adds the node's size to each parent and the parents above them.
 */
function connect(nodes: readonly TopologyNode[]): { size: (name: string) => number; successors: (name: string) => string[]; predecessors: (name: string) => string[] } {
  const sizes = new Map(nodes.map((node) => [node.name, 1]));
  const size = (name: string): number => sizes.get(name) ?? 1;
  const compare = (a: string, b: string): number => (a === b ? 0 : size(b) - size(a) || (a < b ? -1 : 1));
  const before = new Map(nodes.map((node) => [node.name, new JavaTreeSet<string>(compare)]));
  const after = new Map(nodes.map((node) => [node.name, new JavaTreeSet<string>(compare)]));
  const parentsOf = new Map(nodes.map((node) => [node.name, node.kind === 'source' ? [] : node.parents.filter((p) => sizes.has(p))]));
  const grow = (name: string, delta: number): void => {
    sizes.set(name, size(name) + delta);
    for (const parent of before.get(name)!.items()) grow(parent, delta);
  };
  for (const name of javaHashOrder(nodes.map((node) => node.name))) {
    for (const parent of parentsOf.get(name)!) {
      before.get(name)!.add(parent);
      after.get(parent)!.add(name);
      grow(parent, size(name));
    }
  }
  return { size, successors: (name) => after.get(name)!.items(), predecessors: (name) => before.get(name)!.items() };
}

/** One node as Kafka Streams' Source/Processor/Sink `toString()`: its line, then its children (`-->`) and parents (`<--`). */
function describeNode(node: TopologyNode, kids: readonly string[], parents: readonly string[]): string {
  const names = (list: readonly string[]): string => (list.length ? list.join(', ') : 'none');
  switch (node.kind) {
    case 'source':
      return `Source: ${node.name} (topics: ${node.pattern ? node.pattern.source : `[${node.topics.join(', ')}]`})\n      --> ${names(kids)}`;
    case 'processor':
      return `Processor: ${node.name} (stores: [${node.stores.join(', ')}])\n      --> ${names(kids)}\n      <-- ${names(parents)}`;
    case 'sink':
      return `Sink: ${node.name} (topic: ${topicLabel(node)})\n      <-- ${names(parents)}`;
  }
}

/** The topology as a Mermaid flowchart: one subgraph per sub-topology, topics as stadiums, stores as cylinders. */
export function topologyToMermaid(subTopologies: SubTopology[], allNodes: TopologyNode[]): string {
  const id = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart TD'];
  const topics = new Set<string>();
  const storeNames = new Set<string>();
  for (const sub of subTopologies) {
    lines.push(`  subgraph sub${sub.id}["Sub-topology ${sub.id}"]`);
    for (const node of sub.nodes) lines.push(`    ${id(node.name)}["${node.name}"]`);
    lines.push('  end');
  }
  for (const node of allNodes) {
    if (node.kind === 'source') {
      for (const t of node.topics) {
        topics.add(t);
        lines.push(`  topic_${id(t)} --> ${id(node.name)}`);
      }
    } else {
      for (const p of node.parents) lines.push(`  ${id(p)} --> ${id(node.name)}`);
      if (node.kind === 'sink' && typeof node.topic === 'string') {
        topics.add(node.topic);
        lines.push(`  ${id(node.name)} --> topic_${id(node.topic)}`);
      }
      if (node.kind === 'processor') {
        for (const s of node.stores) {
          storeNames.add(s);
          lines.push(`  ${id(node.name)} -.- store_${id(s)}`);
        }
      }
    }
  }
  for (const t of topics) lines.push(`  topic_${id(t)}([${t}])`);
  for (const s of storeNames) lines.push(`  store_${id(s)}[(${s})]`);
  return lines.join('\n') + '\n';
}
