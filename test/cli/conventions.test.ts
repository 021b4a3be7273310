/** The `tributary` command's conventions: help per command, --version, exit codes, unknown flags, actionable errors. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCode, main } from '../../src/cli/cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a command line in this process, as bin/tributary.js does: its exit code and what it printed. */
async function tributary(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void (stdout += `${parts.join(' ')}\n`));
  vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void (stderr += `${parts.join(' ')}\n`));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } catch (error) {
    return { code: exitCode(error), stdout, stderr: `${stderr}tributary: ${error instanceof Error ? error.message : String(error)}\n` };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('tributary command line', () => {
  it("<command> --help and -h print that command's usage and exit 0", async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', '--help'], /^tributary run <topology\.ts> \[options\][\s\S]*--fail-on-dead-letter/],
      [['describe', '--help'], /^tributary describe <topology\.ts>[\s\S]*--mermaid/],
      [['serve', '-h'], /^tributary serve <models-folder>[\s\S]*--request-topic/],
      [['services', '--help'], /^Usage: tributary services <up\|down\|status>/],
      [['bench', '--help'], /^tributary bench \[name\]/],
      [['run', 'topologies/word-count.ts', '--help'], /^tributary run <topology\.ts>/],
    ];
    for (const [args, usage] of cases) {
      const { code, stdout } = await tributary(...args);
      expect(code, args.join(' ')).toBe(0);
      expect(stdout, args.join(' ')).toMatch(usage);
    }
  });

  it('--version prints the package version; the top-level usage lists every command and flag', async () => {
    const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };
    expect((await tributary('--version')).stdout.trim()).toBe(version);
    const { code, stdout } = await tributary('--help');
    expect(code).toBe(0);
    for (const command of ['run', 'describe', 'serve', 'services', 'bench']) expect(stdout).toContain(`tributary ${command} `);
    for (const flag of ['--brokers', '--redis', '--application-id', '--guarantee', '--metrics-port', '--commit-interval', '--create-topics', '--fail-on-dead-letter', '--fail-on-stall', '--watchdog-interval', '--follow', '--quiet', '--mermaid', '--http', '--host', '--kafka', '--group', '--request-topic', '--version']) {
      expect(stdout).toContain(flag);
    }
  });

  it('an unknown command says so on stderr and exits 2', async () => {
    const { code, stdout, stderr } = await tributary('frobnicate');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^tributary: unknown command 'frobnicate'/);
  });

  it('every command rejects unknown flags with exit 2, and takes flags before or after the file', async () => {
    for (const args of [['run', 'topologies/word-count.ts', '--brokerz', 'x'], ['describe', '--mermaids', 'topologies/word-count.ts'], ['serve', 'models', '--htp', '8501'], ['services', 'status', '--verbose']]) {
      const { code, stderr } = await tributary(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(/Unknown option '--(brokerz|mermaids|htp|verbose)'/);
    }
    const before = await tributary('describe', '--mermaid', 'topologies/word-count.ts');
    const after = await tributary('describe', 'topologies/word-count.ts', '--mermaid');
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/^(flowchart|graph)/m);
    expect(after.stdout).toBe(before.stdout);
  });

  it('a missing file is "file not found", and a topology that throws while building shows its file and line', async () => {
    const missing = await tributary('describe', 'topologies/nope.ts');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('tributary: file not found: topologies/nope.ts');
    const throws = await tributary('describe', 'test/fixtures/cli/throws-while-building.ts');
    expect(throws.code).toBe(1);
    expect(throws.stderr.trim()).toBe('tributary: test/fixtures/cli/throws-while-building.ts:5:9: the topology failed to build: no such model: fraud-v9');
  });

  it('the embedded run prints the first dead-letter reasons, and --fail-on-dead-letter exits 1', async () => {
    const all = await tributary('run', 'test/fixtures/cli/dead-letters.ts', '--quiet');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('dead-letters-dlq: 4 records');
    expect(all.stdout).toMatch(/first dead-letter reasons:\n {2}amounts\/0@7 \(process\): .*negative amount -7/);
    const failing = await tributary('run', 'test/fixtures/cli/dead-letters.ts', '--quiet', '--fail-on-dead-letter');
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/negative amount -7/);
    expect(failing.stdout).toContain('stopped at the first dead-lettered record (--fail-on-dead-letter)');
  });

  it('bin/tributary.js exits with those codes: 2 for an unknown command, 0 for a command --help', async () => {
    const exit = (args: string[]) => new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/tributary.js', ...args], { cwd: root, timeout: 60_000 }, (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr });
      });
    });
    const [unknown, help] = await Promise.all([exit(['frobnicate']), exit(['describe', '--help'])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(help.code).toBe(0);
  });
});
