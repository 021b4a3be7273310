/**
 * Truthful status: each version is loaded when it appears in the registry folder (at start and on
 * hot reload); one that cannot serve shows END with the real reason and is never chosen, while the
 * previous good version keeps serving.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelHttpServer, ModelRegistry, type ModelError } from 'tributary';
import { MODELS_DIR, tempRegistry } from '../ml/fixtures/models.ts';
import { holdout, waitFor } from './helpers.ts';

interface Status { version: string; state: string; status: { error_code: string; error_message: string } }

/** Writes a version folder aside and renames it in, as a deployment should, so the poll never sees half of it. */
function drop(registryDir: string, name: string, version: string, files: { onnx: Uint8Array | string; json: object }): void {
  const staging = mkdtempSync(join(tmpdir(), 'tributary-staging-'));
  writeFileSync(join(staging, 'model.onnx'), files.onnx);
  writeFileSync(join(staging, 'model.json'), JSON.stringify(files.json));
  mkdirSync(join(registryDir, name), { recursive: true });
  renameSync(staging, join(registryDir, name, version));
}

const fraudJson = (version: string): Record<string, unknown> => ({ ...(JSON.parse(readFileSync(join(MODELS_DIR, 'fraud', '2', 'model.json'), 'utf8')) as object), version });
const fraudOnnx = (): Buffer => readFileSync(join(MODELS_DIR, 'fraud', '2', 'model.onnx'));

describe('a registry served over HTTP while versions are dropped into its folder', () => {
  const scratch = tempRegistry();
  const errors: ModelError[] = [];
  let registry: ModelRegistry;
  let server: ModelHttpServer;

  const status = async (): Promise<Status[]> => ((await (await fetch(`${server.url}/v1/models/fraud`)).json()) as { model_version_status: Status[] }).model_version_status;
  const predict = async (path = 'fraud') => {
    const res = await fetch(`${server.url}/v1/models/${path}:predict`, { method: 'POST', body: JSON.stringify({ instances: holdout('2').slice(0, 3) }) });
    return { status: res.status, body: (await res.json()) as { predictions?: { version: string }[]; error?: string } };
  };

  beforeAll(async () => {
    scratch.install('fraud', '2', '1');
    // a version already broken at start: its model.json describes another model's outputs
    drop(scratch.dir, 'fraud', '2', { onnx: fraudOnnx(), json: { ...fraudJson('2'), outputs: [{ name: 'variable', type: 'float32', shape: [null, 1] }], kind: 'regressor' } });
    registry = await ModelRegistry.open(scratch.dir, { pollIntervalMs: 100, workers: 0, drift: false, onError: (e) => errors.push(e) });
    server = await ModelHttpServer.start(registry, { port: 0, dashboard: false });
  });

  afterAll(async () => {
    await server?.close();
    await registry?.close();
    scratch.dispose();
  });

  it('at start, a version whose model.json does not match its model.onnx is END with the mismatch; the good one serves', async () => {
    expect(await status()).toEqual([
      { version: '2', state: 'END', status: { error_code: 'UNKNOWN', error_message: "model.json lists output 'variable' but model.onnx has outputs 'label' (int64), 'probabilities' (float32)" } },
      { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
    ]);
    expect(errors.map((e) => e.message)).toEqual(["model fraud@2: model.json lists output 'variable' but model.onnx has outputs 'label' (int64), 'probabilities' (float32)"]);
    const answer = await predict();
    expect(answer.status).toBe(200);
    expect(answer.body.predictions!.map((p) => p.version)).toEqual(['1', '1', '1']);
  });

  it('a corrupt model.onnx dropped in while serving shows END with the parser\'s error, before any request asks for it', async () => {
    drop(scratch.dir, 'fraud', '3', { onnx: 'this is not an ONNX protobuf', json: fraudJson('3') });
    await waitFor('version 3 listed', async () => (await status()).some((s) => s.version === '3'), 10_000);
    const [three] = await status();
    expect(three).toMatchObject({ version: '3', state: 'END', status: { error_code: 'UNKNOWN' } });
    expect(three!.status.error_message).toMatch(new RegExp(`^cannot be loaded from ${join(scratch.dir, 'fraud', '3', 'model.onnx')}: .*(protobuf|parse|Protobuf)`));
    expect(errors.at(-1)!.message).toBe(`model fraud@3: ${three!.status.error_message}`);
    const answer = await predict();
    expect(answer.body.predictions!.map((p) => p.version)).toEqual(['1', '1', '1']);
  });

  it('a request pinned to the broken version is refused with the same reason, not "see the earlier error"', async () => {
    const [three] = await status();
    const answer = await predict('fraud/versions/3');
    expect(answer.status).toBe(500);
    expect(answer.body.error).toBe(`instance 0: model fraud@3: cannot serve: ${three!.status.error_message} (tried again when its files change)`);
  });

  it('a ZipMap export dropped in while serving shows END saying to export with zipmap off', async () => {
    drop(scratch.dir, 'fraud', '5', { onnx: readFileSync(new URL('../ml/fixtures/zipmap-classifier.onnx', import.meta.url)), json: fraudJson('5') });
    await waitFor('version 5 listed', async () => (await status()).some((s) => s.version === '5'), 10_000);
    const [five] = await status();
    expect(five).toEqual({ version: '5', state: 'END', status: { error_code: 'UNKNOWN', error_message: "'output_probability' is not a tensor (a scikit-learn classifier needs to be exported with zipmap off)" } });
    expect((await predict()).body.predictions!.map((p) => p.version)).toEqual(['1', '1', '1']);
  });

  it('a good version dropped in after them becomes AVAILABLE and serves; the broken ones stay END', async () => {
    const staging = mkdtempSync(join(tmpdir(), 'tributary-staging-'));
    cpSync(join(MODELS_DIR, 'fraud', '2'), staging, { recursive: true });
    writeFileSync(join(staging, 'model.json'), JSON.stringify(fraudJson('6')));
    renameSync(staging, join(scratch.dir, 'fraud', '6'));
    await waitFor('version 6 serving', async () => (await predict()).body.predictions?.[0]?.version === '6', 10_000);
    expect((await status()).map((s) => [s.version, s.state])).toEqual([['6', 'AVAILABLE'], ['5', 'END'], ['3', 'END'], ['2', 'END'], ['1', 'AVAILABLE']]);
  });
});
