/**
 * What the dashboard costs the runner: `tributary run` of a model topology at saturation (embedded
 * broker, demo input unthrottled, bench/lib/fraud-saturation.ts) with
 *   - `no metrics port`: no HTTP server, no dashboard sampler;
 *   - `dashboard, no page`: `--metrics-port`, so the dashboard samples the registries every second;
 *   - `page polling (1 s)`: plus one page: its HTML, script, style and uPlot once, then
 *     `/dashboard/data?since=...` every second, as dashboard.js does;
 *   - `10 pages`: ten such pages at once (a margin, not a use).
 * Records/s is the runner's own `done: ... records/s` line (processing only, start-up excluded).
 * Sides run interleaved in every round; the median round counts. The budget: a page costs
 * at most 2 % of the throughput.
 *
 *   npx tsx bench/dashboard-overhead.ts [--records 60000] [--rounds 5] [--json bench/results/dashboard-overhead.json]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, table } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '60000' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'string', default: 'bench/results/dashboard-overhead.json' },
  },
});
const RECORDS = Number(args.records);
const ROUNDS = Number(args.rounds);
const root = fileURLToPath(new URL('..', import.meta.url));

interface Side {
  name: string;
  metricsPort: boolean;
  pages: number;
}
const SIDES: Side[] = [
  { name: 'no metrics port', metricsPort: false, pages: 0 },
  { name: 'dashboard, no page', metricsPort: true, pages: 0 },
  { name: 'page polling (1 s)', metricsPort: true, pages: 1 },
  { name: '10 pages polling (1 s)', metricsPort: true, pages: 10 },
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One page: the assets once, then the data poll every second, until `stop`. */
async function page(base: string, stop: AbortSignal, counts: { requests: number; bytes: number }): Promise<void> {
  const get = async (path: string): Promise<string> => {
    const text = await (await fetch(`${base}${path}`, { signal: stop })).text();
    counts.requests++;
    counts.bytes += text.length;
    return text;
  };
  try {
    for (;;) {
      try {
        await get('/');
        break;
      } catch (error) {
        if (stop.aborted) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    for (const asset of ['uPlot.min.css', 'dashboard.css', 'uPlot.iife.min.js', 'dashboard.js']) await get(`/dashboard/assets/${asset}`);
    let since = 0;
    while (!stop.aborted) {
      const data = JSON.parse(await get(`/dashboard/data?since=${since}`)) as { frames: { t: number }[] };
      since = data.frames.at(-1)?.t ?? since;
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (error) {
    if (!stop.aborted) throw error;
  }
}

async function run(side: Side): Promise<{ recordsPerSecond: number; requests: number; bytes: number }> {
  const port = side.metricsPort ? await freePort() : undefined;
  const child = spawn(process.execPath, ['--conditions=tributary-source', 'bin/tributary.js', 'run', 'bench/lib/fraud-saturation.ts', '--quiet', ...(port === undefined ? [] : ['--metrics-port', String(port)])], {
    cwd: root,
    env: { ...process.env, DASHBOARD_BENCH_RECORDS: String(RECORDS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const stop = new AbortController();
  const counts = { requests: 0, bytes: 0 };
  const pages = Array.from({ length: side.pages }, () => page(`http://127.0.0.1:${port}`, stop.signal, counts));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  stop.abort();
  await Promise.all(pages);
  const match = /done: [\d,]+ records in [\d,]+ ms \(([\d,]+) records\/s\)/.exec(output);
  if (code !== 0 || match === null) throw new Error(`${side.name}: the runner exited ${code}:\n${output}`);
  return { recordsPerSecond: Number(match[1]!.replaceAll(',', '')), ...counts };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const runs: { side: string; round: number; recordsPerSecond: number; requests: number; bytes: number }[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  // Interleaved, in a rotated order per round so that no side always runs first.
  const order = SIDES.map((_, i) => SIDES[(i + round - 1) % SIDES.length]!);
  for (const side of order) {
    const result = await run(side);
    runs.push({ side: side.name, round, ...result });
    console.log(`round ${round}/${ROUNDS} ${side.name}: ${fmt(result.recordsPerSecond)} records/s (${result.requests} requests)`);
  }
}
const baseline = median(runs.filter((r) => r.side === SIDES[0]!.name).map((r) => r.recordsPerSecond));
const rows = SIDES.map((side) => {
  const mine = runs.filter((r) => r.side === side.name);
  const m = median(mine.map((r) => r.recordsPerSecond));
  return { side: side.name, pages: side.pages, medianRecordsPerSecond: m, runs: mine.map((r) => r.recordsPerSecond), costPercent: ((baseline - m) / baseline) * 100, requestsPerRun: median(mine.map((r) => r.requests)) };
});
console.log(`\ndashboard overhead: ${fmt(RECORDS)} payments through an A/B split of the fraud model, embedded broker, ${ROUNDS} rounds interleaved, median\n`);
console.log(table(
  ['side', 'records/s (median)', 'runs', 'cost vs no metrics port', 'HTTP requests per run'],
  rows.map((r) => [r.side, fmt(r.medianRecordsPerSecond), r.runs.map((x) => fmt(x)).join(' / '), `${fmt(r.costPercent, 1)} %`, fmt(r.requestsPerRun)]),
));
const page1 = rows.find((r) => r.pages === 1)!;
const sampler = rows.find((r) => r.side === 'dashboard, no page')!;
console.log(`\none page against the dashboard without a page: ${fmt(((sampler.medianRecordsPerSecond - page1.medianRecordsPerSecond) / sampler.medianRecordsPerSecond) * 100, 1)} % (budget 2 %)`);
mkdirSync(dirname(join(root, args.json)), { recursive: true });
writeFileSync(join(root, args.json), `${JSON.stringify({ bench: 'dashboard-overhead', at: new Date().toISOString(), records: RECORDS, rounds: ROUNDS, rows, runs }, null, 2)}\n`);
console.log(`wrote ${args.json}`);
