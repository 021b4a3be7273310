import type { Subject } from 'rxjs';
import type { RuntimeMetrics } from '../metrics/runtime-metrics.ts';
import { parseTpKey, tpKey, type Transport } from '../transport/transport.ts';
import type { PartitionQueue } from './partition-queue.ts';
import type { RunningTask } from './running-task.ts';
import { StallDetector } from './stall-detector.ts';
import type { RuntimeSnapshot, StallReport, StreamsState, WatchdogOptions } from './streams-config.ts';

/** What the monitor reads of the running application. */
export interface MonitorDeps {
  readonly tasks: ReadonlyMap<string, RunningTask>;
  readonly queues: ReadonlyMap<string, PartitionQueue>;
  readonly transport: Transport;
  readonly metrics: RuntimeMetrics;
  readonly stalls$: Subject<StallReport>;
  state(): StreamsState;
  commits(): number;
  /** The topology's external input topics (resolved at start). */
  externalTopics(): ReadonlySet<string>;
  watchdog: WatchdogOptions | false | undefined;
  log(message: string): void;
  fail(error: Error): void;
}

/**
 * The application's counters (`snapshot()`, the Prometheus metrics, once a second), its lag per
 * partition, and the liveness watchdog that reports a partition whose position stays put while
 * its lag grows.
 */
export class StreamsMonitor {
  /** Records sent, per topic. */
  readonly produced = new Map<string, number>();
  private readonly stalls = new StallDetector();
  /** What `syncMetrics` has reported so far, per task and per topic. */
  private readonly reported = new Map<string, { processed: number; deadLettered: number; duplicates: number }>();
  private readonly reportedProduced = new Map<string, number>();
  private lastLag = 0;
  private retiredProcessed = 0;
  private retiredInput = 0;
  private retiredDeadLettered = 0;
  private lastSnapshot = { at: Date.now(), processed: 0 };

  constructor(private readonly deps: MonitorDeps) {}

  countProduced(topic: string): void {
    this.produced.set(topic, (this.produced.get(topic) ?? 0) + 1);
  }

  snapshot(): RuntimeSnapshot {
    let processed = this.retiredProcessed;
    let processedInput = this.retiredInput;
    let deadLettered = this.retiredDeadLettered;
    for (const rt of this.deps.tasks.values()) {
      processed += rt.task.metrics.processed;
      deadLettered += rt.task.metrics.deadLettered;
      processedInput += this.inputProcessed(rt);
    }
    const now = Date.now();
    const elapsed = Math.max(1, now - this.lastSnapshot.at);
    return {
      state: this.deps.state(),
      tasks: [...this.deps.tasks.keys()].sort(),
      processed,
      processedInput,
      deadLettered,
      produced: Object.fromEntries(this.produced),
      lag: this.lastLag,
      recordsPerSecond: Math.round(((processed - this.lastSnapshot.processed) * 1000) / elapsed),
      commits: this.deps.commits(),
    };
  }

  /** `snapshot()` after moving the counters into the metrics; the next rate counts from here. */
  tick(): RuntimeSnapshot {
    this.syncMetrics();
    const snapshot = this.snapshot();
    this.lastSnapshot = { at: Date.now(), processed: snapshot.processed };
    return snapshot;
  }

  async lag(): Promise<Map<string, number>> {
    const lags = new Map<string, number>();
    const topics = [...new Set([...this.deps.queues.values()].map((q) => q.topic))];
    if (topics.length === 0) return lags;
    const ranges = await this.deps.transport.offsetRange(topics);
    for (const [key, queue] of this.deps.queues) {
      const high = ranges.get(key)?.high;
      if (high === undefined) continue;
      lags.set(key, Math.max(0, high - this.position(key, queue)));
    }
    this.lastLag = [...lags.values()].reduce((a, b) => a + b, 0);
    return lags;
  }

  /** The watchdog's round: reports (and with `failOnStall` fails on) a partition that stalled. */
  async checkLag(): Promise<void> {
    if (this.deps.state() !== 'RUNNING') return;
    const lags = await this.lag();
    const now = Date.now();
    for (const [key, lag] of lags) {
      const queue = this.deps.queues.get(key);
      if (!queue) continue;
      const position = this.position(key, queue);
      this.deps.metrics.lag.set({ topic: queue.topic, partition: String(queue.partition) }, lag);
      const verdict = this.stalls.observe(key, position, lag, now);
      this.deps.metrics.stalled.set({ topic: queue.topic, partition: String(queue.partition) }, verdict.stalled ? 1 : 0);
      if (!verdict.stalled || !verdict.first) continue;
      const taskId = this.ownerOf(queue)?.task.id ?? '?';
      const report: StallReport = { topic: queue.topic, partition: queue.partition, taskId, position, lag, previousLag: verdict.previousLag, stalledForMs: verdict.stalledForMs };
      this.deps.stalls$.next(report);
      this.deps.log(`partition ${key} (task ${taskId}) is stalled: position ${position} has not moved for ${report.stalledForMs} ms while its lag grew from ${verdict.previousLag} to ${lag}`);
      const watchdog = this.deps.watchdog;
      if (watchdog && watchdog.failOnStall) {
        this.deps.fail(new Error(`partition ${key} (task ${taskId}) stalled at offset ${position} with lag ${lag}; failing as the watchdog's failOnStall asks`));
      }
    }
  }

  /** A task leaves: its counters stay in the totals, its per-partition metrics go. */
  retired(rt: RunningTask): void {
    this.syncMetrics();
    this.reported.delete(rt.task.id);
    this.retiredProcessed += rt.task.metrics.processed;
    this.retiredDeadLettered += rt.task.metrics.deadLettered;
    this.retiredInput += this.inputProcessed(rt);
    for (const queue of rt.queues) {
      this.stalls.forget(tpKey(queue.topic, queue.partition));
      this.deps.metrics.lag.remove({ topic: queue.topic, partition: String(queue.partition) });
    }
  }

  /** Moves the tasks' counters into the Prometheus metrics (once a second: no label lookups per record). */
  syncMetrics(): void {
    const metrics = this.deps.metrics;
    for (const rt of this.deps.tasks.values()) {
      const id = rt.task.id;
      const seen = this.reported.get(id) ?? { processed: 0, deadLettered: 0, duplicates: 0 };
      const { processed, deadLettered, duplicates } = rt.task.metrics;
      if (processed > seen.processed) metrics.processed.inc({ task: id }, processed - seen.processed);
      if (deadLettered > seen.deadLettered) metrics.deadLettered.inc({ task: id }, deadLettered - seen.deadLettered);
      if (duplicates > seen.duplicates) metrics.replaysSkipped.inc({ task: id }, duplicates - seen.duplicates);
      this.reported.set(id, { processed, deadLettered, duplicates });
    }
    for (const [topic, count] of this.produced) {
      const seen = this.reportedProduced.get(topic) ?? 0;
      if (count > seen) metrics.produced.inc({ topic }, count - seen);
      this.reportedProduced.set(topic, count);
    }
  }

  private ownerOf(queue: PartitionQueue): RunningTask | undefined {
    for (const rt of this.deps.tasks.values()) if (rt.queues.includes(queue)) return rt;
    return undefined;
  }

  private position(key: string, queue: PartitionQueue): number {
    const rt = this.ownerOf(queue);
    return rt?.task.consumedOffsets.get(key) ?? rt?.startPositions.get(key) ?? Math.max(0, queue.nextOffset - queue.size);
  }

  private inputProcessed(rt: RunningTask): number {
    const external = this.deps.externalTopics();
    let total = 0;
    for (const [key, offset] of rt.task.consumedOffsets) {
      if (!external.has(parseTpKey(key).topic)) continue;
      total += offset - (rt.startPositions.get(key) ?? 0);
    }
    return total;
  }
}
