/**
 * What the dashboard costs the runner: `tributary run` of a model topology at saturation (embedded
 * broker, demo input unthrottled, bench/lib/fraud-saturation.ts) with
 *   - `no metrics port`: no HTTP server, no dashboard sampler;
 *   - `dashboard, no page`: `--metrics-port`, so the dashboard samples the registries every second
 *     (the reference the page sides are compared with);
 *   - `HTTP poll, 1 s`: one page's traffic as dashboard.js makes it (bench/lib/dashboard-pages.ts);
 *   - `chromium page`: the real page in headless Chromium (skipped without Chromium);
 *   - `N pollers`: N pages' data polls at once (no assets), started over one second: one page's
 *     poll cost made about N times larger, so that it stands above the noise; its cost divided by
 *     the data polls per second actually served estimates the cost of one poll a second.
 * Records/s is the runner's own `done: ... records/s` line (processing only, start-up excluded).
 * Throughput on a shared machine moves with the other load; the CPU time the runner process used
 * while processing (/proc/<pid>/stat, from its `dashboard:` line to its `done:` line, all threads)
 * moves much less, so it is measured too: per 1 000 records, and per data poll (the N pollers'
 * extra CPU over the reference's in the same round, divided by the polls they made). A runner at
 * saturation is bound by its main thread, so a poll costing c ms of CPU once a second costs about
 * c / 1000 of its throughput.
 * All sides run once per round, in an order rotated each round; the page sides are compared with
 * `dashboard, no page` of the same round (paired), and the median of those per-round costs, their
 * spread and how many rounds were over budget are printed against the issue's budget of 2 %.
 *
 *   npx tsx bench/dashboard-overhead.ts [--records 150000] [--rounds 7] [--amplify 200] [--json bench/results/dashboard-overhead.json]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromiumPath, HeadlessPage } from '../test/dashboard/chromium.ts';
import { chromiumPolls, httpPoller, openInChromium, type PollCounts } from './lib/dashboard-pages.ts';
import { fmt, table } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '150000' },
    rounds: { type: 'string', default: '7' },
    amplify: { type: 'string', default: '200' },
    json: { type: 'string', default: 'bench/results/dashboard-overhead.json' },
  },
});
const RECORDS = Number(args.records);
const ROUNDS = Number(args.rounds);
const AMPLIFY = Number(args.amplify);
for (const [flag, value] of [['--records', RECORDS], ['--rounds', ROUNDS], ['--amplify', AMPLIFY]] as const) {
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${flag} needs a positive whole number, got ${String(value)}`);
}
const BUDGET_PERCENT = 2;
const root = fileURLToPath(new URL('..', import.meta.url));

type Load = 'none' | 'http' | 'chromium' | 'amplified';
interface Side {
  name: string;
  metricsPort: boolean;
  load: Load;
  /** Polls a second the side makes (1 for a page). */
  pollsPerSecond: number;
}
const chromium = chromiumPath();
const SIDES: Side[] = [
  { name: 'no metrics port', metricsPort: false, load: 'none', pollsPerSecond: 0 },
  { name: 'dashboard, no page', metricsPort: true, load: 'none', pollsPerSecond: 0 },
  { name: 'HTTP poll, 1 s', metricsPort: true, load: 'http', pollsPerSecond: 1 },
  ...(chromium === undefined ? [] : [{ name: 'chromium page', metricsPort: true, load: 'chromium' as const, pollsPerSecond: 1 }]),
  { name: `${AMPLIFY} pollers, 1 s`, metricsPort: true, load: 'amplified', pollsPerSecond: AMPLIFY },
];
const REFERENCE = 'dashboard, no page';
if (chromium === undefined) console.warn('chromium is not installed: the chromium page side is left out (apt-get install -y chromium)');

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

/** The browser stays open for the whole run (on about:blank between its sides), so its start-up is in no side. */
const browser = chromium === undefined ? undefined : await HeadlessPage.launch(chromium);

interface Run {
  side: string;
  round: number;
  recordsPerSecond: number;
  requests: number;
  dataPolls: number;
  bytes: number;
  /** The runner's processing time (its `done:` line). */
  elapsedMs: number;
  /** CPU ms the runner used from its `dashboard:` line to its `done:` line; null without a metrics port. */
  cpuMs: number | null;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux
/** utime + stime of a live process, all threads, in ms; undefined once it is gone. */
function cpuOf(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

async function run(side: Side, round: number): Promise<Run> {
  const port = side.metricsPort ? await freePort() : undefined;
  const child = spawn(process.execPath, ['--conditions=tributary-source', 'bin/tributary.js', 'run', 'bench/lib/fraud-saturation.ts', '--quiet', ...(port === undefined ? [] : ['--metrics-port', String(port)])], {
    cwd: root,
    env: { ...process.env, DASHBOARD_BENCH_RECORDS: String(RECORDS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let cpuAtStart: number | undefined;
  let cpuAtDone: number | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // The load starts once the runner says its dashboard is up, which is when its processing starts.
  const up = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (cpuAtStart === undefined && output.includes('dashboard: http')) {
        cpuAtStart = cpuOf(child.pid);
        resolve();
      }
      if (cpuAtDone === undefined && output.includes('done: ')) cpuAtDone = cpuOf(child.pid);
    });
  });
  const stop = new AbortController();
  const counts: PollCounts = { requests: 0, dataPolls: 0, bytes: 0 };
  const base = `http://127.0.0.1:${port}`;
  let load: Promise<void> = Promise.resolve();
  if (side.load !== 'none') {
    load = Promise.race([up, exited.then(() => undefined)]).then(async () => {
      if (child.exitCode !== null) return;
      if (side.load === 'http') await httpPoller(base, stop.signal, counts);
      else if (side.load === 'amplified') {
        await Promise.all(Array.from({ length: AMPLIFY }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, (1000 * i) / AMPLIFY));
          if (!stop.signal.aborted) await httpPoller(base, stop.signal, counts, { assets: false });
        }));
      }
      else await openInChromium(browser!, base);
    }).catch(async (error: unknown) => {
      // The runner closes its port once it is done: a poll refused after its `done:` line is the end of the run.
      await exited;
      if (!/done: /.test(output)) throw error;
    });
  }
  const code = await exited;
  stop.abort();
  await load;
  if (side.load === 'chromium') {
    counts.dataPolls = await chromiumPolls(browser!);
    await browser!.goto('about:blank');
  }
  const match = /done: [\d,]+ records in ([\d,]+) ms \(([\d,]+) records\/s\)/.exec(output);
  if (code !== 0 || match === null) throw new Error(`${side.name}: the runner exited ${code}:\n${output}`);
  const number = (s: string): number => Number(s.replaceAll(',', ''));
  const cpuMs = cpuAtStart === undefined || cpuAtDone === undefined ? null : cpuAtDone - cpuAtStart;
  if (side.metricsPort && cpuMs === null) console.warn(`${side.name}: the runner was gone before its CPU time could be read; this run has no CPU figure`);
  return { side: side.name, round, recordsPerSecond: number(match[2]!), elapsedMs: number(match[1]!), cpuMs, ...counts };
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(s.length - 1, lo + 1)]! - s[lo]!) * (at - lo);
};
const median = (xs: readonly number[]): number => quantile(xs, 0.5);

const runs: Run[] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const order = SIDES.map((_, i) => SIDES[(i + round - 1) % SIDES.length]!);
    for (const side of order) {
      const result = await run(side, round);
      runs.push(result);
      console.log(`round ${round}/${ROUNDS} ${side.name}: ${fmt(result.recordsPerSecond)} records/s (${result.dataPolls} data polls in ${fmt(result.elapsedMs)} ms)`);
    }
  }
} finally {
  await browser?.close();
}

const of = (side: string): Run[] => runs.filter((r) => r.side === side);
const reference = new Map(of(REFERENCE).map((r) => [r.round, r.recordsPerSecond]));
/** Per round, the side's throughput loss against `dashboard, no page` of the same round, in %. */
const pairedCosts = (side: string): number[] => of(side).map((r) => ((reference.get(r.round)! - r.recordsPerSecond) / reference.get(r.round)!) * 100);
const baseline = median(of(SIDES[0]!.name).map((r) => r.recordsPerSecond));
const cpuPerRecords = (r: Run): number | null => (r.cpuMs === null ? null : (r.cpuMs * 1000) / RECORDS);
const referenceCpu = new Map(of(REFERENCE).map((r) => [r.round, cpuPerRecords(r)]));
/** Per round, the side's extra CPU per record over the reference's, in % of the reference's. */
const pairedCpuCosts = (side: string): number[] => of(side).flatMap((r) => {
  const mine = cpuPerRecords(r);
  const ref = referenceCpu.get(r.round);
  return mine === null || ref === null || ref === undefined ? [] : [((mine - ref) / ref) * 100];
});
const present = (xs: (number | null)[]): number[] => xs.filter((x): x is number => x !== null);
const rows = SIDES.map((side) => {
  const rates = of(side.name).map((r) => r.recordsPerSecond);
  const costs = side.name === REFERENCE ? [] : pairedCosts(side.name);
  const m = median(rates);
  return {
    side: side.name,
    pollsPerSecond: side.pollsPerSecond,
    medianRecordsPerSecond: m,
    minRecordsPerSecond: Math.min(...rates),
    maxRecordsPerSecond: Math.max(...rates),
    costVsNoMetricsPortPercent: ((baseline - m) / baseline) * 100,
    pairedCostPercent: costs.length === 0 ? null : { median: median(costs), q1: quantile(costs, 0.25), q3: quantile(costs, 0.75), min: Math.min(...costs), max: Math.max(...costs), roundsOverBudget: costs.filter((c) => c > BUDGET_PERCENT).length },
    dataPollsPerSecond: median(of(side.name).map((r) => (r.dataPolls * 1000) / r.elapsedMs)),
    cpuMsPer1000Records: present(of(side.name).map(cpuPerRecords)).length === 0 ? null : median(present(of(side.name).map(cpuPerRecords))),
    pairedCpuCostPercent: side.name === REFERENCE || pairedCpuCosts(side.name).length === 0 ? null : median(pairedCpuCosts(side.name)),
  };
});

console.log(`\ndashboard overhead: ${fmt(RECORDS)} payments through an A/B split of the fraud model, embedded broker, ${ROUNDS} rounds interleaved\n`);
const pct = (n: number): string => `${fmt(n, 1)} %`;
console.log(table(
  ['side', 'records/s median', 'min – max', 'vs no metrics port', `vs ${REFERENCE}, same round: median (IQR; min – max)`, 'CPU ms / 1000 records', 'CPU vs reference', 'data polls/s served'],
  rows.map((r) => [
    r.side,
    fmt(r.medianRecordsPerSecond),
    `${fmt(r.minRecordsPerSecond)} – ${fmt(r.maxRecordsPerSecond)}`,
    pct(r.costVsNoMetricsPortPercent),
    r.pairedCostPercent === null ? 'reference' : `${pct(r.pairedCostPercent.median)} (${pct(r.pairedCostPercent.q1)} – ${pct(r.pairedCostPercent.q3)}; ${pct(r.pairedCostPercent.min)} – ${pct(r.pairedCostPercent.max)})`,
    r.cpuMsPer1000Records === null ? '–' : fmt(r.cpuMsPer1000Records, 1),
    r.pairedCpuCostPercent === null ? (r.side === REFERENCE ? 'reference' : '–') : pct(r.pairedCpuCostPercent),
    fmt(r.dataPollsPerSecond, 1),
  ]),
));
const amplified = rows.find((r) => r.side === SIDES.at(-1)!.name)!;
// Divided by the polls per second actually answered: a runner busy at saturation answers fewer than asked.
const served = Math.max(amplified.dataPollsPerSecond, 1e-9);
const perPoll = amplified.pairedCostPercent!.median / served;
// With fewer than three rounds there is no spread to judge a cost by: no verdict is resolved.
const MIN_ROUNDS = 3;
const spreadWidth = (r: (typeof rows)[number]): number => (ROUNDS < MIN_ROUNDS ? Infinity : r.pairedCostPercent!.q3 - r.pairedCostPercent!.q1);
const verdicts: { side: string; costPercent: number; met: boolean; resolved: boolean; how: string }[] = [];
console.log(`\nbudget: one page costs at most ${BUDGET_PERCENT} % of the throughput`);
for (const r of rows.filter((x) => x.pollsPerSecond === 1)) {
  const c = r.pairedCostPercent!;
  const resolved = spreadWidth(r) < BUDGET_PERCENT;
  verdicts.push({ side: r.side, costPercent: c.median, met: c.median <= BUDGET_PERCENT, resolved, how: 'measured directly' });
  const verdict = ROUNDS < MIN_ROUNDS ? `too few rounds to tell (${MIN_ROUNDS} at least)` : !resolved ? `the IQR is wider than the budget: throughput cannot tell here` : c.median <= BUDGET_PERCENT ? 'within budget' : 'OVER budget';
  console.log(`  ${r.side}, throughput: ${pct(c.median)} (median of ${ROUNDS} paired rounds, IQR ${pct(c.q1)} – ${pct(c.q3)}; ${c.roundsOverBudget} of ${ROUNDS} rounds over ${BUDGET_PERCENT} %): ${verdict}`);
}
verdicts.push({ side: amplified.side, costPercent: perPoll, met: perPoll <= BUDGET_PERCENT, resolved: spreadWidth(amplified) / served < BUDGET_PERCENT, how: `${AMPLIFY} pollers, cost divided by the ${fmt(served, 1)} data polls/s served` });
console.log(`  from ${amplified.side}, throughput: ${pct(amplified.pairedCostPercent!.median)} for ${fmt(served, 1)} data polls a second served, so about ${fmt(perPoll, 2)} % per poll a second (IQR ÷ ${fmt(served, 1)}: ${fmt(amplified.pairedCostPercent!.q1 / served, 2)} – ${fmt(amplified.pairedCostPercent!.q3 / served, 2)} %)`);
// The runner's CPU per record with the pollers, against the reference's, over the polls a second they made.
if (amplified.pairedCpuCostPercent !== null) {
  const perPage = amplified.pairedCpuCostPercent / served;
  const costs = pairedCpuCosts(amplified.side).map((c) => c / served);
  verdicts.push({ side: `${amplified.side}, CPU per record`, costPercent: perPage, met: perPage <= BUDGET_PERCENT, resolved: ROUNDS >= MIN_ROUNDS && quantile(costs, 0.75) - quantile(costs, 0.25) < BUDGET_PERCENT, how: 'extra runner CPU per record, divided by the data polls/s served' });
  console.log(`  from ${amplified.side}, CPU: ${pct(amplified.pairedCpuCostPercent)} more runner CPU per record at ${fmt(served, 1)} data polls/s, so about ${fmt(perPage, 2)} % per page polling once a second (IQR ${fmt(quantile(costs, 0.25), 2)} – ${fmt(quantile(costs, 0.75), 2)} %): ${ROUNDS < MIN_ROUNDS ? `too few rounds to tell (${MIN_ROUNDS} at least)` : perPage <= BUDGET_PERCENT ? 'within budget' : 'OVER budget'}`);
}
// CPU per data poll: the pollers' extra runner CPU over the reference's in the same round, over the polls they made.
const cpuPerPoll = of(amplified.side).flatMap((r) => {
  const ref = of(REFERENCE).find((x) => x.round === r.round);
  // Both runs process the same records, so the difference is what the polls (and the answers) took.
  return r.cpuMs === null || ref?.cpuMs == null || r.dataPolls === 0 ? [] : [(r.cpuMs - ref.cpuMs) / r.dataPolls];
});
if (cpuPerPoll.length > 0) {
  const c = { median: median(cpuPerPoll), q1: quantile(cpuPerPoll, 0.25), q3: quantile(cpuPerPoll, 0.75) };
  verdicts.push({ side: `${amplified.side}, CPU`, costPercent: c.median / 10, met: c.median / 10 <= BUDGET_PERCENT, resolved: ROUNDS >= MIN_ROUNDS && (c.q3 - c.q1) / 10 < BUDGET_PERCENT, how: 'runner CPU ms per data poll; one poll a second costs that / 1000 of a main thread' });
  console.log(`  runner CPU per data poll (from ${amplified.side}, paired): ${fmt(c.median, 2)} ms (IQR ${fmt(c.q1, 2)} – ${fmt(c.q3, 2)} ms), so one poll a second takes about ${fmt(c.median / 10, 2)} % of the main thread`);
}
mkdirSync(dirname(resolve(root, args.json)), { recursive: true });
writeFileSync(resolve(root, args.json), `${JSON.stringify({ bench: 'dashboard-overhead', at: new Date().toISOString(), records: RECORDS, rounds: ROUNDS, amplify: AMPLIFY, budgetPercent: BUDGET_PERCENT, rows, verdicts, runs }, null, 2)}\n`);
console.log(`wrote ${args.json}`);
