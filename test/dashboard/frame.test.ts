import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { frameBetween, quantileBetween, toReading } from '../../src/dashboard/frame.ts';

describe('dashboard frames', () => {
  it('rates are counter differences per second, and latency quantiles come from the bucket differences', async () => {
    const registry = new Registry();
    const rows = new Counter({ name: 'tributary_model_rows_scored_total', help: 'h', labelNames: ['model', 'version'], registers: [registry] });
    const latency = new Histogram({ name: 'tributary_model_inference_latency_ms', help: 'h', labelNames: ['model', 'version'], buckets: [1, 10, 100], registers: [registry] });
    rows.inc({ model: 'fraud', version: '1' }, 100);
    latency.observe({ model: 'fraud', version: '1' }, 50);
    const before = toReading(await registry.getMetricsAsJSON());
    rows.inc({ model: 'fraud', version: '1' }, 400);
    for (let i = 0; i < 10; i++) latency.observe({ model: 'fraud', version: '1' }, 5);
    const after = toReading(await registry.getMetricsAsJSON());
    const frame = frameBetween(before, 0, after, 2_000);
    expect(frame.models['fraud@1']!.rowsPerSecond).toBe(200);
    // The ten observations between the readings all fall in (1, 10]: the old 50 ms one is not counted.
    expect(frame.models['fraud@1']!.p50).toBeCloseTo(5.5);
    expect(quantileBetween(before, after, 'tributary_model_inference_latency_ms', 0.99, () => true)).toBeLessThanOrEqual(10);
    expect(quantileBetween(after, after, 'tributary_model_inference_latency_ms', 0.5, () => true)).toBeNull();
  });
});
