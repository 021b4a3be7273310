/**
 * The deployment benchmark's short mode, as CI runs it: the three modes (embedded, HTTP server and
 * Kafka-native server in child processes) on the real broker, every payment scored exactly once,
 * and the JSON and the HTML chart written. Times and rates are only checked to be positive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModeResult } from '../../bench/deployment.ts';

const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/tributary.js', 'bench', 'deployment', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('tributary bench deployment --short', () => {
  it('runs the three modes, scores every payment exactly once and writes the JSON and the chart', { timeout: 120_000 }, async () => {
    const json = join(dir, 'deployment.json');
    const html = join(dir, 'deployment.html');
    const { code, output } = await runBench(['--short', '--json', json, '--html', html]);
    expect(code, output).toBe(0);

    const result = JSON.parse(readFileSync(json, 'utf8')) as { modes: ModeResult[] };
    expect(result.modes.map((m) => m.mode)).toEqual(['embedded', 'http', 'kafka']);
    for (const mode of result.modes) {
      expect(mode.saturation.recordsPerSec, mode.mode).toBeGreaterThan(0);
      expect(mode.fixedLoad.received, mode.mode).toBe(mode.fixedLoad.sent);
      expect(mode.check.outputs, mode.mode).toBe(mode.check.inputs);
      expect(mode.check.distinctScored, mode.mode).toBe(mode.check.inputs);
      expect(mode.check.deadLettered, mode.mode).toBe(0);
      expect(mode.check.allScoredOnce, mode.mode).toBe(true);
      expect(mode.fixedLoad.endToEndLatencyMs.count, mode.mode).toBe(mode.fixedLoad.sent);
    }

    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page.match(/<svg /g)).toHaveLength(3);
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});
