import type { TaskStateBackend } from '../state/backend.ts';
import { tpKey } from '../transport/transport.ts';
import type { ExactlyOnceTask } from './exactly-once.ts';
import type { PartitionQueue } from './partition-queue.ts';
import type { StreamTask } from './task.ts';

/** A task this instance runs, with its partition queues and where it is in its commits. */
export interface RunningTask {
  readonly task: StreamTask;
  readonly queues: PartitionQueue[];
  readonly backend: TaskStateBackend | undefined;
  ready: boolean;
  /** `workDone` at the last commit, to skip commits with nothing new. */
  committedWork: number;
  /** Offsets last committed to the group, by `topic:partition`. */
  readonly groupCommitted: Map<string, number>;
  /** Where each partition started (checkpoint or committed offset), by `topic:partition`. */
  readonly startPositions: Map<string, number>;
  /** Exactly-once: the task's outbox, changelogs and transactional producer. */
  readonly eos: ExactlyOnceTask | undefined;
}

/** True when a store of the task has changes not committed yet. */
export function hasPendingChanges(task: StreamTask): boolean {
  for (const store of task.ownStores().values()) {
    const changes = (store as { changes?: { size: number } }).changes;
    if (changes && changes.size > 0) return true;
  }
  return false;
}

/** What a task did that a commit must record: records processed, punctuations, positions moved past markers. */
export function workDone(task: StreamTask): number {
  return task.metrics.processed + task.metrics.punctuations + task.metrics.skips;
}

/** Once a queue is empty, its task's position moves past the offsets skipped after its last record. */
export function applySkip(rt: RunningTask, queue: PartitionQueue): void {
  if (queue.skippedTo < 0 || queue.size > 0 || !rt.ready) return;
  rt.task.skipTo(tpKey(queue.topic, queue.partition), queue.skippedTo);
  queue.skippedTo = -1;
}

/** The larger of two offsets, either of which may be unknown. */
export function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
