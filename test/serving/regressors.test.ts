/**
 * A regressor (car-range, scikit-learn's GradientBoostingRegressor) and a two-target tensors model
 * (trip-forecast, a RandomForestRegressor) served over HTTP and Kafka: every prediction equals the
 * value scikit-learn computed for the same row when the model was trained (holdout.json).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelHttpServer, ModelKafkaServer, ModelRegistry, remoteModel, type Model, type Prediction, type RegistryOutput, type RegressorOutput, type TensorOutput } from 'tributary';
import { closeToRegression, MODELS_DIR, readHoldout, type Holdout } from '../ml/fixtures/models.ts';
import { unique } from './helpers.ts';

const MODELS = ['car-range', 'trip-forecast'] as const;
type Name = (typeof MODELS)[number];
const holdouts: Record<Name, Holdout> = {
  'car-range': readHoldout({ name: 'car-range', version: '1', dir: `${MODELS_DIR}car-range/1` }),
  'trip-forecast': readHoldout({ name: 'trip-forecast', version: '1', dir: `${MODELS_DIR}trip-forecast/1` }),
};

/** Checks each prediction against scikit-learn's value for its row (a number, or one per target column). */
function expectScikitLearn(name: Name, predictions: readonly Prediction<RegistryOutput>[]): void {
  const expected = holdouts[name].values!;
  expect(predictions).toHaveLength(expected.length);
  predictions.forEach((p, i) => {
    expect(p).toMatchObject({ model: name, version: '1' });
    const want = expected[i]!;
    if (typeof want === 'number') {
      const { value } = p as RegressorOutput;
      expect(closeToRegression(value, want), `row ${i}: ${value} vs ${want}`).toBe(true);
    } else {
      const row = (p as TensorOutput)['variable'] as Record<string, number>;
      expect(Object.keys(row)).toEqual(['energyKwh', 'durationMin']);
      expect(closeToRegression(row['energyKwh']!, want[0]!), `row ${i} energyKwh: ${row['energyKwh']} vs ${want[0]}`).toBe(true);
      expect(closeToRegression(row['durationMin']!, want[1]!), `row ${i} durationMin: ${row['durationMin']} vs ${want[1]}`).toBe(true);
    }
  });
}

async function scoreAll(model: Model<object, RegistryOutput>, name: Name): Promise<Prediction<RegistryOutput>[]> {
  const outcomes = await model.scoreBatch(holdouts[name].records.map((value, i) => ({ key: `r${i}`, value })));
  return outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return o.prediction;
  });
}

let registry: ModelRegistry;
let http: ModelHttpServer;
let kafka: ModelKafkaServer;
const topics = { 'car-range': unique('car-range-requests'), 'trip-forecast': unique('trip-forecast-requests') };

beforeAll(async () => {
  registry = await ModelRegistry.open('models', { pollIntervalMs: 60_000, drift: false });
  http = await ModelHttpServer.start(registry, { port: 0, dashboard: false });
  kafka = await ModelKafkaServer.start(registry, { groupId: unique('regressors'), models: [...MODELS], requestTopic: (m) => topics[m as Name], partitions: 1, log: () => undefined });
});

afterAll(async () => {
  await kafka?.close();
  await http?.close();
  await registry?.close();
});

describe.each(MODELS)('%s', (name) => {
  it('over HTTP (:predict with instances) equals scikit-learn on the 200 saved rows', async () => {
    const res = await fetch(`${http.url}/v1/models/${name}:predict`, { method: 'POST', body: JSON.stringify({ instances: holdouts[name].records }) });
    expect(res.status).toBe(200);
    expectScikitLearn(name, ((await res.json()) as { predictions: Prediction<RegistryOutput>[] }).predictions);
  });

  it('through remoteModel over HTTP equals scikit-learn', async () => {
    const model = remoteModel({ http: `${http.url}/v1/models/${name}/versions/1:predict` });
    try {
      expectScikitLearn(name, await scoreAll(model, name));
    } finally {
      await model.close();
    }
  });

  it('through the Kafka-native server (remoteModel over Kafka) equals scikit-learn', async () => {
    const model = remoteModel({ name, kafka: { requestTopic: topics[name], replyTopic: unique(`${name}-replies`), timeoutMs: 60_000 } });
    try {
      expectScikitLearn(name, await scoreAll(model, name));
    } finally {
      await model.close();
    }
  });

  it('the metadata route answers 200 with the outputs model.json describes, and the status is AVAILABLE', async () => {
    const res = await fetch(`${http.url}/v1/models/${name}/metadata`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model_spec: { name: string; version: string }; metadata: { kind: string; outputs: unknown[] } };
    expect(body.model_spec).toMatchObject({ name, version: '1' });
    expect(body.metadata.kind).toBe(name === 'car-range' ? 'regressor' : 'tensors');
    expect(body.metadata.outputs).toEqual([
      name === 'car-range'
        ? { name: 'variable', type: 'float32', shape: [null, 1] }
        : { name: 'variable', type: 'float32', shape: [null, 2], columns: ['energyKwh', 'durationMin'] },
    ]);
    const status = await fetch(`${http.url}/v1/models/${name}`);
    expect(await status.json()).toEqual({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
  });
});

it('columnar inputs to the regressor answer a columnar "value"', async () => {
  const records = holdouts['car-range'].records.slice(0, 5);
  const inputs = Object.fromEntries(Object.keys(records[0]!).map((f) => [f, records.map((r) => r[f])]));
  const res = await fetch(`${http.url}/v1/models/car-range:predict`, { method: 'POST', body: JSON.stringify({ inputs }) });
  const { outputs } = (await res.json()) as { outputs: { value: number[]; model: string[] } };
  expect(outputs.model).toEqual(Array(5).fill('car-range'));
  outputs.value.forEach((v, i) => expect(closeToRegression(v, holdouts['car-range'].values![i] as number), `row ${i}`).toBe(true));
});
