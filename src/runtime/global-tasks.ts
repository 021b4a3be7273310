import type { SubTopology } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';

/** The id of the pseudo sub-topology that fills global stores. */
export const GLOBAL_SUBTOPOLOGY_ID = -1;

/** The global sources and the nodes that fill global stores, as one sub-topology (or none). */
export function globalSubTopology(topology: Topology): SubTopology | undefined {
  const nodes = [...topology.globalNodes];
  if (nodes.length === 0) return undefined;
  const stores = new Set<string>();
  for (const node of nodes) if (node.kind === 'processor') for (const s of node.stores) stores.add(s);
  const sources = nodes.filter((n) => n.kind === 'source');
  return {
    id: GLOBAL_SUBTOPOLOGY_ID,
    nodes,
    sourceTopics: sources.flatMap((s) => (s.kind === 'source' ? s.topics : [])),
    internalSourceTopics: [],
    stores: [...stores],
  };
}
