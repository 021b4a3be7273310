import type { StoreSpec } from '../state/store.ts';
import type { SubTopology, TopologyNode } from './nodes.ts';

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
 * by id, each followed by a blank line; within one, and in each node's `-->`/`<--` lists, nodes
 * with the larger sub-tree first (a node counts itself and, once per path, every node below it),
 * then by name (Kafka's NODE_COMPARATOR); global stores last, with their source and processor.
 */
export function describeTopology(subTopologies: SubTopology[], globalSources: TopologyNode[], allNodes: TopologyNode[], stores: Map<string, StoreSpec>): string {
  const children = childrenOf(allNodes);
  const sizes = new Map<string, number>();
  const size = (name: string): number => {
    let known = sizes.get(name);
    if (known === undefined) {
      known = 1;
      for (const child of children.get(name) ?? []) known += size(child);
      sizes.set(name, known);
    }
    return known;
  };
  const inOrder = (names: readonly string[]): string[] => [...names].sort((a, b) => size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0));
  const describe = (node: TopologyNode): string => describeNode(node, inOrder(children.get(node.name) ?? []), node.kind === 'source' ? [] : inOrder(node.parents));
  let text = 'Topologies:\n ';
  for (const sub of subTopologies) {
    text += `  Sub-topology: ${sub.id}\n`;
    const byName = new Map(sub.nodes.map((node) => [node.name, node]));
    for (const name of inOrder([...byName.keys()])) text += `    ${describe(byName.get(name)!)}\n`;
    text += '\n';
  }
  let globalId = subTopologies.length;
  for (const source of globalSources) {
    if (source.kind !== 'source') continue;
    text += `  Sub-topology: ${globalId++} for global store (will not generate tasks)\n    ${describe(source)}\n`;
    for (const child of children.get(source.name) ?? []) {
      const node = allNodes.find((n) => n.name === child);
      if (node) text += `    ${describe(node)}\n`;
    }
  }
  void stores;
  return text;
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
