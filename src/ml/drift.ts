/** Input and output drift: population stability index (PSI) over a sliding window against training. */

import { emitModelRecord, type ModelRecord } from './model-records.ts';
import type { ScoreContext } from './model.ts';

/**
 * A training histogram: `edges` are the inner cut points (edges.length + 1 bins); a value's bin is
 * the number of edges strictly below it. `fractions[i]` is the share of training rows in bin i.
 */
export interface BinnedDistribution {
  edges: readonly number[];
  fractions: readonly number[];
}

/** Raised (through `onDrift`) when a feature's PSI crosses the threshold; once per crossing. */
export interface DriftAlert {
  model: string;
  version: string;
  /** The feature name, or the output name (`score`) when `kind` is 'output'. */
  feature: string;
  kind: 'feature' | 'output';
  psi: number;
  threshold: number;
  windowSize: number;
  /** Epoch milliseconds of the check that found it. */
  at: number;
  /** The topic the running application writes this alert to (`DriftOptions.topic`), if any. */
  topic?: string;
}

export interface DriftOptions {
  /** Rows in the sliding window (default 1000). PSI is computed once the window is full. */
  windowSize?: number;
  /** PSI above which an alert fires (default 0.2: "significant shift" in the usual reading). */
  threshold?: number;
  /** Rows between two PSI computations (default windowSize / 10). */
  checkEvery?: number;
  onDrift?: (alert: DriftAlert) => void;
  /**
   * Also write each alert as a record to this topic: the application running the model (the
   * `KafkaStreams` runner, or the test driver) writes it, key `<model>@<version>/<feature>`, value
   * the alert as JSON.
   */
  topic?: string;
}

/** The record an application writes for an alert: key `<model>@<version>/<feature>`, the alert as JSON. */
export function driftAlertRecord(alert: DriftAlert, topic: string): ModelRecord {
  const { topic: _, ...value } = alert;
  return { topic, key: Buffer.from(`${alert.model}@${alert.version}/${alert.feature}`), value: Buffer.from(JSON.stringify(value)), timestamp: alert.at, headers: {} };
}

const alertListeners = new Set<(alert: DriftAlert) => void>();

/** Listens to every drift alert raised in this process; returns the function that stops it. */
export function onDriftAlert(listener: (alert: DriftAlert) => void): () => void {
  alertListeners.add(listener);
  return () => alertListeners.delete(listener);
}

export const DEFAULT_DRIFT_WINDOW = 1000;
export const DEFAULT_DRIFT_THRESHOLD = 0.2;
const EPSILON = 1e-4;

/** The bin of `value`: the number of edges strictly below it (binary search). */
export function binOf(edges: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** PSI = Σ (actual − expected) · ln(actual / expected), with empty bins counted as a small epsilon. */
export function populationStabilityIndex(expected: ArrayLike<number>, counts: ArrayLike<number>, total: number): number {
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, EPSILON);
    const a = Math.max(total > 0 ? counts[i]! / total : 0, EPSILON);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/** The last `windowSize` values of one series, kept as bin counts. */
class WindowedHistogram {
  private readonly edges: Float64Array;
  private readonly expected: Float64Array;
  private readonly counts: Int32Array;
  private readonly ring: Uint16Array;
  private position = 0;
  private filled = 0;
  alerted = false;

  constructor(readonly name: string, readonly kind: 'feature' | 'output', training: BinnedDistribution, windowSize: number) {
    if (training.fractions.length !== training.edges.length + 1) {
      throw new RangeError(`training histogram of '${name}' has ${training.edges.length} edges but ${training.fractions.length} fractions (expected edges + 1)`);
    }
    this.edges = Float64Array.from(training.edges);
    this.expected = Float64Array.from(training.fractions);
    this.counts = new Int32Array(training.fractions.length);
    this.ring = new Uint16Array(windowSize);
  }

  add(value: number): void {
    if (Number.isNaN(value)) return;
    const bin = binOf(this.edges, value);
    if (this.filled === this.ring.length) this.counts[this.ring[this.position]!]!--;
    else this.filled++;
    this.ring[this.position] = bin;
    this.counts[bin]!++;
    this.position = (this.position + 1) % this.ring.length;
  }

  get full(): boolean {
    return this.filled === this.ring.length;
  }

  psi(): number {
    return populationStabilityIndex(this.expected, this.counts, this.filled);
  }
}

/**
 * Tracks drift of a model's input columns and its score against the training histograms.
 * Per row it does one binary search per series; PSI is computed every `checkEvery` rows.
 */
export class DriftMonitor {
  private readonly columns: (WindowedHistogram | undefined)[];
  private readonly score: WindowedHistogram | undefined;
  private readonly windowSize: number;
  private readonly threshold: number;
  private readonly checkEvery: number;
  private sinceCheck = 0;

  /**
   * @param columns the names of the input columns, in tensor order (those without a training histogram are skipped)
   * @param report receives every computed PSI and the threshold (for the gauges)
   */
  constructor(
    private readonly model: string,
    private readonly version: string,
    columns: readonly string[],
    training: { features: Readonly<Record<string, BinnedDistribution>>; outputs?: Readonly<Record<string, BinnedDistribution>> | undefined },
    private readonly options: DriftOptions,
    private readonly report: (feature: string, psi: number, threshold: number) => void,
  ) {
    this.windowSize = Math.max(1, Math.floor(options.windowSize ?? DEFAULT_DRIFT_WINDOW));
    this.threshold = options.threshold ?? DEFAULT_DRIFT_THRESHOLD;
    this.checkEvery = Math.max(1, Math.floor(options.checkEvery ?? this.windowSize / 10));
    this.columns = columns.map((name) => {
      const distribution = training.features[name];
      return distribution === undefined ? undefined : new WindowedHistogram(name, 'feature', distribution, this.windowSize);
    });
    const score = training.outputs?.['score'];
    this.score = score === undefined ? undefined : new WindowedHistogram('score', 'output', score, this.windowSize);
  }

  /** Adds `rows` rows of a row-major [rows, width] feature tensor. */
  observeFeatures(data: ArrayLike<number>, rows: number, width: number): void {
    for (let c = 0; c < this.columns.length && c < width; c++) {
      const histogram = this.columns[c];
      if (histogram === undefined) continue;
      for (let r = 0; r < rows; r++) histogram.add(data[r * width + c]!);
    }
  }

  /** Adds one score per scored row, then computes PSI if `checkEvery` rows have passed. */
  observeScores(scores: ArrayLike<number>, rows = scores.length, context?: ScoreContext): void {
    if (this.score !== undefined) for (let i = 0; i < scores.length; i++) this.score.add(scores[i]!);
    this.sinceCheck += rows;
    if (this.sinceCheck >= this.checkEvery) {
      this.sinceCheck = 0;
      this.check(context);
    }
  }

  /** Computes PSI for every full series now, publishes it and raises alerts on upward crossings. */
  check(context?: ScoreContext): void {
    for (const histogram of [...this.columns, this.score]) {
      if (histogram === undefined || !histogram.full) continue;
      const psi = histogram.psi();
      this.report(histogram.name, psi, this.threshold);
      if (psi > this.threshold && !histogram.alerted) {
        histogram.alerted = true;
        this.alert({
          model: this.model,
          version: this.version,
          feature: histogram.name,
          kind: histogram.kind,
          psi,
          threshold: this.threshold,
          windowSize: this.windowSize,
          at: Date.now(),
          ...(this.options.topic !== undefined ? { topic: this.options.topic } : {}),
        }, context);
      } else if (psi <= this.threshold) {
        histogram.alerted = false;
      }
    }
  }

  private alert(alert: DriftAlert, context: ScoreContext | undefined): void {
    if (alert.topic !== undefined) emitModelRecord(driftAlertRecord(alert, alert.topic), context);
    for (const listener of [this.options.onDrift, ...alertListeners]) {
      try {
        listener?.(alert);
      } catch (error) {
        // a failing alert handler must not fail the records being scored
        process.emitWarning(`drift alert handler threw: ${error instanceof Error ? error.message : String(error)}`, 'TributaryDriftWarning');
      }
    }
  }
}
