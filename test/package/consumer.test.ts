/**
 * The package as a user gets it: `npm pack` this repository, install the tarball into a new
 * TypeScript project (test/package/consumer: "type": "module", module NodeNext, strict with
 * exactOptionalPropertyTypes, noUncheckedIndexedAccess, noPropertyAccessFromIndexSignature and
 * skipLibCheck off), type-check and compile it there, run it with plain node, run its vitest test,
 * and run `npx tributary describe|run` on its `.ts` topology file.
 *
 * The install is offline: the project's lockfile is this repository's, so every package comes from
 * the npm cache that `npm ci` filled here. onnxruntime-node's install script is allowed to run, with
 * ONNXRUNTIME_NODE_INSTALL=skip, the setting the README tells users without outside network to use.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = fileURLToPath(new URL('./consumer/', import.meta.url));

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  [field: string]: unknown;
}

/** The environment of a user's shell: without the test run's `--conditions=tributary-source`. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', NO_COLOR: '1', npm_config_audit: 'false', npm_config_fund: 'false' };
  delete env.NODE_OPTIONS;
  delete env.FORCE_COLOR;
  for (const key of Object.keys(env)) if (key.startsWith('npm_') && key !== 'npm_config_audit' && key !== 'npm_config_fund' && key !== 'npm_config_cache') delete env[key];
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  return env;
}

async function sh(cwd: string, command: string, args: string[], timeout = 120_000): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env: userEnv(), timeout, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stderr ?? ''}\n${stdout ?? ''}`, { cause: error });
  }
}

/**
 * The consumer's package.json and a lockfile made from this repository's: the same versions of
 * tributary's dependencies and of typescript, vitest and @types/node, so `npm ci --offline` works.
 */
function writeProject(dir: string, tarball: string): void {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; license: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string> };
  const version = (name: string): string => lock.packages[`node_modules/${name}`]?.version ?? '*';
  const devDependencies = { '@types/node': version('@types/node'), typescript: version('typescript'), vitest: version('vitest') };
  const dependencies = { tributary: `file:${tarball}` };
  const pkg = {
    name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies, devDependencies,
    allowScripts: { 'onnxruntime-node': true, esbuild: false },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const packages: Record<string, LockEntry> = { '': { name: 'consumer', version: '1.0.0', dependencies, devDependencies } };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '') continue;
    const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
    packages[path] = rest;
  }
  packages['node_modules/tributary'] = {
    version: own.version, resolved: `file:${tarball}`,
    integrity: `sha512-${createHash('sha512').update(readFileSync(join(dir, tarball))).digest('base64')}`,
    license: own.license, dependencies: own.dependencies, bin: own.bin, engines: own.engines,
  };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
}

// Generous limits: on a loaded 2-core machine the type check alone (skipLibCheck off reads every
// declaration of vitest, vite and @types/node) took 60 s, 12 s on an idle one.
describe('the npm package, installed into a new TypeScript project', { timeout: 300_000 }, () => {
  let dir = '';
  let files: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-consumer-'));
    // `npm pack` runs `prepare`, which builds dist/ from the current sources.
    const packed = JSON.parse(await sh(root, 'npm', ['pack', '--json', '--pack-destination', dir], 180_000)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tarball = packed[0]!.filename;
    files = packed[0]!.files.map((f) => f.path);
    writeProject(dir, tarball);
    cpSync(join(fixture, 'src'), join(dir, 'src'), { recursive: true });
    cpSync(join(fixture, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    await sh(dir, 'npm', ['ci', '--offline'], 180_000);
  }, 400_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships compiled JavaScript, declarations and source maps, and no tests, benchmarks or CI files', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'bin/tributary.js', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/cli/main.js', 'dist/ml/onnx-worker.js',
      'dist/dashboard/assets/index.html', 'dist/dashboard/assets/dashboard.js', 'dist/dashboard/assets/dashboard.css']));
    expect(files.filter((f) => /^(test|bench|\.ci|models|topologies)\//.test(f))).toEqual([]);
    const declarations = readFileSync(join(dir, 'node_modules/tributary/dist/dsl/kstream.d.ts'), 'utf8');
    expect(declarations).toContain('mapValues');
    expect(declarations).not.toContain('repartitionAs');
    expect(declarations).not.toContain('repartitionForGrouping');
  });

  it('type-checks and compiles a topology, a script and a unit test with the strictest flags and skipLibCheck off', async () => {
    await sh(dir, join(dir, 'node_modules/.bin/tsc'), ['-p', '.'], 280_000);
  });

  it('runs the compiled script with plain node (no TypeScript loader)', async () => {
    const out = await sh(dir, process.execPath, ['out/app.js']);
    expect(JSON.parse(out)).toEqual({ hello: 4, kafka: 2, streams: 2, typescript: 2 });
  });

  it("runs the project's vitest unit test against the installed package", async () => {
    const out = await sh(dir, join(dir, 'node_modules/.bin/vitest'), ['run', 'src']);
    expect(out).toMatch(/Tests\s+3 passed/);
  });

  it('npx tributary describe loads the .ts topology file without a build step', async () => {
    const out = await sh(dir, 'npx', ['--no-install', 'tributary', 'describe', 'src/word-count.ts']);
    expect(out).toContain('Source: KSTREAM-SOURCE-0000000000 (topics: [lines])');
    expect(out).toContain('counts-repartition');
  });

  it('npx tributary run runs the .ts topology file on the embedded broker', async () => {
    // Without the record cache every count update is an output: one per word of the 200 lines.
    const out = await sh(dir, 'npx', ['--no-install', 'tributary', 'run', 'src/word-count.ts', '--quiet', '--cache-max-entries', '0']);
    expect(out).toMatch(/done: 200 records/);
    expect(out).toContain('counts: 500 records');
    expect(out).toContain('consumer-word-count-dlq: 0 records');
  });

  it('the runner serves the dashboard page, its script and uPlot from the installed package (no other host)', async () => {
    const child = spawn(process.execPath, [join(dir, 'node_modules/tributary/bin/tributary.js'), 'run', 'src/word-count.ts', '--quiet', '--follow', '--metrics-port', '0'], { cwd: dir, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!/dashboard: (http:\S+)/.test(output) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const base = /dashboard: (http:\S+)/.exec(output)?.[1]?.replace(/\/$/, '');
      expect(base, output).toBeDefined();
      const page = await (await fetch(`${base}/`)).text();
      const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((s) => !s.startsWith('data:') && !s.startsWith('#'));
      expect(sources.every((s) => s.startsWith('/dashboard/assets/'))).toBe(true);
      for (const source of sources) {
        const response = await fetch(`${base}${source}`);
        expect(response.status, source).toBe(200);
        expect((await response.arrayBuffer()).byteLength, source).toBeGreaterThan(100);
      }
      expect(sources).toEqual(expect.arrayContaining(['/dashboard/assets/uPlot.iife.min.js', '/dashboard/assets/dashboard.js']));
    } finally {
      child.kill('SIGINT');
      await exited;
    }
  });
});
