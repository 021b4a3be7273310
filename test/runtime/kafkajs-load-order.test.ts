/**
 * kafkajs's read_committed filter is fixed only when tributary loads before kafkajs
 * (src/transport/kafkajs-patches.ts). A program that imports kafkajs first gets a clear refusal
 * of exactly-once, which would otherwise count some aborted records, instead of silent doubles.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/load-order/load-order.ts', import.meta.url));

async function run(guarantee: string, first = 'kafkajs'): Promise<string> {
  const { stdout } = await exec(process.execPath, ['--conditions=tributary-source', '--import', 'tsx', fixture, first, guarantee], { timeout: 60_000 });
  return stdout.trim();
}

describe('kafkajs loaded before tributary', () => {
  it('refuses exactly-once with what to change, and leaves at-least-once (no transactions read) alone', async () => {
    expect(await run('exactly-once')).toBe(
      "processingGuarantee 'exactly-once' needs Tributary's fix to kafkajs's read_committed filter (kafkajs 2.2.4 delivers some aborted records), and it could not be installed because kafkajs was loaded before tributary: import 'tributary' before 'kafkajs' in your program",
    );
    expect(await run('at-least-once')).toBe('started');
    expect(await run('exactly-once', 'tributary')).toBe('started');
  }, 90_000);
});
