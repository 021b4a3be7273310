/**
 * The whole suite runs on one Kafka version (the default, unless KAFKA_BROKERS points elsewhere);
 * this file runs a smoke set of Kafka-backed tests on the other supported line, so that one
 * `npm test` covers Kafka 3.9 and 4.x. It brings up a broker of that version on other ports (as
 * `tributary services up --kafka-version <v> --kafka-port <n>` does, fetched once into the cache)
 * and runs the smoke files against it in a child vitest.
 *
 * TRIBUTARY_SMOKE_KAFKA_VERSION picks the version (`none` skips), TRIBUTARY_SMOKE_KAFKA_PORT the port.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KAFKA_VERSION, acquireServices, type ServicesLease } from '../../src/cli/services/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = process.env.TRIBUTARY_SMOKE_KAFKA_VERSION || (DEFAULT_KAFKA_VERSION.startsWith('4.') ? '3.9.2' : '4.4.0');
const port = Number(process.env.TRIBUTARY_SMOKE_KAFKA_PORT || 19292);

/** Topic creation, a consumer group sharing partitions, transactions read committed, co-partitioned groups and commits, fencing and exactly-once after a SIGKILL. */
const SMOKE_FILES = ['test/integration/services.test.ts', 'test/transport/kafka-transport.test.ts', 'test/faults/exactly-once.test.ts', 'test/integration/producer-refusals.test.ts'];
const SMOKE_TESTS = ['servicesUp is idempotent', 'records the broker would refuse', 'Kafka with kafkajs', 'KafkaTransport', 'transactional producers', 'SIGKILL mid-stream, restart: exactly one output per input'];

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

function runVitest(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('close', (code) => done({ code, output }));
  });
}

describe.skipIf(version === 'none')(`Apache Kafka ${version} (smoke)`, () => {
  let lease: ServicesLease | undefined;
  const reportDir = mkdtempSync(join(tmpdir(), 'tributary-smoke-'));

  beforeAll(async () => {
    lease = await acquireServices({ quiet: true, redis: false, kafkaVersion: version, kafkaPort: port });
  });

  afterAll(async () => {
    await lease?.release({ keep: process.env.TRIBUTARY_KEEP_SERVICES === '1' });
    rmSync(reportDir, { recursive: true, force: true });
  });

  it('passes the Kafka-backed smoke tests: topics, groups, transactions, exactly-once after a SIGKILL', async () => {
    const report = join(reportDir, 'report.json');
    // A plain child run: not CI (whose reporter would overwrite this run's report), not inside this worker's vitest.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'CI' && name !== 'NODE_ENV'));
    const { code, output } = await runVitest(
      [...SMOKE_FILES, '-t', SMOKE_TESTS.join('|'), '--maxWorkers=1', '--minWorkers=1', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
      { ...env, KAFKA_BROKERS: lease!.brokers.join(','), TRIBUTARY_KAFKA_VERSION: version, TRIBUTARY_KAFKA_PORT: String(port) },
    );
    let parsed: VitestReport | undefined;
    try {
      parsed = JSON.parse(readFileSync(report, 'utf8')) as VitestReport;
    } catch {
      parsed = undefined;
    }
    const failed = (parsed?.testResults ?? []).flatMap((f) =>
      f.assertionResults.filter((t) => t.status === 'failed').map((t) => `${t.fullName}: ${t.failureMessages[0]?.split('\n')[0] ?? ''}`),
    );
    const summary = `on Apache Kafka ${version} (${lease!.brokers.join(',')}): exit ${code}; failed:\n${failed.join('\n')}\n${output.split('\n').slice(-25).join('\n')}`;
    expect(failed, summary).toEqual([]);
    expect(code, summary).toBe(0);
    expect(parsed?.numPassedTests ?? 0, summary).toBeGreaterThanOrEqual(10);
    console.log(`smoke on Apache Kafka ${version} (${lease!.brokers.join(',')}): ${parsed?.numPassedTests} passed, 0 failed`);
  }, 300_000);
});
