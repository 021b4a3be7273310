import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ModelRegistry, onnxModel, type ClassifierOutput, type RecordValue, type ScoreOutcome } from '../../src/ml/index.ts';
import { assembleBatch, NonFiniteFeatureError, type TensorSpec } from '../../src/ml/tensor-batch.ts';
import { MODELS_DIR, readHoldout, tempRegistry, trainedModels } from './fixtures/models.ts';

const float32Input: TensorSpec = { name: 'float_input', type: 'float32', shape: [-1, 3], isTensor: true };
const float64Input: TensorSpec = { name: 'x', type: 'float64', shape: [-1, 2], isTensor: true };
const int64Input: TensorSpec = { name: 'n', type: 'int64', shape: [-1, 1], isTensor: true };
const int32Input: TensorSpec = { name: 'i', type: 'int32', shape: [-1, 1], isTensor: true };

describe('assembleBatch refuses values that would reach the model as NaN or Infinity', () => {
  test.each([
    ['NaN', NaN, /input 'float_input'\[1\] is NaN; the model does not accept missing values/],
    ['Infinity', Infinity, /input 'float_input'\[1\] is Infinity; features must be finite numbers/],
    ['-Infinity', -Infinity, /input 'float_input'\[1\] is -Infinity; features must be finite numbers/],
    ['1e308 (beyond float32)', 1e308, /input 'float_input'\[1\] is 1e\+308, beyond float32's range .* it would reach the model as Infinity/],
    ['-3.5e38 (beyond float32)', -3.5e38, /is -3\.5e\+38, beyond float32's range .* as -Infinity/],
  ])('a float32 row holding %s fails alone; the other rows are placed', (_, bad, message) => {
    const batch = assembleBatch([{ float_input: [1, 2, 3] }, { float_input: [1, bad, 3] }, { float_input: [4, 5, 6] }], [float32Input]);
    expect(batch.rows).toEqual([0, 2]);
    expect(batch.failures.get(1)).toBeInstanceOf(NonFiniteFeatureError);
    expect(batch.failures.get(1)!.message).toMatch(message);
    expect([...batch.feeds['float_input']!.data as Float32Array]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('the largest float32 and a float64 beyond float32 in a float64 input are accepted', () => {
    const f32 = assembleBatch([{ float_input: [3.4028234663852886e38, -3.4028234663852886e38, 0] }], [float32Input]);
    expect(f32.failures.size).toBe(0);
    const f64 = assembleBatch([{ x: [1e308, -1e308] }, { x: [1, Infinity] }], [float64Input]);
    expect(f64.rows).toEqual([0]);
    expect(f64.failures.get(1)!.message).toMatch(/input 'x'\[1\] is Infinity/);
  });

  test('typed-array rows are checked too', () => {
    const batch = assembleBatch([{ float_input: new Float32Array([1, NaN, 3]) }, { float_input: new Float64Array([1, 1e300, 3]) }], [float32Input]);
    expect(batch.rows).toEqual([]);
    expect(batch.failures.get(0)!.message).toMatch(/is NaN/);
    expect(batch.failures.get(1)!.message).toMatch(/is 1e\+300, beyond float32's range/);
    const ints = assembleBatch([{ i: new Float64Array([NaN]) }], [int32Input]);
    expect(ints.failures.get(0)).toBeInstanceOf(NonFiniteFeatureError);
  });

  test('integer inputs refuse NaN and Infinity instead of writing 0', () => {
    const batch = assembleBatch([{ i: [NaN] }, { i: [Infinity] }, { i: [7] }], [int32Input]);
    expect(batch.rows).toEqual([2]);
    expect(batch.failures.get(0)!.message).toMatch(/input 'i'\[0\] is NaN/);
    expect(batch.failures.get(1)!.message).toMatch(/input 'i'\[0\] is Infinity/);
    const big = assembleBatch([{ n: [NaN] }], [int64Input]);
    expect(big.failures.get(0)!.message).toMatch(/must be an integer/);
  });

  test('with acceptsMissingValues NaN is placed, ±Infinity and float32 overflow are still refused', () => {
    const batch = assembleBatch([{ float_input: [1, NaN, 3] }, { float_input: [Infinity, 2, 3] }, { float_input: [1, 2, 1e39] }], [float32Input], { acceptsMissingValues: true });
    expect(batch.rows).toEqual([0]);
    expect(Number.isNaN((batch.feeds['float_input']!.data as Float32Array)[1])).toBe(true);
    expect(batch.failures.get(1)!.message).toMatch(/is Infinity/);
    expect(batch.failures.get(2)!.message).toMatch(/beyond float32's range/);
  });

  test('with column names the error names the feature', () => {
    const batch = assembleBatch([{ float_input: [1, 2, NaN] }], [float32Input], { columnNames: { float_input: ['amount', 'hour', 'merchantRisk'] } });
    expect(batch.failures.get(0)!.message).toMatch(/^feature 'merchantRisk' is NaN/);
  });
});

const fraud = trainedModels().find((m) => m.name === 'fraud' && m.version === '2')!;

/** fraud@2 in a scratch registry without its input schema, with model.json fields replaced. */
function scratchWithoutSchema(fields: Record<string, unknown> = {}): { dir: string; dispose: () => void } {
  const registry = tempRegistry();
  registry.install('fraud', '2', '2');
  const file = join(registry.dir, 'fraud', '2', 'model.json');
  const { inputSchema: _, ...meta } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...meta, ...fields }));
  return registry;
}

describe('a model refuses non-finite features at stage validate and scores the rest', () => {
  let registry: ModelRegistry;
  beforeAll(async () => {
    registry = await ModelRegistry.open(MODELS_DIR, { pollIntervalMs: 0, workers: 0, drift: false });
  });
  afterAll(async () => {
    await registry.close();
  });

  const failureOf = (o: ScoreOutcome<unknown>): { stage: string; message: string } => {
    if (o.ok) throw new Error(`expected a failure, got ${JSON.stringify(o.prediction)}`);
    return { stage: o.stage, message: o.error.message };
  };

  test('an onnxModel (no schema) gets NaN, ±Infinity and 1e308 refused; good rows equal scikit-learn', async () => {
    const holdout = readHoldout(fraud);
    const model = onnxModel({
      path: join(fraud.dir, 'model.onnx'),
      workers: 0,
      inputs: (row: number[]) => ({ float_input: row }),
      outputs: (row) => ({ p1: Number(row['probabilities']![1]) }),
    });
    try {
      const bad = [NaN, Infinity, -Infinity, 1e308].map((v) => holdout.features[0]!.map((x, c) => (c === 2 ? v : x)));
      const outcomes = await model.scoreBatch([...bad, ...holdout.features.slice(0, 20)].map((value, i) => ({ key: i, value })));
      for (const o of outcomes.slice(0, 4)) expect(failureOf(o)).toMatchObject({ stage: 'validate', message: expect.stringMatching(/^model fraud@2: input 'float_input'\[2\] is/) });
      outcomes.slice(4).forEach((o, i) => {
        if (!o.ok) throw o.error;
        expect(Math.abs(o.prediction.p1 - holdout.probabilities![i]![1]!)).toBeLessThanOrEqual(1e-5);
      });
    } finally {
      await model.close();
    }
  });

  test('a registry model refuses them at validate, naming the feature, whether or not its schema bounds it', async () => {
    const record = readHoldout(fraud).records[0]!;
    const model = registry.model('fraud', { version: '2' });
    const outcomes = await model.scoreBatch([
      { key: 'a', value: { ...record, merchantRisk: NaN } },
      { key: 'b', value: { ...record, amount: Infinity } },
      { key: 'c', value: { ...record, amount: 1e308 } },
      { key: 'd', value: record },
    ]);
    // merchantRisk has bounds: the schema refuses NaN; amount has only a minimum, which Infinity and 1e308 pass
    expect(failureOf(outcomes[0]!)).toEqual({ stage: 'validate', message: 'model fraud@2: record does not match the input schema: /merchantRisk must be <= 1 (it is NaN)' });
    expect(failureOf(outcomes[1]!)).toEqual({ stage: 'validate', message: "model fraud@2: feature 'amount' is Infinity; features must be finite numbers" });
    expect(failureOf(outcomes[2]!)).toMatchObject({ stage: 'validate', message: expect.stringMatching(/^model fraud@2: feature 'amount' is 1e\+308, beyond float32's range/) });
    expect(outcomes[3]!.ok).toBe(true);
  });

  test('a model without a schema refuses NaN by feature name through the registry too', async () => {
    const { dir, dispose } = scratchWithoutSchema();
    const scratch = await ModelRegistry.open(dir, { pollIntervalMs: 0, workers: 0, drift: false });
    try {
      const record = readHoldout(fraud).records[0]!;
      const outcomes = await scratch.model('fraud').scoreBatch([{ key: 'a', value: { ...record, merchantRisk: NaN } }, { key: 'b', value: { ...record, hour: null } }]);
      expect(failureOf(outcomes[0]!)).toEqual({ stage: 'validate', message: "model fraud@2: feature 'merchantRisk' is NaN; the model does not accept missing values (model.json \"acceptsMissingValues\": true says it does)" });
      expect(failureOf(outcomes[1]!)).toEqual({ stage: 'features', message: "model fraud@2: inputs() threw: feature 'hour' is a null, expected a number" });
    } finally {
      await scratch.close();
      dispose();
    }
  });

  test('a model whose model.json accepts missing values gets NaN (and null features) through', async () => {
    const { dir, dispose } = scratchWithoutSchema({ acceptsMissingValues: true });
    const scratch = await ModelRegistry.open(dir, { pollIntervalMs: 0, workers: 0, drift: false });
    try {
      const record = readHoldout(fraud).records[0]!;
      const outcomes = await scratch.model<RecordValue, ClassifierOutput>('fraud').scoreBatch([{ key: 'a', value: { ...record, merchantRisk: NaN } }, { key: 'b', value: { ...record, merchantRisk: null } }, { key: 'c', value: { ...record, amount: Infinity } }]);
      if (!outcomes[0]!.ok || !outcomes[1]!.ok) throw new Error('NaN and null should have been scored');
      expect(outcomes[1]!.prediction.score).toBe(outcomes[0]!.prediction.score);
      expect(failureOf(outcomes[2]!)).toMatchObject({ stage: 'validate', message: expect.stringMatching(/feature 'amount' is Infinity/) });
    } finally {
      await scratch.close();
      dispose();
    }
  });
});
