import { TopologyError } from './errors.ts';
import type { SourceNode, TopologyNode } from './nodes.ts';
import type { Topology } from './topology.ts';

/**
 * The topics that must be co-partitioned, from the join inputs the DSL recorded: for each node,
 * the source topics that feed it within its sub-topology (repartition topics included, as Kafka
 * Streams does: an upstream key change is handled by the repartition topic, not by its source).
 * Groups that share a topic are merged; each group is sorted, and global sources never count.
 */
export function copartitionTopicGroups(nodes: readonly TopologyNode[], nodeGroups: readonly (readonly string[])[]): string[][] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const sourceTopicsOf = (name: string, seen = new Set<string>()): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    const node = byName.get(name);
    if (!node) return [];
    if (node.kind === 'source') return node.globalStore === undefined ? node.topics : [];
    return node.parents.flatMap((p) => sourceTopicsOf(p, seen));
  };
  const groups: Set<string>[] = [];
  for (const group of nodeGroups) {
    const topics = new Set(group.flatMap((name) => sourceTopicsOf(name)));
    if (topics.size < 2) continue;
    const overlapping = groups.filter((g) => [...topics].some((t) => g.has(t)));
    const merged = new Set([...topics, ...overlapping.flatMap((g) => [...g])]);
    for (const g of overlapping) groups.splice(groups.indexOf(g), 1);
    groups.push(merged);
  }
  return groups.map((g) => [...g].sort());
}

/**
 * Checks that the topics of each co-partition group have the same number of partitions, so that
 * partition *p* of a join's inputs holds the same keys. `partitionsFor(topic)` gives the count of
 * an input topic (or `undefined` when it is not known yet, which is not checked). Internal
 * repartition topics take the count of the other topics in their group and never fail, unless
 * their partition count was set explicitly (`repartition({ partitions })`).
 *
 * Returns, for each internal topic in a group (unprefixed name), the partition count it must be
 * created with. Throws a {@link TopologyError} naming the topics and their counts when they differ.
 */
export function validateCopartitioning(topology: Topology, partitionsFor: (topic: string) => number | undefined): Map<string, number> {
  const internal = new Set(topology.nodes.filter((n): n is SourceNode => n.kind === 'source' && n.internal).flatMap((n) => n.topics));
  const explicit = new Map<string, number>();
  for (const node of topology.nodes) {
    if (node.kind === 'sink' && node.internal && typeof node.topic === 'string' && node.partitions !== undefined) {
      explicit.set(node.topic, node.partitions);
    }
  }
  const required = new Map<string, number>();
  for (const group of topology.copartitionGroups()) {
    const counts = new Map<string, number>();
    for (const topic of group) {
      const count = internal.has(topic) ? explicit.get(topic) : partitionsFor(topic);
      if (count !== undefined) counts.set(topic, count);
    }
    const distinct = new Set(counts.values());
    if (distinct.size > 1) {
      const listing = [...counts].map(([topic, n]) => `'${topic}' has ${n}`).join(', ');
      throw new TopologyError(
        `topics [${group.join(', ')}] are joined, so they must be co-partitioned (the same number of partitions), but ${listing}: ` +
          'give them the same partition count, or repartition one side with repartition({ partitions })',
      );
    }
    const [count] = distinct;
    if (count === undefined) continue;
    for (const topic of group) if (internal.has(topic)) required.set(topic, count);
  }
  return required;
}
