/**
 * The Benchmarks tab draws every benchmark's JSON as charts: run on results the benchmarks wrote
 * (test/fixtures/bench-results), each must give at least one chart, every chart a number, and the
 * benchmark's headline figure must be on one of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the page's plain JavaScript module has no type declarations
import { benchCharts } from '../../src/dashboard/assets/bench-tables.js';

interface Chart { field: string; values: (number | null)[] }
interface Table { path: string; labels: string[]; charts: Chart[] }
const chartsOf = benchCharts as (result: unknown) => Table[];

const dir = fileURLToPath(new URL('../fixtures/bench-results/', import.meta.url));
type Json = Record<string, unknown>;
const at = (value: unknown, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);

/** Per benchmark, where its headline figure is in its result. */
const HEADLINE: Record<string, (r: Json) => unknown> = {
  'crash-exactness.json': (r) => at(r, 'rows', 0, 'words'),
  'onnx-raw.json': (r) => at(r, 'rows', 0, 'rowsPerSec'),
  'predict.json': (r) => at(r, 'rows', 0, 'predictPerSec'),
  'redis-commit.json': (r) => at(r, 'rows', 0, 'changesPerSec'),
  'stateful.json': (r) => r['engineRecordsPerSec'],
  'stateless.json': (r) => r['engineRecordsPerSec'],
  'e2e.json': (r) => at(r, 'throughput', 'stateless', 'oursRecordsPerSec'),
  'deployment.json': (r) => at(r, 'modes', 0, 'saturation', 'recordsPerSec'),
  'kafka-streams-peer.json': (r) => at(r, 'runs', 0, 'recordsPerSec'),
  'dashboard-overhead.json': (r) => at(r, 'rows', 0, 'medianRecordsPerSecond'),
};

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('benchmark results as charts', () => {
  it('has a recorded result of each benchmark it knows, and knows each recorded one', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) expect(Object.keys(HEADLINE)).toContain(file);
  });

  for (const file of files) {
    it(`${file}: charts with numbers, its headline figure on one`, () => {
      const result = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json;
      const tables = chartsOf(result);
      expect(tables.length).toBeGreaterThan(0);
      for (const table of tables) {
        expect(table.charts.length).toBeGreaterThan(0);
        for (const chart of table.charts) {
          expect(chart.values).toHaveLength(table.labels.length);
          expect(chart.values.some((v) => typeof v === 'number')).toBe(true);
        }
      }
      const headline = HEADLINE[file]!(result);
      expect(typeof headline).toBe('number');
      expect(tables.some((t) => t.charts.some((c) => c.values.includes(headline as number)))).toBe(true);
    });
  }

  it('a result without tables still charts its numbers that go together, and a lone number does not', () => {
    const tables = chartsOf({ records: 1000, engineRecordsPerSec: 90, plainRecordsPerSec: 100, ratio: 0.9 });
    expect(tables).toEqual([{ path: 'recordsPerSec', labels: ['engine', 'plain'], charts: [{ field: 'recordsPerSec', values: [90, 100] }] }]);
    // Alike objects make one table, one row per key.
    const byKind = chartsOf({ throughput: { stateless: { ours: 1, raw: 2 }, stateful: { ours: 3, raw: 4 } } });
    expect(byKind).toEqual([{ path: 'throughput', labels: ['stateless', 'stateful'], charts: [{ field: 'ours', values: [1, 3] }, { field: 'raw', values: [2, 4] }] }]);
  });
});
