/**
 * The dashboard in a real browser: Debian's headless Chromium loads the page of a running
 * `tributary run` (embedded broker, the fraud model in an A/B split and a shadow, input shifted
 * after 3 000 payments), waits until the charts show throughput and a drift alert on `amount`,
 * keeps a screenshot, and fails on any error the page reports. Skipped only where Chromium is not
 * installed and CI is not set; `.ci/run` installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, HeadlessPage } from './chromium.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artefacts = process.env.TRIBUTARY_TEST_ARTIFACTS ?? join(root, '.ci/results');
const chromium = chromiumPath();
if (chromium === undefined) {
  if (process.env.CI) throw new Error('chromium is not installed, and CI must run the browser test: apt-get install -y chromium (.ci/run does)');
  console.warn('test/dashboard/dashboard-browser.test.ts: skipped, chromium is not installed (apt-get install -y chromium)');
}

describe.skipIf(chromium === undefined)('the dashboard in headless Chromium', () => {
  let runner: ChildProcess;
  let output = '';
  let base = '';
  let page: HeadlessPage;
  const benchDir = mkdtempSync(join(tmpdir(), 'tributary-bench-results-'));

  const recorded = join(root, 'test/fixtures/bench-results');

  beforeAll(async () => {
    // The results the benchmarks wrote (test/fixtures/bench-results), beside a small hand-made one.
    cpSync(recorded, benchDir, { recursive: true });
    writeFileSync(join(benchDir, 'sample.json'), JSON.stringify({
      bench: 'sample',
      at: '2026-12-07T00:00:00.000Z',
      rows: [
        { topology: 'stateless', side: 'tributary', recordsPerSecond: 77_249, p99Ms: 240 },
        { topology: 'stateless', side: 'raw kafkajs', recordsPerSecond: 71_578, p99Ms: 140 },
      ],
    }));
    runner = spawn(process.execPath, ['--conditions=tributary-source', 'bin/tributary.js', 'run', 'test/fixtures/topologies/fraud-dashboard.ts', '--metrics-port', '0', '--quiet'], {
      cwd: root,
      env: { ...process.env, TRIBUTARY_BENCH_RESULTS: benchDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runner.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    runner.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/dashboard: (http:\S+)/.test(output) && runner.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const url = /dashboard: (http:\S+)/.exec(output)?.[1];
    if (url === undefined) throw new Error(`the runner printed no dashboard address:\n${output}`);
    base = url.replace(/\/$/, '');
    page = await HeadlessPage.launch(chromium!);
  });

  afterAll(async () => {
    await page?.close();
    if (runner !== undefined && runner.exitCode === null) {
      const exited = new Promise((resolve) => runner.once('exit', resolve));
      runner.kill('SIGINT');
      await exited;
    }
    rmSync(benchDir, { recursive: true, force: true });
  });

  it('shows throughput, model numbers and a drift alert after the input shifts, without a page error', async () => {
    await page.goto(`${base}/`);
    const lastOf = (chart: string): string => `(() => { const c = tributaryDashboard.charts.get('${chart}'); return c && c.plot ? c.last : null; })()`;
    const inRates = await page.waitFor<Record<string, number>>(`(() => { const l = ${lastOf('chart-in')}; return l && Object.values(l).some((v) => v > 0) ? l : null; })()`, 'records/s in above 0');
    expect(Object.keys(inRates).sort()).toEqual(['0_0', '0_1']);
    const alert = await page.waitFor<{ feature: string; model: string }>(
      `(() => { const a = document.querySelector('.alert.drift[data-feature="amount"]'); return a ? { feature: a.dataset.feature, model: a.dataset.model } : null; })()`,
      'a drift alert on amount',
      90_000,
    );
    expect(alert.model).toMatch(/^fraud@[12]$/);
    const drift = await page.evaluate<{ series: string[]; amount: number; threshold: number }>(`(() => {
      const c = tributaryDashboard.charts.get('chart-drift-fraud_1');
      return { series: c.plot.series.map((s) => s.label), amount: c.last.amount, threshold: c.plot.data.at(-1).at(-1) };
    })()`);
    expect(drift.series).toContain('alert threshold');
    expect(drift.threshold).toBe(0.2);
    expect(drift.amount).toBeGreaterThan(drift.threshold);
    const model = await page.waitFor<{ scored: number; p99: number }>(`(() => { const l = ${lastOf('chart-rows-fraud_1')}; const q = ${lastOf('chart-latency-fraud_1')}; return l && l.scored > 0 && q && q.p99 > 0 ? { scored: l.scored, p99: q.p99 } : null; })()`, 'fraud@1 scoring rows');
    expect(model.scored).toBeGreaterThan(0);
    const split = await page.waitFor<string[]>(`(() => { const t = document.querySelector('[id="table-split-fraud"] table'); return t ? [...t.querySelectorAll('td')].map((td) => td.textContent) : null; })()`, 'the A/B split table');
    expect(split.slice(0, 2)).toEqual(['1', '70 %']);
    const stages = await page.waitFor<string[]>(`(() => { const rows = [...document.querySelectorAll('#dead-letters tr[data-stage]')]; return rows.length ? rows.map((r) => r.dataset.stage) : null; })()`, 'dead-lettered records by stage');
    expect(stages).toContain('validate');
    await page.waitFor<boolean>(`tributaryDashboard.charts.get('chart-shadow-agreement')?.plot != null`, 'the shadow agreement chart');
    mkdirSync(artefacts, { recursive: true });
    writeFileSync(join(artefacts, 'dashboard.png'), await page.screenshot());
    expect(page.errors).toEqual([]);
  });

  it('opens a tributary bench result as charts', async () => {
    await page.goto(`${base}/?bench=sample.json#bench`);
    const charts = await page.waitFor<number>(`document.querySelectorAll('#bench-view .uplot').length`, 'the benchmark charts');
    expect(charts).toBe(2);
    const titles = await page.evaluate<string[]>(`[...document.querySelectorAll('#bench-view .u-title')].map((t) => t.textContent)`);
    expect(titles).toEqual(['recordsPerSecond', 'p99Ms']);
    writeFileSync(join(artefacts, 'dashboard-bench.png'), await page.screenshot());
    expect(page.errors).toEqual([]);
  });

  it('opens the result of every benchmark that writes JSON as charts with numbers', async () => {
    const names = readdirSync(recorded).filter((f) => f.endsWith('.json')).sort();
    expect(names.length).toBeGreaterThanOrEqual(6);
    const listed = await (await fetch(`${base}/dashboard/bench`)).json() as { files: { name: string }[] };
    expect(listed.files.map((f) => f.name)).toEqual(expect.arrayContaining(names));
    for (const name of names) {
      await page.goto(`${base}/?bench=${encodeURIComponent(name)}#bench`);
      // As many uPlot charts as the page's own module says the result has, each with a bar of a number.
      const drawn = await page.waitFor<{ expected: number; drawn: number; withNumbers: number }>(`(async () => {
        const { benchCharts } = await import('/dashboard/assets/bench-tables.js');
        const result = await (await fetch('/dashboard/bench/${encodeURIComponent(name)}')).json();
        const expected = benchCharts(result).reduce((n, t) => n + t.charts.length, 0);
        const plots = [...document.querySelectorAll('#bench-view .uplot')];
        if (expected === 0 || plots.length < expected) return null;
        return { expected, drawn: plots.length, withNumbers: plots.filter((p) => p.querySelector('canvas')).length };
      })()`, `the charts of ${name}`);
      expect(drawn.drawn).toBe(drawn.expected);
      expect(drawn.withNumbers).toBe(drawn.expected);
      if (name === 'stateless.json') writeFileSync(join(artefacts, 'dashboard-bench-stateless.png'), await page.screenshot());
    }
    expect(page.errors).toEqual([]);
  });

  it('a page that throws is reported, so the tests above would fail on one', async () => {
    const probe = await HeadlessPage.launch(chromium!);
    try {
      await probe.goto(`data:text/html,<script>console.error('broken'); throw new Error('the page threw')</script>`);
      const deadline = Date.now() + 20_000;
      while (probe.errors.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(probe.errors.map((e) => e.kind).sort()).toEqual(['console', 'exception']);
      expect(probe.errors.find((e) => e.kind === 'exception')!.text).toContain('the page threw');
    } finally {
      await probe.close();
    }
  });
});
