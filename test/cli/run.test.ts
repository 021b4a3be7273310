/**
 * `tributary run`: flags and environment variables, fail-fast messages, and the embedded run of a
 * topology file with its demo input, as `npm start` does it.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../src/cli/run.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('tributary run arguments', () => {
  it('reads flags first, then TRIBUTARY_* environment variables', () => {
    const env = { TRIBUTARY_BROKERS: 'env:9092', TRIBUTARY_REDIS: 'redis://env', TRIBUTARY_METRICS_PORT: '9400', TRIBUTARY_APPLICATION_ID: 'from-env' };
    const settings = parseRunArgs(['t.ts', '--brokers', 'a:9092,b:9092', '--guarantee', 'at-least-once', '--follow'], env);
    expect(settings).toMatchObject({
      file: 't.ts',
      brokers: ['a:9092', 'b:9092'],
      redis: 'redis://env',
      applicationId: 'from-env',
      guarantee: 'at-least-once',
      metricsPort: 9400,
      follow: true,
      createTopics: false,
    });
    expect(parseRunArgs(['t.ts'], {}).brokers).toBeUndefined();
    expect(parseRunArgs(['t.ts', '--fail-on-stall', '--watchdog-interval', '2000'], {})).toMatchObject({ failOnStall: true, watchdogIntervalMs: 2_000 });
    expect(parseRunArgs(['t.ts'], { TRIBUTARY_FAIL_ON_STALL: '1' })).toMatchObject({ failOnStall: true, watchdogIntervalMs: undefined });
    expect(parseRunArgs(['t.ts'], {}).failOnStall).toBe(false);
  });

  it('fails fast on unknown flags and bad values, saying what to fix', () => {
    expect(() => parseRunArgs(['t.ts', '--brokerz', 'x'], {})).toThrow(/Unknown option '--brokerz'[\s\S]*--brokers <host:port/);
    expect(() => parseRunArgs(['t.ts', '--metrics-port', 'abc'], {})).toThrow(/--metrics-port must be a non-negative integer, got 'abc'/);
    expect(() => parseRunArgs(['t.ts', '--guarantee', 'maybe'], {})).toThrow(/--guarantee must be at-least-once or exactly-once/);
    expect(() => parseRunArgs([], {})).toThrow(/name a topology file/);
  });

  it('takes --advertised-url only with the metrics port, Redis and Kafka it needs', () => {
    const full = ['t.ts', '--brokers', 'k:9092', '--redis', 'redis://r', '--metrics-port', '9464', '--advertised-url', 'http://10.0.0.5:9464'];
    expect(parseRunArgs(full, {}).advertisedUrl).toBe('http://10.0.0.5:9464');
    expect(parseRunArgs(['t.ts', '--brokers', 'k:9092', '--redis', 'redis://r', '--metrics-port', '9464'], { TRIBUTARY_ADVERTISED_URL: 'http://h:1' }).advertisedUrl).toBe('http://h:1');
    expect(() => parseRunArgs(['t.ts', '--brokers', 'k:9092', '--redis', 'redis://r', '--advertised-url', 'http://h:1'], {})).toThrow(/--advertised-url needs --metrics-port/);
    expect(() => parseRunArgs(['t.ts', '--metrics-port', '1', '--advertised-url', 'http://h:1'], {})).toThrow(/--advertised-url needs --brokers and --redis/);
    expect(() => parseRunArgs([...full, '--processes', '2'], {})).toThrow(/one runner per URL/);
  });
});

describe('tributary run, embedded', () => {
  it('runs word count on the embedded broker with its demo input and prints a summary', async () => {
    const { stdout } = await run(process.execPath, ['bin/tributary.js', 'run', 'topologies/word-count.ts', '--cache-max-entries', '0'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/running word-count .* on the embedded broker with in-memory state/);
    expect(stdout).toMatch(/done: 5,000 records in/);
    // 5,000 lines of 3 to 10 words, without the record cache: one count update per word.
    expect(stdout).toMatch(/word-counts: 29,000 records/);
    expect(stdout).toMatch(/word-count-dlq: 0 records/);
  });

  it('keeps running after the demo input with --follow, until SIGINT', async () => {
    const child = spawn(process.execPath, ['bin/tributary.js', 'run', 'topologies/word-count.ts', '--follow'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 30_000;
    while (!output.includes('--follow: still running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain('demo input processed; --follow: still running, Ctrl-C to stop');
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGINT: draining, committing and leaving the group/);
    // With the record cache (the default) a word's updates within a commit interval are merged.
    expect(mergedOutputs(output)).toBeLessThan(29_000);
  });

  it('runs exactly-once embedded as at-least-once (in memory there is no crash to recover from)', async () => {
    const { stdout } = await run(process.execPath, ['bin/tributary.js', 'run', 'topologies/word-count.ts', '--guarantee', 'exactly-once'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/done: 5,000 records in/);
    expect(mergedOutputs(stdout)).toBeLessThan(29_000);
  });
});

/** The summary's count of word-count outputs; more than none, and each a word's latest count. */
function mergedOutputs(output: string): number {
  const match = /word-counts: ([\d,]+) records/.exec(output);
  expect(match, output).not.toBeNull();
  const count = Number(match![1]!.replaceAll(',', ''));
  expect(count).toBeGreaterThan(0);
  return count;
}
