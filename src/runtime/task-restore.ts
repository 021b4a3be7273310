import type { RuntimeMetrics } from '../metrics/runtime-metrics.ts';
import { FencedError, type RestoreProgress } from '../state/backend.ts';
import { tpKey, type TopicPartitionOffset, type Transport } from '../transport/transport.ts';
import type { ExactlyOnceTask } from './exactly-once.ts';
import { maxDefined, type RunningTask } from './running-task.ts';

/** What restoring needs from the application. */
export interface RestoreDeps {
  readonly applicationId: string;
  readonly transport: Transport;
  readonly metrics: RuntimeMetrics;
  readonly exactlyOnce: boolean;
  readonly onRestoreProgress: ((progress: RestoreProgress) => void) | undefined;
  log(message: string): void;
  /** Closes a task that turned out to be fenced while restoring. */
  retireTask(rt: RunningTask): void;
}

/**
 * Restores newly assigned tasks (DESIGN.md section 4): at-least-once from the Redis snapshot and
 * checkpoint (else the group's committed offsets); exactly-once by claiming the transactional id,
 * loading the snapshot, replaying the changelogs and resuming from the committed offsets.
 */
export class TaskRestorer {
  constructor(private readonly deps: RestoreDeps) {}

  /** Loads the tasks' state and positions them at their checkpoint (or the group's committed offset). */
  async restore(opened: RunningTask[]): Promise<void> {
    if (opened.length === 0) return;
    if (this.deps.exactlyOnce) {
      await this.measureJoinedQueues(opened);
      return this.restoreExactlyOnce(opened);
    }
    const partitions = opened.flatMap((rt) => rt.queues.map((q) => ({ topic: q.topic, partition: q.partition })));
    const committed = await this.deps.transport.committedOffsets(this.deps.applicationId, partitions);
    await this.measureJoinedQueues(opened);
    for (const rt of opened) {
      let checkpoint = new Map<string, number>();
      if (rt.backend) {
        const restored = await rt.backend.open((progress) => {
          this.deps.onRestoreProgress?.(progress);
        });
        checkpoint = restored.offsets;
        rt.task.applied.restore(restored.applied);
        for (const [name] of rt.task.ownStores()) this.deps.metrics.restoredEntries.inc({ store: name }, 0);
        if (restored.entries > 0) this.deps.metrics.restoredEntries.inc({ store: rt.task.id }, restored.entries);
      }
      for (const queue of rt.queues) {
        const key = tpKey(queue.topic, queue.partition);
        const offset = checkpoint.get(key) ?? committed.get(key);
        if (offset === undefined) continue;
        queue.reset(offset);
        rt.startPositions.set(key, offset);
        rt.groupCommitted.set(key, committed.get(key) ?? -1);
        this.deps.transport.seek({ topic: queue.topic, partition: queue.partition, offset });
      }
      rt.ready = true;
    }
  }

  /** The tasks with several input partitions learn where those partitions start and end (for `maxTaskIdleMs`). */
  private async measureJoinedQueues(opened: RunningTask[]): Promise<void> {
    const joined = opened.filter((rt) => rt.queues.length > 1);
    const ranges = joined.length > 0 ? await this.deps.transport.offsetRange([...new Set(joined.flatMap((rt) => rt.queues.map((q) => q.topic)))]) : new Map<string, { low: number; high: number }>();
    for (const queue of joined.flatMap((rt) => rt.queues)) {
      const range = ranges.get(tpKey(queue.topic, queue.partition));
      if (range) {
        queue.low = range.low;
        queue.knownEnd = Math.max(queue.knownEnd, range.high);
      }
    }
  }

  /**
   * Exactly-once restore: first the tasks' transactional producers (fencing a zombie owner and
   * aborting its open transaction), then the Redis snapshot and checkpoint, then the changelogs
   * from the checkpoint's offsets to their end (read_committed), then Redis catches up with what
   * they replayed. Input positions are the group's committed offsets, which the transactions wrote.
   */
  private async restoreExactlyOnce(opened: RunningTask[]): Promise<void> {
    await Promise.all(opened.map((rt) => rt.eos!.claim(this.deps.transport)));
    const starts: TopicPartitionOffset[] = [];
    const replaying = new Map<string, ExactlyOnceTask>();
    const checkpoints = new Map<RunningTask, Map<string, number>>();
    for (const rt of opened) {
      let checkpoint = new Map<string, number>();
      if (rt.backend) {
        const restored = await rt.backend.open((progress) => this.deps.onRestoreProgress?.(progress));
        checkpoint = restored.offsets;
        rt.task.applied.restore(restored.applied);
        for (const [name] of rt.task.ownStores()) this.deps.metrics.restoredEntries.inc({ store: name }, 0);
        if (restored.entries > 0) this.deps.metrics.restoredEntries.inc({ store: rt.task.id }, restored.entries);
      }
      checkpoints.set(rt, checkpoint);
      for (const start of rt.eos!.changelogStarts(checkpoint)) {
        starts.push(start);
        replaying.set(tpKey(start.topic, start.partition), rt.eos!);
      }
    }
    await this.deps.transport.readCommitted!(starts, (records) => replaying.get(tpKey(records[0]!.topic, records[0]!.partition))?.apply(records));
    const partitions = opened.flatMap((rt) => rt.queues.map((q) => ({ topic: q.topic, partition: q.partition })));
    const committed = await this.deps.transport.committedOffsets(this.deps.applicationId, partitions);
    for (const rt of opened) {
      if (rt.eos!.replayed > 0) this.deps.metrics.restoredEntries.inc({ store: rt.task.id }, rt.eos!.replayed);
      const inputs = new Map<string, number>();
      for (const queue of rt.queues) {
        const key = tpKey(queue.topic, queue.partition);
        // Redis gets a task's input offsets only after its transaction committed them, so an
        // answer from the group below Redis's is stale (an offset commit not yet visible, KIP-447):
        // resuming there would process committed input twice.
        const offset = maxDefined(committed.get(key), checkpoints.get(rt)?.get(key));
        if (offset === undefined) continue;
        inputs.set(key, offset);
        queue.reset(offset);
        rt.startPositions.set(key, offset);
        this.deps.transport.seek({ topic: queue.topic, partition: queue.partition, offset });
      }
      try {
        await rt.eos!.settle(inputs, rt.backend);
      } catch (error) {
        if (!(error instanceof FencedError)) throw error;
        this.deps.log(`${error.message}; closing it here`);
        this.deps.retireTask(rt);
        continue;
      }
      rt.ready = true;
    }
  }
}
