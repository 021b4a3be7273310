import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.ts';
import { onDriftAlert } from './drift.ts';
import type { ScoreStage } from './model.ts';

/** The Prometheus registry holding every model metric; merge it into an app's registry with `mergeModelMetrics`. */
export const modelMetrics = new Registry();

const LATENCY_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const SCORE_BUCKETS = Array.from({ length: 21 }, (_, i) => Math.round((i / 10 - 1) * 10) / 10);
const DIFF_BUCKETS = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 1];

const latency = new Histogram({
  name: 'tributary_model_inference_latency_ms',
  help: 'Time to run one batch through the model (queueing for the session included), in milliseconds',
  labelNames: ['model', 'version'] as const,
  buckets: LATENCY_BUCKETS_MS,
  registers: [modelMetrics],
});
const batchSize = new Histogram({
  name: 'tributary_model_batch_size',
  help: 'Rows per inference batch',
  labelNames: ['model', 'version'] as const,
  buckets: BATCH_BUCKETS,
  registers: [modelMetrics],
});
const rows = new Counter({
  name: 'tributary_model_rows_scored_total',
  help: 'Rows scored successfully',
  labelNames: ['model', 'version'] as const,
  registers: [modelMetrics],
});
const errors = new Counter({
  name: 'tributary_model_errors_total',
  help: 'Rows that could not be scored, by the stage that failed',
  labelNames: ['model', 'version', 'stage'] as const,
  registers: [modelMetrics],
});
const predicted = new Counter({
  name: 'tributary_model_predictions_total',
  help: 'Rows scored, by the label predicted (the distribution of the label output)',
  labelNames: ['model', 'version', 'label'] as const,
  registers: [modelMetrics],
});
const score = new BucketHistogram(
  'tributary_model_score',
  'Distribution of the score output (probability of the positive class, or anomaly score)',
  SCORE_BUCKETS,
  [modelMetrics],
);
const drift = new Gauge({
  name: 'tributary_model_drift_psi',
  help: 'Population stability index of a feature (or the score output) over the recent window against training',
  labelNames: ['model', 'version', 'feature'] as const,
  registers: [modelMetrics],
});
const driftThreshold = new Gauge({
  name: 'tributary_model_drift_threshold',
  help: 'The PSI above which a drift alert fires for this model version',
  labelNames: ['model', 'version'] as const,
  registers: [modelMetrics],
});
const driftAlerts = new Counter({
  name: 'tributary_model_drift_alerts_total',
  help: 'Drift alerts raised: a feature (or the score output) whose PSI crossed the threshold upwards',
  labelNames: ['model', 'version', 'feature'] as const,
  registers: [modelMetrics],
});
onDriftAlert((alert) => driftAlerts.inc({ model: alert.model, version: alert.version, feature: alert.feature }));
const trafficWeight = new Gauge({
  name: 'tributary_model_traffic_weight',
  help: 'The configured share of a traffic split (A/B, canary) that routes to this version, normalised to sum 1',
  labelNames: ['model', 'version'] as const,
  registers: [modelMetrics],
});
const trafficRouted = new Counter({
  name: 'tributary_model_traffic_routed_total',
  help: 'Rows a traffic split (A/B, canary) routed to this version',
  labelNames: ['model', 'version'] as const,
  registers: [modelMetrics],
});
const activeVersion = new Gauge({
  name: 'tributary_model_active_version',
  help: 'The version a registry model currently routes new batches to',
  labelNames: ['model'] as const,
  registers: [modelMetrics],
});
const reloads = new Counter({
  name: 'tributary_model_reloads_total',
  help: 'Hot reloads by outcome (switched, or failed and kept the previous version)',
  labelNames: ['model', 'version', 'outcome'] as const,
  registers: [modelMetrics],
});
const shadowComparisons = new Counter({
  name: 'tributary_model_shadow_comparisons_total',
  help: 'Rows scored by both a primary and a shadow candidate, by whether their labels agree',
  labelNames: ['model', 'primary', 'candidate', 'agree'] as const,
  registers: [modelMetrics],
});
const shadowAgreement = new Gauge({
  name: 'tributary_model_shadow_agreement_ratio',
  help: 'Share of compared rows where the candidate agrees with the primary',
  labelNames: ['model', 'primary', 'candidate'] as const,
  registers: [modelMetrics],
});
const shadowScoreDiff = new BucketHistogram(
  'tributary_model_shadow_score_diff',
  'Absolute difference between the candidate score and the primary score',
  DIFF_BUCKETS,
  [modelMetrics],
);

/** Registers every model metric in another registry too (e.g. prom-client's global one); idempotent. */
export function mergeModelMetrics(target: Registry): void {
  const all = [latency, batchSize, rows, errors, predicted, score, drift, driftThreshold, driftAlerts, trafficWeight, trafficRouted, activeVersion, reloads, shadowComparisons, shadowAgreement, shadowScoreDiff];
  for (const metric of all) {
    const name = (metric as unknown as { name: string }).name;
    if (target.getSingleMetric(name) === undefined) target.registerMetric(metric as Metric);
  }
}

/** The metric children of one model version, resolved once so the hot path does no label lookups. */
export interface ModelInstruments {
  batch(size: number, latencyMs: number): void;
  scored(count: number): void;
  failed(stage: ScoreStage, count?: number): void;
  score(value: number): void;
  /** Rows per predicted label in one batch (one counter update per label, not per row). */
  labels(counts: ReadonlyMap<string | number, number>): void;
  /** One PSI computation of a feature, with the threshold its alerts use. */
  drift(feature: string, psi: number, threshold: number): void;
}

export function instrumentsFor(model: string, version: string): ModelInstruments {
  const labels = { model, version };
  const latencyChild = latency.labels(labels);
  const batchChild = batchSize.labels(labels);
  const rowsChild = rows.labels(labels);
  const scoreChild = score.labels(labels);
  return {
    batch: (size, ms) => {
      batchChild.observe(size);
      latencyChild.observe(ms);
    },
    scored: (count) => rowsChild.inc(count),
    failed: (stage, count = 1) => errors.inc({ model, version, stage }, count),
    score: (value) => scoreChild.observe(value),
    labels: (counts) => {
      for (const [label, count] of counts) predicted.inc({ model, version, label: String(label) }, count);
    },
    drift: (feature, psi, threshold) => {
      drift.set({ model, version, feature }, psi);
      driftThreshold.set(labels, threshold);
    },
  };
}

/** Records which version a registry model serves, and each reload's outcome. */
export const registryInstruments = {
  active: (model: string, version: string): void => activeVersion.set({ model }, Number(version)),
  reload: (model: string, version: string, outcome: 'switched' | 'failed'): void =>
    reloads.inc({ model, version, outcome }),
};

/** Publishes the configured shares of a traffic split (normalised); returns the counter of rows routed to a version. */
export function trafficInstruments(model: string, shares: readonly { version: string; share: number }[]): (version: string, rows: number) => void {
  for (const { version, share } of shares) trafficWeight.set({ model, version }, share);
  const children = new Map(shares.map(({ version }) => [version, trafficRouted.labels({ model, version })]));
  return (version, rows) => children.get(version)?.inc(rows);
}

/** Records one shadow comparison. */
export function shadowInstruments(model: string, primary: string, candidate: string): (agree: boolean, scoreDiff: number | undefined) => void {
  const labels = { model, primary, candidate };
  let compared = 0;
  let agreed = 0;
  const diff = shadowScoreDiff.labels(labels);
  return (agree, scoreDiff) => {
    compared++;
    if (agree) agreed++;
    shadowComparisons.inc({ ...labels, agree: String(agree) });
    shadowAgreement.set(labels, agreed / compared);
    if (scoreDiff !== undefined) diff.observe(Math.abs(scoreDiff));
  };
}
