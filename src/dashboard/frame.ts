/**
 * The dashboard's numbers: one `DashboardFrame` per sampling tick, computed from two readings of
 * the Prometheus registries (rates are the counters' differences over the tick, latency quantiles
 * come from the histogram buckets' differences, as PromQL's `rate` and `histogram_quantile` do).
 */

/** Every series of the registries at one moment: `metric name` → labelled values. */
export type Reading = Map<string, readonly LabelledValue[]>;

export interface LabelledValue {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** One model version's numbers over a tick. */
export interface ModelFrame {
  rowsPerSecond: number;
  errorsPerSecond: number;
  /** Mean rows per batch over the tick; null without a batch in it. */
  batchSize: number | null;
  /** Inference latency quantiles (ms) over the tick, from the histogram buckets; null without a batch. */
  p50: number | null;
  p99: number | null;
  /** Rows per second by predicted label. */
  labels: Record<string, number>;
  /** The last computed PSI per feature (and `score`). */
  drift: Record<string, number>;
  /** The PSI above which drift alerts fire; null before the first PSI. */
  threshold: number | null;
}

/** A traffic split: configured shares against the shares of rows each version actually scored. */
export interface SplitFrame {
  configured: Record<string, number>;
  /** Shares of the rows the split routed to each version since the start; empty before the first. */
  served: Record<string, number>;
}

/** A shadow pair: share of rows where the candidate agrees, and the mean |score difference| over the tick. */
export interface ShadowFrame {
  agreement: number;
  compared: number;
  scoreDiff: number | null;
}

/** The numbers of one sampling tick. */
export interface DashboardFrame {
  /** Epoch milliseconds of the reading. */
  t: number;
  /** The application's lifecycle state (runner only). */
  state: string | null;
  tasks: number | null;
  /** Input records processed per second, per task. */
  recordsIn: Record<string, number>;
  /** Records written per second, per topic. */
  recordsOut: Record<string, number>;
  /** Records left per source partition (`topic/partition`). */
  lag: Record<string, number>;
  /** Records dead-lettered per second, per stage. */
  deadLettered: Record<string, number>;
  /** Per `model@version`. */
  models: Record<string, ModelFrame>;
  /** Per model name. */
  splits: Record<string, SplitFrame>;
  /** Per `model primary→candidate`. */
  shadows: Record<string, ShadowFrame>;
  /** Model server requests per second, per `transport model outcome`. */
  requests: Record<string, number>;
}

/** Reads prom-client's `getMetricsAsJSON()` output (one registry or several) into a `Reading`. */
export function toReading(metrics: readonly { name: string; values: readonly { labels: Readonly<Partial<Record<string, string | number>>>; value: number; metricName?: string | undefined }[] }[]): Reading {
  const reading: Reading = new Map();
  for (const metric of metrics) {
    for (const { labels, value, metricName } of metric.values) {
      const name = metricName ?? metric.name;
      const list = reading.get(name) as LabelledValue[] | undefined;
      const entry = { labels: Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])), value };
      if (list === undefined) reading.set(name, [entry]);
      else list.push(entry);
    }
  }
  return reading;
}

/** Sums a metric's values grouped by `key(labels)` (a value whose key is undefined is left out). */
function sumBy(reading: Reading, name: string, key: (labels: Readonly<Record<string, string>>) => string | undefined): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { labels, value } of reading.get(name) ?? []) {
    const k = key(labels);
    if (k !== undefined) sums.set(k, (sums.get(k) ?? 0) + value);
  }
  return sums;
}

/** Per-second rates of a counter between two readings, grouped by `key`. */
function rates(previous: Reading, current: Reading, name: string, seconds: number, key: (labels: Readonly<Record<string, string>>) => string | undefined): Record<string, number> {
  const before = sumBy(previous, name, key);
  const out: Record<string, number> = {};
  for (const [k, now] of sumBy(current, name, key)) out[k] = Math.max(0, now - (before.get(k) ?? 0)) / seconds;
  return out;
}

const version = (l: Readonly<Record<string, string>>): string | undefined => (l['model'] === undefined ? undefined : `${l['model']}@${l['version'] ?? ''}`);

/**
 * The q-quantile of the observations between two readings of a histogram (one label set), by
 * linear interpolation inside the bucket, as PromQL's `histogram_quantile`; null with none.
 */
export function quantileBetween(previous: Reading, current: Reading, name: string, q: number, match: (labels: Readonly<Record<string, string>>) => boolean): number | null {
  const buckets = (reading: Reading): Map<number, number> => {
    const byLe = new Map<number, number>();
    for (const { labels, value } of reading.get(`${name}_bucket`) ?? []) {
      if (!match(labels)) continue;
      const le = labels['le'] === '+Inf' ? Infinity : Number(labels['le']);
      byLe.set(le, (byLe.get(le) ?? 0) + value);
    }
    return byLe;
  };
  const before = buckets(previous);
  const delta = [...buckets(current)].map(([le, count]) => ({ le, count: count - (before.get(le) ?? 0) })).sort((a, b) => a.le - b.le);
  const total = delta.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const { le, count } of delta) {
    if (count >= rank) {
      if (le === Infinity) return lowerLe;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? le : lowerLe + ((le - lowerLe) * (rank - lowerCount)) / inBucket;
    }
    lowerLe = le;
    lowerCount = count;
  }
  return lowerLe;
}

/** The frame for the tick from `previous` (taken at `previousAt`) to `current` (at `at`). */
export function frameBetween(previous: Reading, previousAt: number, current: Reading, at: number): DashboardFrame {
  const seconds = Math.max(0.001, (at - previousAt) / 1000);
  const stateSeries = current.get('tributary_state');
  const tasksSeries = current.get('tributary_active_tasks');
  const models: Record<string, ModelFrame> = {};
  const modelRows = rates(previous, current, 'tributary_model_rows_scored_total', seconds, version);
  const modelErrors = rates(previous, current, 'tributary_model_errors_total', seconds, version);
  const batchRows = rates(previous, current, 'tributary_model_batch_size_sum', seconds, version);
  const batches = rates(previous, current, 'tributary_model_batch_size_count', seconds, version);
  const thresholds = sumBy(current, 'tributary_model_drift_threshold', version);
  const ids = new Set([...Object.keys(modelRows), ...Object.keys(modelErrors), ...thresholds.keys(), ...sumBy(current, 'tributary_model_drift_psi', version).keys()]);
  for (const id of ids) {
    const at = id.lastIndexOf('@');
    const [model, v] = [id.slice(0, at), id.slice(at + 1)];
    const match = (l: Readonly<Record<string, string>>): boolean => l['model'] === model && (l['version'] ?? '') === v;
    const perBatch = batches[id] ?? 0;
    models[id] = {
      rowsPerSecond: modelRows[id] ?? 0,
      errorsPerSecond: modelErrors[id] ?? 0,
      batchSize: perBatch > 0 ? (batchRows[id] ?? 0) / perBatch : null,
      p50: quantileBetween(previous, current, 'tributary_model_inference_latency_ms', 0.5, match),
      p99: quantileBetween(previous, current, 'tributary_model_inference_latency_ms', 0.99, match),
      labels: rates(previous, current, 'tributary_model_predictions_total', seconds, (l) => (match(l) ? l['label'] : undefined)),
      drift: Object.fromEntries(sumBy(current, 'tributary_model_drift_psi', (l) => (match(l) ? l['feature'] : undefined))),
      threshold: thresholds.get(id) ?? null,
    };
  }
  const splits: Record<string, SplitFrame> = {};
  const routedTotals = sumBy(current, 'tributary_model_traffic_routed_total', version);
  for (const { labels, value } of current.get('tributary_model_traffic_weight') ?? []) {
    const model = labels['model']!;
    const split = (splits[model] ??= { configured: {}, served: {} });
    split.configured[labels['version']!] = value;
  }
  for (const [model, split] of Object.entries(splits)) {
    const rows = Object.keys(split.configured).map((v) => [v, routedTotals.get(`${model}@${v}`) ?? 0] as const);
    const total = rows.reduce((sum, [, n]) => sum + n, 0);
    if (total > 0) split.served = Object.fromEntries(rows.map(([v, n]) => [v, n / total]));
  }
  const shadows: Record<string, ShadowFrame> = {};
  const pair = (l: Readonly<Record<string, string>>): string | undefined => (l['candidate'] === undefined ? undefined : `${l['model']} ${l['primary']}→${l['candidate']}`);
  const compared = sumBy(current, 'tributary_model_shadow_comparisons_total', pair);
  const diffSum = rates(previous, current, 'tributary_model_shadow_score_diff_sum', 1, pair);
  const diffCount = rates(previous, current, 'tributary_model_shadow_score_diff_count', 1, pair);
  for (const [id, agreement] of sumBy(current, 'tributary_model_shadow_agreement_ratio', pair)) {
    const n = diffCount[id] ?? 0;
    shadows[id] = { agreement, compared: compared.get(id) ?? 0, scoreDiff: n > 0 ? (diffSum[id] ?? 0) / n : null };
  }
  return {
    t: at,
    state: stateSeries?.find((s) => s.value === 1)?.labels['state'] ?? null,
    tasks: tasksSeries?.[0]?.value ?? null,
    recordsIn: rates(previous, current, 'tributary_records_processed_total', seconds, (l) => l['task']),
    recordsOut: rates(previous, current, 'tributary_records_produced_total', seconds, (l) => l['topic']),
    lag: Object.fromEntries(sumBy(current, 'tributary_consumer_lag', (l) => `${l['topic']}/${l['partition']}`)),
    deadLettered: rates(previous, current, 'tributary_records_dead_lettered_by_stage_total', seconds, (l) => l['stage']),
    models,
    splits,
    shadows,
    requests: rates(previous, current, 'tributary_serving_requests_total', seconds, (l) => `${l['transport']} ${l['model']} ${l['outcome']}`),
  };
}
