import type { Metric, Registry } from 'prom-client';

/** One labelled series: cumulative-on-read bucket counts, sum and count. */
export interface HistogramSeries {
  observe(value: number): void;
}

interface Series extends HistogramSeries {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram for per-row observations on the scoring path: `observe` is a binary
 * search and two additions (prom-client's own histogram hashes and validates the labels on every
 * call, which costs more than scoring a row). Exposes the same text format as prom-client's.
 */
export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  private readonly series = new Map<string, Series>();

  constructor(readonly name: string, readonly help: string, buckets: readonly number[], registers: readonly Registry[]) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set; keep it to observe without any lookup. */
  labels(labels: Record<string, string>): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      const counts = new Float64Array(this.bounds.length + 1);
      const bounds = this.bounds;
      const created: Series = {
        labels: { ...labels },
        counts,
        sum: 0,
        count: 0,
        observe(value: number) {
          if (!Number.isFinite(value)) return;
          let lo = 0;
          let hi = bounds.length;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (bounds[mid]! < value) lo = mid + 1;
            else hi = mid;
          }
          counts[lo]!++;
          created.sum += value;
          created.count++;
        },
      };
      series = created;
      this.series.set(key, series);
    }
    return series;
  }

  /** prom-client's metric protocol: the current values, as its Histogram reports them. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
