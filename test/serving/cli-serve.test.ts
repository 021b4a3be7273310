import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry, type Prediction, type RegistryOutput } from 'tributary';
import { embedded, expectSamePredictions, holdout } from './helpers.ts';

let child: ChildProcess | undefined;

afterAll(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

function run(args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, ['bin/tributary.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { child: proc, output: () => output, exit };
}

describe('tributary serve (the CLI)', () => {
  it('serves TF-Serving requests like curl would send them, with the embedded model\'s predictions, and closes on SIGTERM', async () => {
    const server = run(['serve', 'models', '--http', '0', '--host', '127.0.0.1']);
    child = server.child;
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (url === undefined) {
      if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(`the server did not start:\n${server.output()}`);
      url = /http listening on (http:\/\/\S+)/.exec(server.output())?.[1];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(server.output()).toMatch(/models breast-cancer \(1\), car-anomaly \(1\), car-range \(1\), fraud \(1, 2\), trip-forecast \(1\)/);

    const records = holdout('2').slice(0, 25);
    const res = await fetch(`${url}/v1/models/fraud:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: records }) });
    expect(res.status).toBe(200);
    const { predictions } = (await res.json()) as { predictions: Prediction<RegistryOutput>[] };
    const registry = await ModelRegistry.open('models', { pollIntervalMs: 0 });
    expectSamePredictions(predictions, await embedded(registry, '2', records));
    await registry.close();

    const bad = await fetch(`${url}/v1/models/fraud:predict`, { method: 'POST', body: 'not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not valid JSON/);

    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    expect(server.output()).toMatch(/SIGTERM, closing[\s\S]*closed/);
  });

  it('without --kafka or --http it exits with a clear error, and code 2 (a usage error)', async () => {
    const server = run(['serve', 'models']);
    expect(await server.exit).toBe(2);
    expect(server.output()).toMatch(/choose at least one listener: --kafka and\/or --http <port>/);
  });
});
