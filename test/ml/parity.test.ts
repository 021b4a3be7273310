import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ModelRegistry, onnxModel, type AnomalyOutput, type ClassifierOutput, type RegressorOutput, type ScoreOutcome, type TensorOutput,
} from '../../src/ml/index.ts';
import { MODELS_DIR, closeToRegression, readHoldout, trainedModels } from './fixtures/models.ts';

const TOLERANCE = 1e-5;
const models = trainedModels();

function ok<Out>(o: ScoreOutcome<Out>): Out {
  if (!o.ok) throw o.error;
  return o.prediction;
}

test('the trained models are present', () => {
  expect(models.map((m) => `${m.name}@${m.version}`)).toEqual(expect.arrayContaining(['fraud@1', 'fraud@2', 'car-range@1', 'trip-forecast@1']));
});

describe.each([
  ['worker threads', 1],
  ['the main thread', 0],
])('ONNX predictions equal scikit-learn on the holdout set, on %s', (_, workers) => {
  let registry: ModelRegistry;
  beforeAll(async () => {
    registry = await ModelRegistry.open(MODELS_DIR, { pollIntervalMs: 0, workers, drift: false });
  });
  afterAll(async () => {
    await registry.close();
  });

  test.each(models.map((m) => [`${m.name}@${m.version}`, m] as const))('%s through the registry', async (_, folder) => {
    const holdout = readHoldout(folder);
    const model = registry.model(folder.name, { version: folder.version });
    const outcomes = await model.scoreBatch(holdout.records.map((value, i) => ({ key: i, value })));
    const predictions = outcomes.map(ok);
    predictions.forEach((p) => expect(p).toMatchObject({ model: folder.name, version: folder.version }));
    if (holdout.values !== undefined) {
      const metadata = await registry.metadata(folder.name, folder.version);
      const columns = metadata.outputs[0]!.columns;
      predictions.forEach((p, i) => {
        const expected = holdout.values![i]!;
        if (typeof expected === 'number') {
          expect(closeToRegression((p as RegressorOutput).value, expected), `row ${i}: ${(p as RegressorOutput).value} vs ${expected}`).toBe(true);
        } else {
          const row = (p as TensorOutput)[metadata.outputs[0]!.name] as Record<string, number>;
          expect(Object.keys(row)).toEqual(columns);
          columns!.forEach((c, k) => expect(closeToRegression(row[c]!, expected[k]!), `row ${i} ${c}: ${row[c]} vs ${expected[k]}`).toBe(true));
        }
      });
    } else if (holdout.probabilities !== undefined) {
      const classifier = predictions as ClassifierOutput[];
      expect(classifier.map((p) => p.labelIndex)).toEqual(holdout.labels);
      classifier.forEach((p, i) => {
        const expected = holdout.probabilities![i]!;
        p.probabilities.forEach((v, c) => expect(Math.abs(v - expected[c]!)).toBeLessThanOrEqual(TOLERANCE));
        expect(p.score).toBe(p.probabilities[p.probabilities.length - 1]);
      });
    } else {
      const anomaly = predictions as AnomalyOutput[];
      const labels = (await registry.metadata(folder.name, folder.version)).labels as Record<string, string> | undefined;
      expect(anomaly.map((p) => p.label)).toEqual(holdout.labels.map((l) => labels?.[String(l)] ?? l));
      expect(anomaly.map((p) => p.anomaly)).toEqual(holdout.labels.map((l) => l === -1));
      anomaly.forEach((p, i) => expect(Math.abs(p.score - holdout.scores![i]!)).toBeLessThanOrEqual(TOLERANCE));
    }
  });

  test.each(models.map((m) => [`${m.name}@${m.version}`, m] as const))('%s through onnxModel, raw tensors', async (_, folder) => {
    const holdout = readHoldout(folder);
    const model = onnxModel({
      path: join(folder.dir, 'model.onnx'),
      workers,
      inputs: (row: number[]) => ({ float_input: row }),
      outputs: (row) => ({
        label: row['label'] === undefined ? undefined : Number(row['label'][0]),
        values: Array.from(row['probabilities'] ?? row['scores'] ?? row['variable']!, Number),
      }),
    });
    try {
      const predictions = (await model.scoreBatch(holdout.features.map((value, i) => ({ key: i, value })))).map(ok);
      if (holdout.values !== undefined) {
        predictions.forEach((p, i) => {
          const expected = holdout.values![i]!;
          const want = typeof expected === 'number' ? [expected] : expected;
          expect(p.values).toHaveLength(want.length);
          p.values.forEach((v, c) => expect(closeToRegression(v, want[c]!), `row ${i}: ${v} vs ${want[c]}`).toBe(true));
        });
        return;
      }
      expect(predictions.map((p) => p.label)).toEqual(holdout.labels);
      const expected = holdout.probabilities ?? holdout.scores!.map((s) => [s]);
      predictions.forEach((p, i) => p.values.forEach((v, c) => expect(Math.abs(v - expected[i]![c]!)).toBeLessThanOrEqual(TOLERANCE)));
    } finally {
      await model.close();
    }
  });
});

test('registry classifiers name their labels from model.json', async () => {
  const registry = await ModelRegistry.open(MODELS_DIR, { pollIntervalMs: 0, workers: 0, drift: false });
  try {
    const folder = models.find((m) => m.name === 'fraud')!;
    const holdout = readHoldout(folder);
    const labels = (await registry.metadata('fraud', folder.version)).labels as string[];
    const predictions = (await registry.model('fraud', { version: folder.version }).scoreBatch(holdout.records.map((value, i) => ({ key: i, value })))).map(ok) as ClassifierOutput[];
    expect(predictions.map((p) => p.label)).toEqual(holdout.labels.map((l) => labels[l]));
  } finally {
    await registry.close();
  }
});
