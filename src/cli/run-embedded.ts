import type { DemoRecord, TopologyDefinition } from '../dsl/topology-file.ts';
import type { Serde } from '../serdes/serde.ts';
import type { SinkNode, SourceNode } from '../topology/nodes.ts';
import { TopologyTestDriver } from '../testing/driver.ts';
import { TestInputTopic } from '../testing/input-topic.ts';
import { Serdes } from '../serdes/serdes.ts';

/** What an embedded run reports at the end. */
export interface EmbeddedSummary {
  inputRecords: number;
  outputs: Record<string, number>;
  deadLettered: number;
  elapsedMs: number;
}

/**
 * Runs a topology file on the in-memory broker with in-memory state and feeds its `demo` input,
 * printing progress once a second and a summary at the end.
 */
export async function runEmbedded(definition: TopologyDefinition, demo: Iterable<DemoRecord>, log: (line: string) => void): Promise<EmbeddedSummary> {
  const topology = definition.build();
  const applicationId = definition.config.applicationId;
  const driver = new TopologyTestDriver(topology, { applicationId, errorHandling: 'dead-letter', startTimeMs: Date.now() });
  const inputs = new Map<string, TestInputTopic<unknown, unknown>>();
  for (const node of topology.nodes) {
    if (node.kind !== 'source' || node.internal) continue;
    const source = node as SourceNode;
    for (const topic of source.topics) inputs.set(topic, driver.createInputTopic(topic, source.keySerde as Serde<unknown>, source.valueSerde as Serde<unknown>));
  }
  const sinks = topology.nodes.filter((n): n is SinkNode => n.kind === 'sink' && !n.internal && typeof n.topic === 'string');
  const outputs = new Map(sinks.map((s) => [s.topic as string, driver.createOutputTopic(s.topic as string, Serdes.bytes(), Serdes.bytes())]));
  const outputCounts: Record<string, number> = {};
  const drainOutputs = (): void => {
    for (const [topic, out] of outputs) outputCounts[topic] = (outputCounts[topic] ?? 0) + out.readRecordsToList().length;
  };
  const started = Date.now();
  let lastReport = started;
  let count = 0;
  let sinceReport = 0;
  for (const record of demo) {
    const input = inputs.get(record.topic);
    if (!input) throw new Error(`the demo writes to '${record.topic}', which the topology does not read (it reads: ${[...inputs.keys()].join(', ')})`);
    await input.pipeInput(record.key, record.value, record.timestamp);
    count++;
    sinceReport++;
    const now = Date.now();
    if (now - lastReport >= 1_000) {
      drainOutputs();
      log(`${count} records in, ${Math.round((sinceReport * 1000) / (now - lastReport))} records/s, outputs ${JSON.stringify(outputCounts)}, dead-lettered ${driver.metrics().deadLettered}`);
      lastReport = now;
      sinceReport = 0;
    }
  }
  drainOutputs();
  const summary = { inputRecords: count, outputs: outputCounts, deadLettered: driver.metrics().deadLettered, elapsedMs: Date.now() - started };
  await driver.close();
  return summary;
}
