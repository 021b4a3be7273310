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

  /** The at-least-once commit whose writes go on while the tasks process on (`begin`). */
  private inFlight: Promise<void> | undefined;
  private failure: unknown;
  private failed = false;

  /** Commits the tasks and waits for every write (rebalances, shutdown); waits for an overlapping commit first. */
  async commit(tasks: RunningTask[]): Promise<void> {
    await this.settle();
    await this.start(tasks);
  }

  /**
   * The loop's commit. At-least-once with every backend able to `prepare`: drains the tasks,
   * takes the commit's snapshot (source offsets, applied positions, the stores' changes, the
   * producer's records so far) and returns; the flush, the Redis writes and the group commit go on
   * while the tasks process further records, which the next commit covers. One commit at a time:
   * the next `begin` waits for this one. A failure is thrown by the next `begin`, `commit` or `check`.
   */
  async begin(tasks: RunningTask[]): Promise<void> {
    while (this.inFlight) await this.inFlight;
    this.check();
    const writes = this.start(tasks, true);
    const pending = writes.then(
      () => undefined,
      (error: unknown) => {
        this.failure = error;
        this.failed = true;
      },
    );
    this.inFlight = pending;
    void pending.finally(() => {
      if (this.inFlight === pending) this.inFlight = undefined;
    });
    await this.snapshotTaken;
  }

  /** Throws the error of a commit that failed in the background. */
  check(): void {
    if (!this.failed) return;
    this.failed = false;
    throw this.failure;
  }

  /** Waits for the overlapping commit, if any; throws its error (which the loop's `check` still reports). */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.failed) throw this.failure;
  }

  /** Resolved once `start(…, true)` took its snapshot (or gave up overlapping). */
  private snapshotTaken: Promise<void> = Promise.resolve();

  private start(tasks: RunningTask[], overlap = false): Promise<void> {
    let taken!: () => void;
    this.snapshotTaken = new Promise<void>((resolve) => (taken = resolve));
    const run = this.run(tasks, overlap, taken);
    // Until the snapshot is taken a failure belongs to the caller of `begin` as well.
    void run.catch(() => taken());
    return run;
  }

  private async run(tasks: RunningTask[], overlap: boolean, taken: () => void): Promise<void> {
    const ready = tasks.filter((rt) => rt.ready && this.deps.isCurrent(rt));
    if (ready.length === 0) return taken();
    const started = performance.now();
    await Promise.all(ready.map((rt) => rt.task.drain()));
    if (this.deps.exactlyOnce) {
      this.purge(await this.commitTransactions(ready));
      taken();
      this.count++;
      this.deps.metrics.commitDuration.observe(performance.now() - started);
      return;
    }
    // The snapshot, synchronously: what the tasks did up to here, and the records sent up to here.
    const flushed = this.deps.transport.flush();
    const snapshot = ready.map((rt) => {
      const work = workDone(rt.task);
      const offsets = new Map(rt.task.consumedOffsets);
      const applied = rt.task.applied.entries();
      const dirty = rt.backend !== undefined && (work !== rt.committedWork || hasPendingChanges(rt.task));
      return { rt, work, offsets, applied, dirty, prepared: dirty && overlap ? rt.backend?.prepare?.() : undefined };
    });
    // A backend that cannot take its changes now would write later changes with these offsets.
    if (!snapshot.some((s) => s.dirty && !s.prepared) || !overlap) taken();
    await flushed;
    const groupOffsets: TopicPartitionOffset[] = [];
    const durable: ReadonlyMap<string, number>[] = [];
    // Marked as committed to the group only once the group took them, so a refused commit (a
    // rebalance's new generation) is sent again at the next commit even if the offsets did not move.
    const marks: (() => void)[] = [];
    await Promise.all(
      snapshot.map(async ({ rt, work, offsets, applied, dirty, prepared }) => {
        if (dirty) {
          try {
            await (prepared ? prepared.write(offsets, applied) : rt.backend!.commit(offsets, applied));
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
        durable.push(offsets);
        for (const [key, offset] of offsets) {
          if (rt.groupCommitted.get(key) === offset) continue;
          groupOffsets.push({ ...parseTpKey(key), offset });
          marks.push(() => rt.groupCommitted.set(key, offset));
        }
      }),
    );
    taken();
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
