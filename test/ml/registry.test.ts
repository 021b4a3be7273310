import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ModelError, ModelRegistry, modelMetrics, type ReloadEvent, type ScoreOutcome } from '../../src/ml/index.ts';
import { readHoldout, tempRegistry, trainedModels } from './fixtures/models.ts';

const fraud = trainedModels().find((m) => m.name === 'fraud' && m.version === '1')!;
const records = readHoldout(fraud).records;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(versions: [string, string][], options: Parameters<typeof ModelRegistry.open>[1] = {}) {
  const scratch = tempRegistry();
  cleanups.push(() => scratch.dispose());
  for (const [from, as] of versions) scratch.install('fraud', from, as);
  const registry = await ModelRegistry.open(scratch.dir, { pollIntervalMs: 0, drift: false, ...options });
  cleanups.push(() => registry.close());
  return { scratch, registry };
}

async function rowsScored(version: string): Promise<number> {
  const metric = await modelMetrics.getSingleMetric('tributary_model_rows_scored_total')!.get();
  return metric.values.filter((v) => v.labels['model'] === 'fraud' && v.labels['version'] === version).reduce((s, v) => s + v.value, 0);
}

describe('listing', () => {
  test('names() and versions() list complete version folders in numeric order', async () => {
    const { scratch, registry } = await setup([['1', '2'], ['1', '10'], ['2', '9']]);
    mkdirSync(join(scratch.dir, 'fraud', '11'));
    writeFileSync(join(scratch.dir, 'fraud', '11', 'model.json'), '{}');
    mkdirSync(join(scratch.dir, 'notes'));
    expect(registry.names()).toEqual(['fraud']);
    expect(registry.versions('fraud')).toEqual(['2', '9', '10']);
  });

  test('an unknown model or version is a ModelError naming what exists', async () => {
    const { registry } = await setup([['1', '1']]);
    expect(() => registry.model('fraudd')).toThrow(ModelError);
    expect(() => registry.model('fraudd')).toThrow(/no such model .*found: fraud/);
    expect(() => registry.model('fraud', { version: '7' })).toThrow(/no version 7 .*found: 1/);
  });

  test('an invalid model.json fails ready() with the file and the problem', async () => {
    const { scratch, registry } = await setup([['1', '1']]);
    writeFileSync(join(scratch.dir, 'fraud', '1', 'model.json'), JSON.stringify({ name: 'fraud', version: '1', features: [] }));
    await expect(registry.model('fraud').ready()).rejects.toThrow(/fraud\/1\/model\.json is not a valid model\.json: is missing 'inputs'; is missing 'outputs'; \/features must NOT have fewer than 1 items/);
  });
});

test('model(name) serves the newest version; model(name, { version }) pins one', async () => {
  const { registry } = await setup([['1', '1'], ['2', '2']]);
  const newest = registry.model('fraud');
  const pinned = registry.model('fraud', { version: '1' });
  const [a] = await newest.scoreBatch([{ key: 'k', value: records[0]! }]);
  const [b] = await pinned.scoreBatch([{ key: 'k', value: records[0]! }]);
  expect(a).toMatchObject({ ok: true, prediction: { version: '2' } });
  expect(b).toMatchObject({ ok: true, prediction: { version: '1' } });
  expect(newest.version).toBe('2');
});

test('records that break the model.json input schema fail at the validate stage', async () => {
  const { registry } = await setup([['1', '1']]);
  const model = registry.model('fraud');
  const outcomes = await model.scoreBatch([
    { key: 1, value: records[0]! },
    { key: 2, value: { ...records[0]!, hour: 25 } },
    { key: 3, value: { ...records[0]!, amount: 'ten' } },
  ]);
  expect(outcomes.map((o) => (o.ok ? 'ok' : o.stage))).toEqual(['ok', 'validate', 'validate']);
  expect(outcomes[1]).toMatchObject({ error: { message: expect.stringMatching(/\/hour must be <= 23/) } });
});

test('hot reload: a new version takes over mid-stream and every input is scored exactly once; removing it switches back', async () => {
  const reloads: ReloadEvent[] = [];
  const { scratch, registry } = await setup([['1', '1']], { pollIntervalMs: 20, workers: 1, onReload: (e) => reloads.push(e) });
  const model = registry.model('fraud');
  await model.ready();
  const before = { v1: await rowsScored('1'), v2: await rowsScored('2') };

  const outcomes: ScoreOutcome<unknown>[][] = []; // by the order batches were sent
  let sent = 0;
  let completed = 0;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const seq = outcomes.length;
      outcomes.push([]);
      const batch = Array.from({ length: 16 }, (_, i) => ({ key: sent + i, value: records[(sent + i) % records.length]! }));
      sent += batch.length;
      outcomes[seq] = await model.scoreBatch(batch);
      completed++;
    }
  };
  // three batches in flight at any time, so switches happen while the old version is busy
  const stream = Promise.all([loop(), loop(), loop()]);

  const waitFor = async (predicate: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  await waitFor(() => completed >= 5);
  scratch.install('fraud', '2', '2');
  await waitFor(() => model.version === '2');
  const switchedAt = completed;
  await waitFor(() => completed >= switchedAt + 5);
  scratch.remove('fraud', '2');
  await registry.refresh();
  expect(model.version).toBe('1');
  const backAt = completed;
  await waitFor(() => completed >= backAt + 5);
  stop = true;
  await stream;

  const flat = outcomes.flat();
  const versionsSeen: string[] = [];
  for (const o of flat) if (o.ok && versionsSeen[versionsSeen.length - 1] !== o.prediction.version) versionsSeen.push(o.prediction.version);
  expect(flat).toHaveLength(sent);
  expect(flat.every((o) => o.ok)).toBe(true);
  expect(versionsSeen).toEqual(['1', '2', '1']);
  expect(reloads).toEqual([
    { model: 'fraud', from: '1', to: '2' },
    { model: 'fraud', from: '2', to: '1' },
  ]);
  const after = { v1: await rowsScored('1'), v2: await rowsScored('2') };
  expect(after.v1 - before.v1 + (after.v2 - before.v2)).toBe(sent);
});

test('a version that fails to load is reported and the previous one keeps serving', async () => {
  const errors: ModelError[] = [];
  const { scratch, registry } = await setup([['1', '1']], { onError: (e) => errors.push(e) });
  const model = registry.model('fraud');
  await model.ready();
  mkdirSync(join(scratch.dir, 'fraud', '2'));
  writeFileSync(join(scratch.dir, 'fraud', '2', 'model.onnx'), 'not a model');
  writeFileSync(join(scratch.dir, 'fraud', '2', 'model.json'), JSON.stringify({ ...(await registry.metadata('fraud', '1')), version: '2' }));
  await registry.refresh();
  expect(model.version).toBe('1');
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toMatch(/model fraud@2: cannot be loaded/);
  await registry.refresh();
  expect(errors).toHaveLength(1);
  const [outcome] = await model.scoreBatch([{ key: 1, value: records[0]! }]);
  expect(outcome).toMatchObject({ ok: true, prediction: { version: '1' } });
});
