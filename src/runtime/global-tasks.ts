import { tpKey, type Transport } from '../transport/transport.ts';
import { StreamTask, type TaskEnvironment } from './task.ts';
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

/** What loading global tables needs from the application. */
export interface GlobalTableDeps {
  readonly topology: Topology;
  readonly applicationId: string;
  readonly env: TaskEnvironment;
  /** The application's transport (for end offsets). */
  readonly transport: Transport;
  /** A transport of the global consumer's own (a throwaway group that reads every partition). */
  newTransport(): Transport;
  /** Called at once with the global task and its transport, so that a close can clean them up. */
  own(task: StreamTask, transport: Transport): void;
  onCrash(error: Error): void;
}

/** Global tables: read every partition of their topics to the end before stream tasks start. */
export async function loadGlobalTables(deps: GlobalTableDeps): Promise<void> {
  const global = globalSubTopology(deps.topology);
  if (!global) return;
  const task = new StreamTask(global, 0, deps.env, deps.topology.stores);
  deps.env.globalStores = task.ownStores();
  const topics = task.sourceTopics();
  // Where each partition's records end, from the start of the partition read so far.
  const consumed = new Map<string, number>();
  const unread = async (): Promise<Map<string, number>> => {
    const ranges = await deps.transport.offsetRange(topics);
    return new Map([...ranges].filter(([key, r]) => r.high > Math.max(r.low, consumed.get(key) ?? 0)).map(([key, r]) => [key, r.high]));
  };
  let target = await unread();
  const transport = deps.newTransport();
  deps.own(task, transport);
  await transport.connect();
  let caughtUp!: () => void;
  let failed!: (error: unknown) => void;
  const loaded = new Promise<void>((resolve, reject) => {
    caughtUp = resolve;
    failed = reject;
  });
  let measurements = 1;
  let measuring = false;
  // Loaded once every partition reached the end measured at start and then the ends measured
  // again: an end offset read too early (a broker that had not yet applied a new topic's
  // metadata) must not let stream tasks start on a partly loaded table. Measured twice, not
  // until nothing moves: a table written faster than it is read would never finish loading.
  const check = (): void => {
    if (target.size > 0 || measuring) return;
    if (measurements === 2) return caughtUp();
    measuring = true;
    unread().then((more) => {
      measuring = false;
      measurements = 2;
      for (const [key, high] of more) if ((consumed.get(key) ?? 0) >= high) more.delete(key);
      target = more;
      check();
    }, failed);
  };
  check();
  await transport.subscribe(
    { groupId: `${deps.applicationId}-global-${process.pid}-${Date.now()}`, topics, copartitionGroups: [], autoOffsetReset: 'earliest' },
    {
      onAssignment: async () => undefined,
      onRecords: (records) => {
        for (const record of records) {
          task.process(record);
          const key = tpKey(record.topic, record.partition);
          consumed.set(key, record.offset + 1);
          const high = target.get(key);
          if (high !== undefined && record.offset + 1 >= high) target.delete(key);
        }
        check();
      },
      onCrash: (error) => deps.onCrash(error),
    },
  );
  await loaded;
}
