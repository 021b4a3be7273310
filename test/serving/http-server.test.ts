import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelHttpServer, ModelRegistry, type ClassifierOutput, type Prediction, type RegistryOutput } from 'tributary';
import { embedded, histogram, holdout, withoutLatency, expectSamePredictions } from './helpers.ts';

let registry: ModelRegistry;
let server: ModelHttpServer;

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`);
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

beforeAll(async () => {
  registry = await ModelRegistry.open('models', { pollIntervalMs: 60_000 });
  server = await ModelHttpServer.start(registry, { port: 0, host: '127.0.0.1', maxDelayMs: 25 });
});

afterAll(async () => {
  await server?.close();
  await registry?.close();
});

describe('ModelHttpServer (TensorFlow Serving REST API)', () => {
  it('POST :predict with instances answers the registry model\'s predictions, newest version by default', async () => {
    const records = holdout('2');
    const res = await post('/v1/models/fraud:predict', { instances: records });
    expect(res.status).toBe(200);
    const predictions = res.body.predictions as Prediction<RegistryOutput>[];
    expectSamePredictions(predictions, await embedded(registry, '2', records));
    expect(predictions[0]).toMatchObject({ model: 'fraud', version: '2' });
    expect(predictions[0]!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('/versions/<v>:predict scores with that version', async () => {
    const records = holdout('1').slice(0, 50);
    const res = await post('/v1/models/fraud/versions/1:predict', { signature_name: 'serving_default', instances: records });
    expect(res.status).toBe(200);
    expectSamePredictions((res.body.predictions as Prediction<RegistryOutput>[]), await embedded(registry, '1', records));
  });

  it('columnar "inputs" answer columnar "outputs"', async () => {
    const records = holdout('2').slice(0, 3);
    const inputs = Object.fromEntries(Object.keys(records[0]!).map((f) => [f, records.map((r) => r[f])]));
    const res = await post('/v1/models/fraud:predict', { inputs });
    expect(res.status).toBe(200);
    const outputs = res.body.outputs as Record<string, unknown[]>;
    const expected = (await embedded(registry, '2', records)) as unknown as ClassifierOutput[];
    expect(outputs.score).toEqual(expected.map((p) => p.score));
    expect(outputs.label).toEqual(expected.map((p) => p.label));
    expect(outputs.version).toEqual(['2', '2', '2']);
  });

  it('instances of concurrent requests are scored together in one batch', async () => {
    const records = holdout('1').slice(0, 20);
    const before = await histogram('tributary_model_batch_size', { model: 'fraud', version: '1' });
    const answers = await Promise.all(records.map((record) => post('/v1/models/fraud/versions/1:predict', { instances: [record] })));
    const after = await histogram('tributary_model_batch_size', { model: 'fraud', version: '1' });
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(after.sum - before.sum).toBe(20);
    expect(after.count - before.count).toBeLessThan(20);
    const expected = await embedded(registry, '1', records);
    expectSamePredictions(answers.map((a) => (a.body.predictions as Prediction<RegistryOutput>[])[0]!), expected);
  });

  it('GET /v1/models/<name> reports every version, newest first, like TF Serving', async () => {
    const all = await get('/v1/models/fraud');
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      model_version_status: [
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    const one = await get('/v1/models/fraud/versions/1');
    expect(one.body).toEqual({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    const metadata = await get('/v1/models/fraud/metadata');
    expect(metadata.body).toMatchObject({ model_spec: { name: 'fraud', version: '2' }, metadata: { name: 'fraud', version: '2' } });
  });

  it('malformed JSON, a missing or empty "instances", and a body that is not an object are 400 with an error', async () => {
    for (const body of ['{"instances": [', '{}', '{"instances": []}', '{"instances": {"amount": 1}}', '[1, 2]', '{"instances": [], "inputs": []}']) {
      const res = await post('/v1/models/fraud:predict', body);
      expect(res.status, body).toBe(400);
      expect(typeof res.body.error, body).toBe('string');
    }
    expect((await post('/v1/models/fraud:predict', '{"instances": [')).body.error).toMatch(/not valid JSON/);
    expect((await post('/v1/models/fraud:predict', {})).body.error).toMatch(/"instances"/);
  });

  it('an instance failing the model\'s input schema fails the whole request with 400 naming the instance', async () => {
    const [good, other] = holdout('2');
    const res = await post('/v1/models/fraud:predict', { instances: [good, { ...other!, amount: -5 }] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ stage: 'validate', instance: 1 });
    expect(res.body.error).toMatch(/^instance 1: .*input schema.*amount/);
    const missing = await post('/v1/models/fraud:predict', { instances: [{ amount: 3 }] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/instance 0/);
  });

  it('unknown models, versions and paths are 404; a wrong method is 405 with Allow', async () => {
    const unknownModel = await post('/v1/models/nope:predict', { instances: [{}] });
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.body.error).toMatch(/no model 'nope'.*fraud/);
    expect((await post('/v1/models/fraud/versions/9:predict', { instances: [{}] })).status).toBe(404);
    expect((await get('/v1/models/fraud/versions/9')).status).toBe(404);
    expect((await get('/v2/whatever')).status).toBe(404);
    const wrong = await fetch(`${server.url}/v1/models/fraud:predict`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await post('/v1/models/fraud', {})).status).toBe(405);
  });

  it('/healthz answers ok and /metrics exposes the model and serving metrics', async () => {
    const health = await get('/healthz');
    expect(health).toEqual({ status: 200, body: { status: 'ok', models: ['breast-cancer', 'car-anomaly', 'car-range', 'fraud', 'trip-forecast'] } });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body.text).toMatch(/tributary_model_batch_size_count\{model="fraud",version="2"\}/);
    expect(metrics.body.text).toMatch(/tributary_serving_requests_total\{transport="http",model="fraud",outcome="ok"\}/);
  });
});

describe('ModelHttpServer addresses', () => {
  it('binds 127.0.0.1 unless told otherwise, and its url names the address it really bound', async () => {
    const local = await ModelHttpServer.start(registry, { port: 0 });
    try {
      expect(local.address).toBe('127.0.0.1');
      expect(local.url).toBe(`http://127.0.0.1:${local.port}`);
      expect((await fetch(`${local.url}/healthz`)).status).toBe(200);
    } finally {
      await local.close();
    }
    const everywhere = await ModelHttpServer.start(registry, { port: 0, host: '0.0.0.0' });
    try {
      expect(everywhere.address).toBe('0.0.0.0');
      expect(everywhere.url).toBe(`http://127.0.0.1:${everywhere.port}`);
      expect((await fetch(`${everywhere.url}/healthz`)).status).toBe(200);
    } finally {
      await everywhere.close();
    }
  });
});

describe('ModelHttpServer and hot reload', () => {
  it('a new version folder is served by the next request without a restart, and listed in the status', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'serving-reload-'));
    await cp('models/fraud/1', join(dir, 'fraud', '1'), { recursive: true });
    const reloading = await ModelRegistry.open(dir, { pollIntervalMs: 0 });
    const local = await ModelHttpServer.start(reloading, { port: 0, host: '127.0.0.1' });
    try {
      const instances = holdout('2').slice(0, 2);
      const ask = async (): Promise<Prediction<RegistryOutput>[]> => {
        const res = await fetch(`${local.url}/v1/models/fraud:predict`, { method: 'POST', body: JSON.stringify({ instances }) });
        return ((await res.json()) as { predictions: Prediction<RegistryOutput>[] }).predictions;
      };
      expect((await ask()).map((p) => p.version)).toEqual(['1', '1']);
      await cp('models/fraud/2', join(dir, 'fraud', '2'), { recursive: true });
      await reloading.refresh();
      expect((await ask()).map((p) => p.version)).toEqual(['2', '2']);
      const status = (await (await fetch(`${local.url}/v1/models/fraud`)).json()) as { model_version_status: { version: string }[] };
      expect(status.model_version_status.map((s) => s.version)).toEqual(['2', '1']);
    } finally {
      await local.close();
      await reloading.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
