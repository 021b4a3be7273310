import type { RuntimeMetrics } from '../metrics/runtime-metrics.ts';
import { FencedError } from '../state/backend.ts';
import { parseTpKey, ProducerFencedError, type TopicPartitionOffset, type Transport } from '../transport/transport.ts';
import { errorMessage } from './errors.ts';
import type { RepartitionPurger } from './repartition-purge.ts';
import { hasPendingChanges, workDone, type RunningTask } from './running-task.ts';

/** What committing needs from the application. */
export interface CommitDeps {
  readonly applicationId: string;
  readonly transport: Transport;
  readonly metrics: RuntimeMetrics;
  readonly exactlyOnce: boolean;
  /** With a state backend the Redis checkpoint is the truth and a failed group commit only warns. */
  readonly hasBackend: boolean;
  log(message: string): void;
  /** Whether the task is still this instance's (not retired meanwhile). */
  isCurrent(rt: RunningTask): boolean;
  /** Closes a task whose commit found it fenced. */
  retireTask(rt: RunningTask): void;
  /** Deletes committed records from the repartition topics (after each durable commit). */
  readonly purger?: RepartitionPurger;
}

/**
 * The commit protocol (DESIGN.md section 4). At-least-once: drain the tasks, flush the producer
 * and wait for the acks, write each task's state changes, source offsets and applied positions in
 * one atomic, epoch-guarded Redis script, then commit the same offsets to the consumer group.
 * Exactly-once: one Kafka transaction per task, then its Redis commit.
 */
export class TaskCommitter {
  /** Commit rounds so far. */
  count = 0;

  constructor(private readonly deps: CommitDeps) {}

  async commit(tasks: RunningTask[]): Promise<void> {
    const ready = tasks.filter((rt) => rt.ready && this.deps.isCurrent(rt));
    if (ready.length === 0) return;
    const started = performance.now();
    await Promise.all(ready.map((rt) => rt.task.drain()));
    if (this.deps.exactlyOnce) {
      this.purge(await this.commitTransactions(ready));
      this.count++;
      this.deps.metrics.commitDuration.observe(performance.now() - started);
      return;
    }
    await this.deps.transport.flush();
    const groupOffsets: TopicPartitionOffset[] = [];
    const durable: ReadonlyMap<string, number>[] = [];
    // Marked as committed to the group only once the group took them, so a refused commit (a
    // rebalance's new generation) is sent again at the next commit even if the offsets did not move.
    const marks: (() => void)[] = [];
    await Promise.all(
      ready.map(async (rt) => {
        const work = workDone(rt.task);
        const offsets = rt.task.consumedOffsets;
        if (rt.backend && (work !== rt.committedWork || hasPendingChanges(rt.task))) {
          try {
            await rt.backend.commit(offsets, rt.task.applied.entries());
            this.deps.metrics.commits.inc({ outcome: 'ok' });
          } catch (error) {
            if (!(error instanceof FencedError)) {
              this.deps.metrics.commits.inc({ outcome: 'failed' });
              throw error;
            }
            this.deps.metrics.commits.inc({ outcome: 'fenced' });
            this.deps.log(`${error.message}; closing it here`);
            this.deps.retireTask(rt);
            return;
          }
        }
        rt.committedWork = work;
        durable.push(new Map(offsets));
        for (const [key, offset] of offsets) {
          if (rt.groupCommitted.get(key) === offset) continue;
          groupOffsets.push({ ...parseTpKey(key), offset });
          marks.push(() => rt.groupCommitted.set(key, offset));
        }
      }),
    );
    if (groupOffsets.length > 0) {
      try {
        await this.deps.transport.commitOffsets(groupOffsets);
        for (const mark of marks) mark();
      } catch (error) {
        if (!this.deps.hasBackend) throw error;
        this.deps.log(`committing offsets to the consumer group failed (the Redis checkpoint stays the source of truth): ${errorMessage(error)}`);
      }
    }
    this.purge(durable);
    this.count++;
    this.deps.metrics.commitDuration.observe(performance.now() - started);
  }

  /** Exactly-once: one transaction per task with work since its last commit, then its Redis commit. */
  private async commitTransactions(ready: RunningTask[]): Promise<ReadonlyMap<string, number>[]> {
    const durable: ReadonlyMap<string, number>[] = [];
    const results = await Promise.allSettled(
      ready.map(async (rt) => {
        const work = workDone(rt.task);
        if (work === rt.committedWork && rt.eos!.outbox.length === 0 && !hasPendingChanges(rt.task)) return;
        try {
          await rt.eos!.commit(rt.task.consumedOffsets, this.deps.applicationId, rt.backend);
          this.deps.metrics.commits.inc({ outcome: 'ok' });
        } catch (error) {
          if (!(error instanceof ProducerFencedError || error instanceof FencedError)) {
            this.deps.metrics.commits.inc({ outcome: 'failed' });
            throw error;
          }
          this.deps.metrics.commits.inc({ outcome: 'fenced' });
          this.deps.log(`task ${rt.task.id}: ${error.message}; closing it here`);
          this.deps.retireTask(rt);
          return;
        }
        rt.committedWork = work;
        durable.push(new Map(rt.task.consumedOffsets));
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return durable;
  }

  private purge(durable: ReadonlyMap<string, number>[]): void {
    const purger = this.deps.purger;
    if (!purger) return;
    for (const offsets of durable) purger.committed(offsets);
    purger.maybePurge();
  }
}
