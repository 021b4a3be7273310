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

/** The topology in Kafka Streams' `TopologyDescription` text format. */
export function describeTopology(subTopologies: SubTopology[], globalSources: TopologyNode[], allNodes: TopologyNode[], stores: Map<string, StoreSpec>): string {
  const children = childrenOf(allNodes);
  const lines = ['Topologies:'];
  for (const sub of subTopologies) {
    lines.push(`   Sub-topology: ${sub.id}`);
    for (const node of sub.nodes) lines.push(...describeNode(node, children));
  }
  for (const source of globalSources) {
    if (source.kind !== 'source') continue;
    lines.push(`   Sub-topology: ${subTopologies.length} for global store (will not generate tasks)`);
    lines.push(...describeNode(source, children));
    for (const child of children.get(source.name) ?? []) {
      const node = allNodes.find((n) => n.name === child);
      if (node) lines.push(...describeNode(node, children));
    }
  }
  void stores;
  return lines.join('\n') + '\n';
}

function describeNode(node: TopologyNode, children: Map<string, string[]>): string[] {
  const out: string[] = [];
  const kids = children.get(node.name) ?? [];
  switch (node.kind) {
    case 'source':
      out.push(`    Source: ${node.name} (topics: ${node.pattern ? node.pattern.source : `[${node.topics.join(', ')}]`})`);
      break;
    case 'processor':
      out.push(`    Processor: ${node.name} (stores: [${node.stores.join(', ')}])`);
      break;
    case 'sink':
      out.push(`    Sink: ${node.name} (topic: ${topicLabel(node)})`);
      break;
  }
  if (node.kind !== 'sink') out.push(`      --> ${kids.length ? kids.join(', ') : 'none'}`);
  if (node.kind !== 'source') out.push(`      <-- ${node.parents.join(', ')}`);
  return out;
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
