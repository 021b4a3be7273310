/**
 * `npx tributary serve` as a user starts it in their project: npm exec → `sh -c tributary ...` →
 * node bin/tributary.js. A SIGTERM to the npx process (what a supervisor or `kill` sends) must stop
 * the server: npm passes it to the shell, which dies without passing it on, so the server watches
 * for its parent to go. Afterwards no process of the tree remains.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const project = mkdtempSync(join(tmpdir(), 'tributary-npx-'));
const started: number[] = [];

/** A user's project with tributary installed: node_modules/tributary (this checkout) and its bin link, as npm makes them. */
function userProject(): void {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'npx-user', private: true, type: 'module' }));
  mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(root, join(project, 'node_modules', 'tributary'));
  symlinkSync('../tributary/bin/tributary.js', join(project, 'node_modules', '.bin', 'tributary'));
}

/** Every process below `pid`, from the ps table (Linux). */
function descendants(pid: number): { pid: number; command: string }[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!).map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), command: m[3]! }));
  const found: { pid: number; command: string }[] = [];
  const walk = (parent: number): void => {
    for (const row of rows.filter((r) => r.ppid === parent)) {
      found.push({ pid: row.pid, command: row.command });
      walk(row.pid);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(project, { recursive: true, force: true });
});

describe('npx tributary serve', () => {
  it('a SIGTERM to the npx process reaches the server: it closes and no process of the tree remains', async () => {
    userProject();
    // the test run's NODE_OPTIONS (--conditions=tributary-source) is inherited: the server runs the sources
    const npx = spawn('npx', ['tributary', 'serve', join(root, 'models'), '--http', '0'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npx.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npx.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('the server to listen', () => /http listening on/.test(output) || npx.exitCode !== null, 60_000);
    expect(output).toMatch(/http listening on/);

    const tree = descendants(npx.pid!);
    started.push(...tree.map((p) => p.pid));
    const server = tree.find((p) => /bin\/tributary(\.js)? serve/.test(p.command));
    expect(server, `the process tree: ${JSON.stringify(tree)}`).toBeDefined();
    // npm runs the bin through a shell: the server is not npx's own child, which is why the signal got lost
    expect(tree.length).toBeGreaterThanOrEqual(2);

    npx.kill('SIGTERM');
    await waitFor('every process of the tree to exit', () => tree.every((p) => !alive(p.pid)), 30_000);
    expect(output).toMatch(/is gone; stopping as on SIGTERM[\s\S]*tributary serve: SIGTERM, closing[\s\S]*tributary serve: closed/);
  }, 90_000);
});
