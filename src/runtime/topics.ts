import { validateCopartitioning } from '../topology/copartition.ts';
import { TopologyError } from '../topology/errors.ts';
import type { Topology } from '../topology/topology.ts';
import { INTERNAL_TOPIC_CONFIGS, REPARTITION_TOPIC_CONFIGS, type TopicLimits, type TopicSpec, type Transport } from '../transport/transport.ts';

/** How `prepareTopics` names and sizes what it creates. */
export interface TopicPlan {
  /** The real name of an internal topic (`<applicationId>-<name>`). */
  resolveInternal(topic: string): string;
  deadLetterTopic: string;
  /** Create missing input and output topics (embedded mode, `--create-topics`) instead of failing. */
  createMissing: boolean;
  /**
   * Partitions of a missing input or output topic created here; `inputs` is the largest partition
   * count of the input topics that exist. -1 asks the broker for its default (`num.partitions`).
   */
  partitionsOf(topic: string, inputs: number | undefined): number;
  /** Exactly-once: the changelog topics, given the partition counts known so far. */
  changelogs: ((known: ReadonlyMap<string, number>) => TopicSpec[]) | undefined;
}

/**
 * Before any record is read: checks that the input and output topics exist (or creates them),
 * validates co-partitioning, and creates the internal repartition topics (the count the topology
 * asks for, else the count of the topics they are joined with, else the largest input's; without
 * time retention, `REPARTITION_TOPIC_CONFIGS`), the
 * dead-letter topic and, for exactly-once, the changelogs. An existing internal or changelog topic
 * with another partition count fails the start. Returns the partition count of every topic involved.
 */
export async function prepareTopics(transport: Transport, topology: Topology, plan: TopicPlan): Promise<Map<string, number>> {
  const sources = topology.sourceTopics();
  const external = [...new Set([...sources, ...topology.sinkTopics()])];
  let counts = await transport.partitionCounts(external);
  const missing = external.filter((t) => !counts.has(t));
  if (missing.length > 0) {
    if (!plan.createMissing) throw missingTopicsError(missing, new Set(sources));
    const existing = sources.map((t) => counts.get(t)).filter((n): n is number => n !== undefined);
    const inputs = existing.length > 0 ? Math.max(...existing) : undefined;
    await transport.createTopics(missing.map((topic) => ({ topic, partitions: plan.partitionsOf(topic, inputs) })));
    counts = await transport.partitionCounts(external);
  }
  const required = validateCopartitioning(topology, (topic) => counts.get(topic));
  const maxSource = Math.max(1, ...sources.map((t) => counts.get(t) ?? 1));
  const internal = topology.internalTopics().map(({ topic, partitions }) => ({
    topic: plan.resolveInternal(topic),
    partitions: partitions ?? required.get(topic) ?? maxSource,
    configs: { ...REPARTITION_TOPIC_CONFIGS },
  }));
  const known = new Map(counts);
  for (const [topic, count] of await createChecked(transport, internal, 'internal')) known.set(topic, count);
  for (const [topic, count] of await createChecked(transport, [{ topic: plan.deadLetterTopic, partitions: 1, configs: { ...INTERNAL_TOPIC_CONFIGS } }], 'dead-letter')) known.set(topic, count);
  const changelogs = plan.changelogs?.(known) ?? [];
  if (changelogs.length > 0) for (const [topic, count] of await createChecked(transport, changelogs, 'changelog')) known.set(topic, count);
  return known;
}

function missingTopicsError(missing: string[], sources: ReadonlySet<string>): TopologyError {
  const listing = missing.map((t) => `'${t}' (${sources.has(t) ? 'input' : 'output'})`).join(', ');
  const many = missing.length > 1;
  return new TopologyError(
    `topic${many ? 's' : ''} ${listing} do${many ? '' : 'es'} not exist: create ${many ? 'them' : 'it'} first, ` +
      `e.g. kafka-topics.sh --bootstrap-server <brokers> --create --topic ${missing[0]} --partitions <n> (or run with --create-topics in development)`,
  );
}

/** Creates the topics that do not exist; an existing one with another partition count is an error (the dead-letter topic may have any). */
async function createChecked(transport: Transport, specs: TopicSpec[], kind: 'internal' | 'dead-letter' | 'changelog'): Promise<Map<string, number>> {
  await transport.createTopics(specs);
  const created = await transport.partitionCounts(specs.map((t) => t.topic));
  if (kind === 'dead-letter') return created;
  for (const spec of specs) {
    const actual = created.get(spec.topic);
    if (actual !== undefined && actual !== spec.partitions) {
      throw new TopologyError(
        `${kind} topic '${spec.topic}' exists with ${actual} partitions but the topology needs ${spec.partitions}` +
          `${kind === 'internal' ? ' (its input topics changed?)' : ''}: delete it, or reset the application`,
      );
    }
  }
  return created;
}

/**
 * A warning for repartition topics that delete records by age (created by an older Tributary, or
 * by hand): a record older than `retention.ms` can be deleted before its downstream task reads it.
 */
export function timeRetentionWarning(limits: ReadonlyMap<string, TopicLimits>, repartitionTopics: Iterable<string>): string | undefined {
  const aged = [...repartitionTopics].filter((topic) => limits.get(topic)?.retentionMs !== undefined);
  if (aged.length === 0) return undefined;
  return (
    `repartition topic${aged.length > 1 ? 's' : ''} ${aged.map((t) => `'${t}' (retention.ms=${limits.get(t)!.retentionMs})`).join(', ')} delete records by age: ` +
    `reprocessing records older than that can lose them before they are read. Tributary purges what it has committed, so set ` +
    `kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name ${aged[0]} --add-config retention.ms=-1`
  );
}
