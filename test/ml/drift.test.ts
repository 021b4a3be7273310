import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DriftMonitor, ModelRegistry, binOf, mergeModelMetrics, modelMetrics, populationStabilityIndex,
  type DriftAlert, type ModelMetadata,
} from '../../src/ml/index.ts';
import { MODELS_DIR, readHoldout, trainedModels } from './fixtures/models.ts';

describe('population stability index', () => {
  test('a value falls in the bin counting the edges strictly below it', () => {
    const edges = [0, 1, 2];
    expect([-5, 0, 0.5, 1, 1.5, 2, 9].map((v) => binOf(edges, v))).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });

  test('is 0 for a sample that matches training exactly and grows with the shift', () => {
    const expected = [0.1, 0.2, 0.3, 0.4];
    expect(populationStabilityIndex(expected, [100, 200, 300, 400], 1000)).toBeCloseTo(0, 12);
    const mild = populationStabilityIndex(expected, [150, 200, 250, 400], 1000);
    const strong = populationStabilityIndex(expected, [700, 100, 100, 100], 1000);
    expect(mild).toBeGreaterThan(0);
    expect(mild).toBeLessThan(0.1);
    expect(strong).toBeGreaterThan(1);
  });

  test('an empty bin counts as a small epsilon instead of an infinite term', () => {
    const psi = populationStabilityIndex([0.5, 0.5], [1000, 0], 1000);
    expect(Number.isFinite(psi)).toBe(true);
    expect(psi).toBeGreaterThan(2);
  });

  test('the monitor alerts once per upward crossing, and again after a recovery', () => {
    const alerts: DriftAlert[] = [];
    const reported: [string, number][] = [];
    const monitor = new DriftMonitor(
      'm', '1', ['x'],
      { features: { x: { edges: [0], fractions: [0.5, 0.5] } } },
      { windowSize: 100, checkEvery: 10, onDrift: (a) => alerts.push(a) },
      (feature, psi) => reported.push([feature, psi]),
    );
    const feed = (values: number[]) => {
      for (let i = 0; i < values.length; i += 10) {
        const chunk = Float32Array.from(values.slice(i, i + 10));
        monitor.observeFeatures(chunk, chunk.length, 1);
        monitor.observeScores([], chunk.length);
      }
    };
    const balanced = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? -1 : 1));
    const shifted = Array.from({ length: 300 }, () => 1);
    feed(balanced);
    expect(alerts).toHaveLength(0);
    expect(reported.at(-1)![1]).toBeCloseTo(0, 6);
    feed(shifted);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ model: 'm', version: '1', feature: 'x', kind: 'feature', threshold: 0.2, windowSize: 100 });
    expect(alerts[0]!.psi).toBeGreaterThan(0.2);
    feed(balanced);
    feed(shifted);
    expect(alerts).toHaveLength(2);
  });
});

describe('drift of a registry model', () => {
  const folder = trainedModels().find((m) => m.name === 'fraud' && m.version === '1')!;
  const holdout = readHoldout(folder);
  // the holdout oversamples fraud; its legitimate rows are a plain sample of the population
  const legit = holdout.records.filter((_, i) => holdout.labels[i] === 0);
  const alerts: DriftAlert[] = [];
  let registry: ModelRegistry;
  let metadata: ModelMetadata;

  beforeAll(async () => {
    registry = await ModelRegistry.open(MODELS_DIR, {
      pollIntervalMs: 0,
      workers: 0,
      drift: { windowSize: legit.length, checkEvery: 25, onDrift: (a) => alerts.push(a) },
    });
    metadata = await registry.metadata('fraud', '1');
  });
  afterAll(async () => {
    await registry.close();
  });

  async function psiGauges(): Promise<Map<string, number>> {
    const gauge = await modelMetrics.getSingleMetric('tributary_model_drift_psi')!.get();
    return new Map(gauge.values.filter((v) => v.labels['model'] === 'fraud' && v.labels['version'] === '1').map((v) => [String(v.labels['feature']), v.value]));
  }

  test('PSI stays near 0 on training-like input, and no alert fires', async () => {
    const model = registry.model('fraud', { version: '1' });
    for (let i = 0; i < legit.length; i += 50) {
      await model.scoreBatch(legit.slice(i, i + 50).map((value, k) => ({ key: i + k, value })));
    }
    const psi = await psiGauges();
    expect([...psi.keys()].sort()).toEqual([...metadata.features, 'score'].sort());
    for (const value of psi.values()) expect(value).toBeLessThan(0.2);
    const mean = [...psi.values()].reduce((a, b) => a + b, 0) / psi.size;
    expect(mean).toBeLessThan(0.1);
    expect(alerts).toEqual([]);
  });

  test('a shifted feature raises its PSI and alerts once, however many batches follow', async () => {
    const model = registry.model('fraud', { version: '1' });
    const shifted = legit.map((r) => ({ ...r, amount: (r['amount'] ?? 0) * 20 + 500 }));
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < shifted.length; i += 50) {
        await model.scoreBatch(shifted.slice(i, i + 50).map((value, k) => ({ key: i + k, value })));
      }
    }
    const psi = await psiGauges();
    expect(psi.get('amount')).toBeGreaterThan(2);
    expect(psi.get('hour')).toBeLessThan(0.2);
    const amountAlerts = alerts.filter((a) => a.feature === 'amount');
    expect(amountAlerts).toHaveLength(1);
    expect(amountAlerts[0]).toMatchObject({ model: 'fraud', version: '1', kind: 'feature', threshold: 0.2, windowSize: legit.length });
    expect(alerts.filter((a) => a.feature === 'hour')).toEqual([]);
  });
});

test('model metrics appear in modelMetrics and merge into another registry', async () => {
  const registry = await ModelRegistry.open(MODELS_DIR, { pollIntervalMs: 0, workers: 0, drift: false });
  const holdout = readHoldout(trainedModels().find((m) => m.name === 'fraud' && m.version === '2')!);
  // scikit-learn's labels for the 20 rows scored below: the label distribution must match them
  const frauds = holdout.labels.slice(0, 20).filter((label) => label === 1).length;
  try {
    const model = registry.model('fraud', { version: '2' });
    const records = holdout.records;
    await model.scoreBatch([...records.slice(0, 20), { ...records[0], hour: 99 }].map((value, i) => ({ key: i, value })));
  } finally {
    await registry.close();
  }
  const text = await modelMetrics.metrics();
  expect(text).toMatch(/tributary_model_inference_latency_ms_count\{model="fraud",version="2"\} [1-9]/);
  expect(text).toMatch(/tributary_model_batch_size_bucket\{le="32",model="fraud",version="2"\} [1-9]/);
  expect(text).toMatch(/tributary_model_rows_scored_total\{model="fraud",version="2"\} 20/);
  expect(text).toMatch(/tributary_model_errors_total\{model="fraud",version="2",stage="validate"\} 1/);
  expect(text).toMatch(/tributary_model_score_count\{model="fraud",version="2"\} 20/);
  expect(text).toContain(`tributary_model_predictions_total{model="fraud",version="2",label="legit"} ${20 - frauds}`);
  if (frauds > 0) expect(text).toContain(`tributary_model_predictions_total{model="fraud",version="2",label="fraud"} ${frauds}`);
  else expect(text).not.toContain('tributary_model_predictions_total{model="fraud",version="2",label="fraud"}');
  expect(text).toMatch(/tributary_model_score_bucket\{le="\+Inf",model="fraud",version="2"\} 20/);
  expect(text).toMatch(/tributary_model_active_version\{model="fraud"\} 2/);

  const app = new Registry();
  mergeModelMetrics(app);
  mergeModelMetrics(app);
  expect(await app.metrics()).toContain('tributary_model_rows_scored_total{model="fraud",version="2"} 20');
});
