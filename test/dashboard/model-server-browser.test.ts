/**
 * The model server's dashboard in a real browser: `tributary serve models --http 0` with requests
 * flowing to both versions of the fraud model (real holdout payments, several clients at once);
 * Debian's headless Chromium loads `/`, waits until the request chart and each version's charts
 * (rows scored/s, latency, batch size, predictions by label) show non-zero numbers, keeps a
 * screenshot, and fails on any error the page reports. `tributary serve` has no traffic split or
 * shadow of its own (those are `.predict` options of a topology, shown by the runner's page, see
 * dashboard-browser.test.ts), so the page must show neither section here. Skipped only where
 * Chromium is not installed and CI is not set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdout } from '../serving/helpers.ts';
import { chromiumPath, HeadlessPage } from './chromium.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artefacts = process.env.TRIBUTARY_TEST_ARTIFACTS ?? join(root, '.ci/results');
const chromium = chromiumPath();
if (chromium === undefined) {
  if (process.env.CI) throw new Error('chromium is not installed, and CI must run the browser test: apt-get install -y chromium (.ci/run does)');
  console.warn('test/dashboard/model-server-browser.test.ts: skipped, chromium is not installed (apt-get install -y chromium)');
}

describe.skipIf(chromium === undefined)('the model server dashboard in headless Chromium', () => {
  let server: ChildProcess;
  let output = '';
  let base = '';
  let page: HeadlessPage;
  const stop = new AbortController();
  const answered = { ok: 0, failed: 0 };
  let clients: Promise<void>[] = [];

  /** One client: POSTs a few holdout payments at a time to `path` until the test ends. */
  async function client(path: string, records: readonly Record<string, number>[], offset: number): Promise<void> {
    let i = offset;
    while (!stop.signal.aborted) {
      const instances = Array.from({ length: 8 }, () => records[i++ % records.length]!);
      try {
        const res = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify({ instances }), headers: { 'content-type': 'application/json' }, signal: stop.signal });
        await res.text();
        if (res.ok) answered.ok++;
        else answered.failed++;
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  beforeAll(async () => {
    server = spawn(process.execPath, ['--conditions=tributary-source', 'bin/tributary.js', 'serve', 'models', '--http', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/http listening on (http:\S+)/.test(output) && server.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const url = /http listening on (http:\S+)/.exec(output)?.[1];
    if (url === undefined) throw new Error(`tributary serve printed no address:\n${output}`);
    base = url;
    const payments = holdout('1');
    // The newest version (2) by default, and version 1 by name: two model sections on the page.
    clients = [0, 1, 2].map((n) => client('/v1/models/fraud:predict', payments, n * 100)).concat(client('/v1/models/fraud/versions/1:predict', payments, 500));
    page = await HeadlessPage.launch(chromium!);
  });

  afterAll(async () => {
    stop.abort();
    await Promise.all(clients).catch(() => undefined);
    await page?.close();
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
    }
  });

  it('shows requests/s and each version\'s rows, latency, batch size and predictions by label while requests flow, without a page error', async () => {
    await page.goto(`${base}/`);
    const lastOf = (chart: string): string => `(() => { const c = tributaryDashboard.charts.get('${chart}'); return c && c.plot ? c.last : null; })()`;
    const positive = (chart: string): string => `(() => { const l = ${lastOf(chart)}; return l && Object.values(l).some((v) => v > 0) ? l : null; })()`;
    const requests = await page.waitFor<Record<string, number>>(positive('chart-requests'), 'requests/s above 0');
    expect(Object.keys(requests)).toContain('http fraud ok');
    expect(requests['http fraud ok']).toBeGreaterThan(0);
    for (const version of ['1', '2']) {
      const slug = `fraud_${version}`;
      const rows = await page.waitFor<{ scored: number; errors: number }>(positive(`chart-rows-${slug}`), `fraud@${version} rows scored/s above 0`);
      expect(rows.scored).toBeGreaterThan(0);
      expect(rows.errors).toBe(0);
      const latency = await page.waitFor<{ p50: number; p99: number }>(positive(`chart-latency-${slug}`), `fraud@${version} latency`);
      expect(latency.p99).toBeGreaterThanOrEqual(latency.p50);
      expect(latency.p50).toBeGreaterThan(0);
      const batch = await page.waitFor<Record<string, number>>(positive(`chart-batch-${slug}`), `fraud@${version} batch size`);
      expect(batch['batch size']).toBeGreaterThanOrEqual(1);
      const labels = await page.waitFor<Record<string, number>>(positive(`chart-labels-${slug}`), `fraud@${version} predictions by label`);
      // The series are the model's own labels (model.json); most of the holdout is legitimate.
      const known = (JSON.parse(readFileSync(join(root, `models/fraud/${version}/model.json`), 'utf8')) as { labels: string[] }).labels;
      expect(known).toContain('legit');
      expect(Object.keys(labels).filter((label) => !known.includes(label))).toEqual([]);
      expect(labels['legit']).toBeGreaterThan(0);
    }
    const page_ = await page.evaluate<{ kind: string; cards: Record<string, string>; splits: number; shadows: number; runtimeHidden: boolean }>(`(() => ({
      kind: document.getElementById('kind').textContent,
      cards: Object.fromEntries([...document.querySelectorAll('#summary .card')].map((c) => [c.dataset.metric, c.dataset.value])),
      splits: document.querySelectorAll('#splits .chart').length,
      shadows: document.querySelectorAll('#shadows .chart').length,
      runtimeHidden: [...document.querySelectorAll('[data-part=runtime]')].every((p) => p.hidden),
    }))()`);
    expect(page_.kind).toBe('model server');
    expect(Number(page_.cards['requests'])).toBeGreaterThan(0);
    expect(page_.runtimeHidden).toBe(true);
    expect([page_.splits, page_.shadows]).toEqual([0, 0]);
    expect(answered.ok).toBeGreaterThan(0);
    expect(answered.failed).toBe(0);
    // A few seconds of history, so the screenshot shows lines rather than one point per series.
    await page.waitFor<boolean>('tributaryDashboard.frames.length >= 6', 'six frames of history');
    mkdirSync(artefacts, { recursive: true });
    writeFileSync(join(artefacts, 'dashboard-model-server.png'), await page.screenshot());
    expect(page.errors).toEqual([]);
  });
});
