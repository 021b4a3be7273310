import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, expectTypeOf, test } from 'vitest';
import { ModelError, onnxModel, type Model, type ModelInput, type ModelOutput, type OutputRow, type Prediction, type ScoreOutcome } from '../../src/ml/index.ts';
import { looseClassifier, stringInt64Model, tinyClassifier, tinyClassifierReference } from './fixtures/onnx-builder.ts';

interface Point {
  x: number;
  y: number;
  z: number;
}

const toPrediction = (row: OutputRow) => ({
  label: Number(row['label']![0]),
  probabilities: Array.from(row['probabilities']!, Number),
});

function points(n: number): Point[] {
  return Array.from({ length: n }, (_, i) => ({ x: Math.sin(i) * 3, y: Math.cos(i * 0.7) * 2, z: (i % 17) / 4 - 2 }));
}

const ok = <Out>(o: ScoreOutcome<Out>): Prediction<Out> => {
  if (!o.ok) throw o.error;
  return o.prediction;
};

const opened: Model<never, unknown>[] = [];
afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
});

function tiny(workers: number) {
  const model = onnxModel({
    bytes: tinyClassifier(),
    name: 'tiny',
    version: '1',
    workers,
    inputs: (p: Point) => ({ float_input: [p.x, p.y, p.z] }),
    outputs: toPrediction,
    inputSchema: { type: 'object', required: ['x', 'y', 'z'], properties: { x: { type: 'number' }, y: { type: 'number' }, z: { type: 'number', minimum: -10 } } },
  });
  opened.push(model);
  return model;
}

test('types flow from the inputs and outputs mappings to the model', () => {
  const model = tiny(0);
  expectTypeOf(model).toMatchTypeOf<Model<Point, { label: number; probabilities: number[] }>>();
  expectTypeOf<ModelInput<typeof model>>().toEqualTypeOf<Point>();
  expectTypeOf<ModelOutput<typeof model>>().toEqualTypeOf<{ label: number; probabilities: number[] }>();
  const explicit = onnxModel<Point, { label: number; score: number }>({
    bytes: tinyClassifier(),
    inputs: (p) => ({ float_input: [p.x, p.y, p.z] }),
    outputs: (row) => ({ label: Number(row['label']![0]), score: Number(row['probabilities']![1]) }),
  });
  expectTypeOf(explicit.scoreBatch).returns.resolves.items.toEqualTypeOf<ScoreOutcome<{ label: number; score: number }>>();
});

describe.each([
  ['two worker threads', 2],
  ['a worker thread', 1],
  ['the main thread', 0],
])('on %s', (_, workers) => {
  test('outputsAt reads each row straight from the tensors, the same predictions as outputs', async () => {
    const model = tiny(workers);
    const seen: number[] = [];
    const direct = onnxModel({
      bytes: tinyClassifier(),
      name: 'tiny',
      version: '1',
      workers,
      inputs: (p: Point) => ({ float_input: [p.x, p.y, p.z] }),
      outputsAt: (tensors, index) => {
        seen.push(index);
        const probabilities = tensors['probabilities']!;
        const width = probabilities.data.length / probabilities.dims[0]!;
        return {
          label: Number(tensors['label']!.data[index]),
          probabilities: Array.from({ length: width }, (_, c) => Number(probabilities.data[index * width + c])),
        };
      },
    });
    opened.push(direct);
    const input = points(40).map((value, i) => ({ key: i, value }));
    const viaRows = (await model.scoreBatch(input)).map(ok);
    const viaTensors = (await direct.scoreBatch(input)).map(ok);
    expect(seen).toEqual(input.map((_, i) => i));
    const strip = ({ latencyMs: _, ...rest }: { latencyMs: number }) => rest;
    expect(viaTensors.map(strip)).toEqual(viaRows.map(strip));
    for (const p of viaTensors) expect(p.latencyMs).toBeGreaterThan(0);
  });


  test('predictions equal the model arithmetic', async () => {
    const model = tiny(workers);
    await model.ready();
    const input = points(50);
    const outcomes = await model.scoreBatch(input.map((value, i) => ({ key: i, value })));
    outcomes.forEach((o, i) => {
      const p = input[i]!;
      const expected = tinyClassifierReference([p.x, p.y, p.z]);
      const prediction = ok(o);
      expect(prediction.label).toBe(expected.label);
      prediction.probabilities.forEach((v, c) => expect(v).toBeCloseTo(expected.probabilities[c]!, 5));
      expect(prediction).toMatchObject({ model: 'tiny', version: '1' });
      expect(prediction.latencyMs).toBeGreaterThan(0);
    });
  });

  test('a batch of 300 splits back exactly like 300 batches of one', async () => {
    const model = tiny(workers);
    const input = points(300).map((value, i) => ({ key: i, value }));
    const batched = (await model.scoreBatch(input)).map(ok);
    const single = (await Promise.all(input.map((one) => model.scoreBatch([one])))).map((o) => ok(o[0]!));
    const strip = ({ latencyMs: _, ...rest }: { latencyMs: number }) => rest;
    expect(batched.map(strip)).toEqual(single.map(strip));
  });

  test('a bad record fails alone, with the stage that rejected it', async () => {
    const model = onnxModel({
      bytes: tinyClassifier(),
      workers,
      inputs: (p: Point) => {
        if (p.x === 99) throw new Error('no features for 99');
        return { float_input: p.y === 42 ? [p.x, p.y] : [p.x, p.y, p.z] };
      },
      outputs: toPrediction,
      inputSchema: { type: 'object', required: ['x', 'y', 'z'], properties: { z: { type: 'number', minimum: -10 } } },
    });
    opened.push(model);
    const good = { x: 1, y: 2, z: 3 };
    const outcomes = await model.scoreBatch([
      { key: 'a', value: good },
      { key: 'b', value: { x: 1, y: 2, z: -11 } },
      { key: 'c', value: { x: 99, y: 2, z: 3 } },
      { key: 'd', value: { x: 1, y: 42, z: 3 } },
      { key: 'e', value: { x: 1, y: 2 } as Point },
      { key: 'f', value: good },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.stage))).toEqual(['ok', 'validate', 'features', 'features', 'validate', 'ok']);
    const failures = outcomes.filter((o): o is Extract<typeof o, { ok: false }> => !o.ok);
    for (const f of failures) expect(f.error).toBeInstanceOf(ModelError);
    expect(failures[0]!.error.message).toMatch(/\/z must be >= -10/);
    expect(failures[1]!.error.message).toMatch(/no features for 99/);
    expect(failures[2]!.error.message).toMatch(/has 2 values, expected 3/);
    expect(ok(outcomes[0]!)).toEqual(ok(outcomes[5]!));
  });

  test('a failing run fails every record of the batch at the inference stage', async () => {
    const model = onnxModel({
      bytes: looseClassifier(),
      workers,
      inputs: (v: number[]) => ({ float_input: v }),
      outputs: (row) => ({ logits: Array.from(row['logits']!, Number) }),
    });
    opened.push(model);
    const outcomes = await model.scoreBatch([{ key: 1, value: [1, 2, 3, 4] }, { key: 2, value: [5, 6, 7, 8] }]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.stage))).toEqual(['inference', 'inference']);
    const fine = await model.scoreBatch([{ key: 3, value: [1, 2, 3] }]);
    expect(fine[0]!.ok).toBe(true);
  });

  test('string and int64 tensors go in and come back per row', async () => {
    const model = onnxModel({
      bytes: stringInt64Model(),
      workers,
      inputs: (r: { word: string; counts: [bigint, number] }) => ({ word: [r.word], count: r.counts }),
      outputs: (row) => ({ word: String(row['word_out']![0]), sum: Array.from(row['count_sum']!) }),
    });
    opened.push(model);
    await model.ready();
    expect(model.signature?.inputs.map((i) => i.type)).toEqual(['string', 'int64']);
    const outcomes = await model.scoreBatch([
      { key: 1, value: { word: 'héllo', counts: [2n ** 40n, 3] } },
      { key: 2, value: { word: '', counts: [-5n, 0] } },
      { key: 3, value: { word: 'x', counts: [1n, 1.5] } },
      { key: 4, value: { word: 'wörld', counts: [7n, 8] } },
    ]);
    expect(outcomes.map((o) => (o.ok ? { word: o.prediction.word, sum: o.prediction.sum } : o.stage))).toEqual([
      { word: 'héllo', sum: [2n ** 41n, 6n] },
      { word: '', sum: [-10n, 0n] },
      'features',
      { word: 'wörld', sum: [14n, 16n] },
    ]);
  });
});

test('a model takes exactly one of outputs and outputsAt', () => {
  const inputs = (v: number[]) => ({ float_input: v });
  expect(() => onnxModel({ bytes: tinyClassifier(), inputs })).toThrow(/give exactly one of `outputs` or `outputsAt`/);
  expect(() => onnxModel({ bytes: tinyClassifier(), inputs, outputs: (r) => r, outputsAt: () => ({}) })).toThrow(/give exactly one of `outputs` or `outputsAt`/);
});

test('an outputsAt that throws fails its record alone, at the inference stage', async () => {
  const model = onnxModel({
    bytes: tinyClassifier(),
    workers: 0,
    inputs: (v: number[]) => ({ float_input: v }),
    outputsAt: (tensors, index) => {
      if (index === 1) throw new Error('no output for row 1');
      return { label: Number(tensors['label']!.data[index]) };
    },
  });
  opened.push(model);
  const outcomes = await model.scoreBatch([{ key: 1, value: [1, 2, 3] }, { key: 2, value: [4, 5, 6] }, { key: 3, value: [0, 1, 0] }]);
  expect(outcomes.map((o) => (o.ok ? 'ok' : o.stage))).toEqual(['ok', 'inference', 'ok']);
  const failed = outcomes[1]!;
  expect(!failed.ok && failed.error.message).toMatch(/outputsAt\(\) threw: no output for row 1/);
});

test('a model that cannot load fails ready() with the model named, and scoreBatch turns it into outcomes', async () => {
  const model = onnxModel({ path: '/nonexistent/fraud/3/model.onnx', workers: 0, inputs: (v: number[]) => ({ float_input: v }), outputs: (r) => r });
  expect(model).toMatchObject({ name: 'fraud', version: '3' });
  await expect(model.ready()).rejects.toThrow(/model fraud@3: cannot be loaded from \/nonexistent/);
  const outcomes = await model.scoreBatch([{ key: 1, value: [1] }]);
  expect(outcomes[0]).toMatchObject({ ok: false, stage: 'inference' });
  await model.close();
});

test('idle workers do not keep the process alive', () => {
  const script = new URL('./fixtures/exit-without-close.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
  expect(run.error).toBeUndefined();
  expect(run.stdout).toBe('scored\n');
  expect(run.status).toBe(0);
});

test('close() ends the session: later batches fail at the inference stage', async () => {
  const model = tiny(1);
  await model.ready();
  await model.scoreBatch([{ key: 1, value: { x: 1, y: 1, z: 1 } }]);
  await model.close();
  const after = await model.scoreBatch([{ key: 1, value: { x: 1, y: 1, z: 1 } }]);
  expect(after[0]).toMatchObject({ ok: false, stage: 'inference' });
});
