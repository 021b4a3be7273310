import type { StoreSpec } from '../state/store.ts';
import type { SubTopology, TopologyNode } from './nodes.ts';

/**
 * Splits the node graph into sub-topologies: nodes joined by an edge or by a shared store belong
 * together; repartition topics (a sink and a source, no edge) are where the graph splits.
 * Sub-topologies are numbered in the order of their first node, as Kafka Streams does.
 */
export function splitSubTopologies(allNodes: TopologyNode[], stores: Map<string, StoreSpec>, globalNodes: Set<string>): SubTopology[] {
  const nodes = allNodes.filter((n) => !globalNodes.has(n.name));
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const parent = nodes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const storeOwner = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (node.kind !== 'source') for (const p of node.parents) union(i, index.get(p)!);
    if (node.kind === 'processor') {
      for (const store of node.stores) {
        if (stores.get(store)?.global) continue;
        const owner = storeOwner.get(store);
        if (owner === undefined) storeOwner.set(store, i);
        else union(i, owner);
      }
    }
  });
  const groups = new Map<number, TopologyNode[]>();
  nodes.forEach((node, i) => {
    const root = find(i);
    if (!groups.has(root)) groups.set(root, []);
    groups.get(root)!.push(node);
  });
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .map((root, id) => {
      const group = groups.get(root)!;
      const sources = group.filter((n) => n.kind === 'source');
      const storeNames = new Set<string>();
      for (const n of group) if (n.kind === 'processor') for (const s of n.stores) if (!stores.get(s)?.global) storeNames.add(s);
      return {
        id,
        nodes: group,
        sourceTopics: sources.flatMap((s) => s.topics),
        internalSourceTopics: sources.filter((s) => s.internal).flatMap((s) => s.topics),
        stores: [...storeNames],
      };
    });
}
