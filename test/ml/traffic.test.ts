import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  ModelRegistry, keyHash, modelMetrics, shadowModel, splitTraffic,
  type ClassifierOutput, type Model, type RecordValue, type ScoreOutcome, type ShadowComparison,
} from '../../src/ml/index.ts';
import { MODELS_DIR, readHoldout, trainedModels } from './fixtures/models.ts';

const records = readHoldout(trainedModels().find((m) => m.name === 'fraud' && m.version === '1')!).records;
let registry: ModelRegistry;
beforeAll(async () => {
  registry = await ModelRegistry.open(MODELS_DIR, { pollIntervalMs: 0, drift: false });
});
afterAll(async () => {
  await registry.close();
});

const versionOf = (o: ScoreOutcome<unknown>): string => {
  if (!o.ok) throw o.error;
  return o.prediction.version;
};

test('keyHash is stable, in [0, 1), and spreads near-identical keys', () => {
  expect(keyHash('user-1')).toBe(keyHash('user-1'));
  expect(keyHash(Buffer.from('user-1'))).toBe(keyHash('user-1'));
  expect(keyHash({ id: 1 })).toBe(keyHash({ id: 1 }));
  const values = Array.from({ length: 10_000 }, (_, i) => keyHash(`user-${i}`));
  expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...values)).toBeLessThan(1);
  const lowHalf = values.filter((v) => v < 0.5).length;
  expect(lowHalf / values.length).toBeGreaterThan(0.47);
  expect(lowHalf / values.length).toBeLessThan(0.53);
});

test('split routes the same key to the same version always and follows the weights over 10k keys', async () => {
  const model = registry.split('fraud', { '1': 0.9, '2': 0.1 });
  const inputs = Array.from({ length: 10_000 }, (_, i) => ({ key: `card-${i}`, value: records[i % records.length]! }));
  const first = (await model.scoreBatch(inputs)).map(versionOf);
  const shares = first.filter((v) => v === '2').length / first.length;
  expect(shares).toBeGreaterThan(0.08);
  expect(shares).toBeLessThan(0.12);

  // the same keys, shuffled into other batches, land on the same versions
  const shuffled = inputs.map((input, i) => ({ input, i })).sort((a, b) => keyHash(a.i) - keyHash(b.i));
  const again = new Map<number, string>();
  for (let start = 0; start < shuffled.length; start += 700) {
    const chunk = shuffled.slice(start, start + 700);
    const outcomes = await model.scoreBatch(chunk.map((c) => c.input));
    chunk.forEach((c, k) => again.set(c.i, versionOf(outcomes[k]!)));
  }
  expect(first.every((v, i) => again.get(i) === v)).toBe(true);
});

test('split merges the versions back in input order', async () => {
  const stub = (version: string): Model<number, { doubled: number }> => ({
    name: 'stub',
    ready: async () => undefined,
    close: async () => undefined,
    scoreBatch: async (inputs) => {
      await new Promise((r) => setTimeout(r, version === '1' ? 20 : 1));
      return inputs.map((i) => ({ ok: true, prediction: { doubled: i.value * 2, model: 'stub', version, latencyMs: 0 } }));
    },
  });
  const model = splitTraffic('stub', { '1': stub('1'), '2': stub('2') }, { '1': 1, '2': 1 });
  const outcomes = await model.scoreBatch(Array.from({ length: 100 }, (_, i) => ({ key: i, value: i })));
  expect(outcomes.map((o) => (o.ok ? o.prediction.doubled : -1))).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
  expect(new Set(outcomes.map(versionOf))).toEqual(new Set(['1', '2']));
});

test('split rejects weights that route nothing or name an unknown version', () => {
  expect(() => registry.split('fraud', { '1': 0, '2': 0 })).toThrow(/some version a share above 0/);
  expect(() => registry.split('fraud', { '1': 0.5, '7': 0.5 })).toThrow(/no version 7/);
});

test('shadow returns the primary results and reports each comparison with the candidate', async () => {
  const comparisons: ShadowComparison<ClassifierOutput>[] = [];
  const model = registry.shadow<RecordValue, ClassifierOutput>('fraud', { candidate: '2', primary: '1', onCompare: (c) => comparisons.push(c) });
  const primary = registry.model<RecordValue, ClassifierOutput>('fraud', { version: '1' });
  const inputs = records.map((value, i) => ({ key: `k${i}`, value }));
  const outcomes = await model.scoreBatch(inputs);
  const direct = await primary.scoreBatch(inputs);
  const strip = (o: ScoreOutcome<ClassifierOutput>) => (o.ok ? { ...o.prediction, latencyMs: 0 } : o);
  expect(outcomes.map(strip)).toEqual(direct.map(strip));
  expect(comparisons).toHaveLength(inputs.length);
  expect(comparisons[0]).toMatchObject({ model: 'fraud', key: 'k0', primaryVersion: '1', candidateVersion: '2' });
  for (const c of comparisons) {
    if (!c.primary.ok || !c.candidate.ok) throw new Error('both should score');
    expect(c.agree).toBe(c.primary.prediction.label === c.candidate.prediction.label);
    expect(c.scoreDiff).toBeCloseTo(c.candidate.prediction.score - c.primary.prediction.score, 10);
  }
  const agreed = comparisons.filter((c) => c.agree).length;
  const text = await modelMetrics.metrics();
  expect(text).toContain(`tributary_model_shadow_comparisons_total{model="fraud",primary="1",candidate="2",agree="true"} ${agreed}`);
  expect(text).toMatch(/tributary_model_shadow_agreement_ratio\{model="fraud",primary="1",candidate="2"\} 0\.\d+/);
  expect(text).toContain(`tributary_model_shadow_score_diff_count{model="fraud",primary="1",candidate="2"} ${inputs.length}`);
});

test('a failing candidate never affects the primary', async () => {
  const primary: Model<number, { label: number; score: number }> = {
    name: 'p',
    ready: async () => undefined,
    close: async () => undefined,
    scoreBatch: async (inputs) => inputs.map((i) => ({ ok: true, prediction: { label: i.value, score: 0.5, model: 'p', version: '1', latencyMs: 0 } })),
  };
  const broken: Model<number, { label: number; score: number }> = { ...primary, scoreBatch: async () => Promise.reject(new Error('boom')) };
  const seen: ShadowComparison<{ label: number; score: number }>[] = [];
  const model = shadowModel('p', primary, broken, { onCompare: (c) => seen.push(c) });
  const outcomes = await model.scoreBatch([{ key: 1, value: 7 }]);
  expect(outcomes).toMatchObject([{ ok: true, prediction: { label: 7 } }]);
  expect(seen).toMatchObject([{ agree: false, scoreDiff: undefined, candidate: { ok: false, stage: 'inference' } }]);
});
