/**
 * Exactness under repeated crashes, bigger than CI (issue 12): word count through a repartition
 * topic on a real Kafka broker and Redis, the runner that owns both sub-topologies SIGKILLed
 * `--kills` times at random moments with lines still arriving, restarted each time, then a last
 * runner to the end. Compares, per guarantee, the Redis state, each word's last output and (under
 * exactly-once) every word's outputs — 1..n with the record cache off, strictly increasing with it
 * on — and every line's echo with the truth counted while producing. Prints a table and writes JSON. Exactness is counted, not timed: "0" is the result.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/crash-exactness.ts \
 *     [--kills 12] [--lines-per-tick 40] [--guarantee both|at-least-once|exactly-once] [--kill-at-uptime 4000-14000]
 *     [--json bench/results/crash-exactness.json]
 *
 * --kill-at-uptime kills at a random uptime in that range (ms), as issue 12's runs did, so also
 * while a runner starts, joins and restores, instead of after it wrote new output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { CI_WORKLOAD, cleanUpCrashRuns, differences, notIncreasing, runCrashes, type CrashRun, type CrashWorkload } from '../test/faults/word-count-crashes.ts';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '12' },
    'lines-per-tick': { type: 'string', default: '40' },
    guarantee: { type: 'string', default: 'both' },
    'kill-at-uptime': { type: 'string' },
    json: { type: 'string', default: 'bench/results/crash-exactness.json' },
  },
});
if (!process.env.KAFKA_BROKERS || !process.env.REDIS_URL) {
  console.error('bench/crash-exactness.ts needs a broker and Redis: set KAFKA_BROKERS and REDIS_URL (npx tributary services up prints them)');
  process.exit(2);
}
const uptime = args['kill-at-uptime']?.split('-').map(Number) as [number, number] | undefined;
const workload: CrashWorkload = {
  ...CI_WORKLOAD,
  kills: Number(args.kills),
  linesPerTick: Number(args['lines-per-tick']),
  killWithinMs: 3_000,
  outputsBeforeKill: 500,
  ...(uptime ? { killAtUptimeMs: uptime } : {}),
};
type Guarantee = 'at-least-once' | 'exactly-once';
/** The runs: at-least-once with the record cache (as users run it), exactly-once without it (checked update by update) and with it. */
const runs: Array<{ guarantee: Guarantee; recordCache: boolean }> = [
  { guarantee: 'at-least-once', recordCache: true },
  { guarantee: 'exactly-once', recordCache: false },
  { guarantee: 'exactly-once', recordCache: true },
].filter((r) => args.guarantee === 'both' || r.guarantee === args.guarantee) as Array<{ guarantee: Guarantee; recordCache: boolean }>;

interface Row {
  guarantee: string;
  recordCache: boolean;
  kills: number;
  lines: number;
  words: number;
  seconds: number;
  /** Words whose Redis count differs from the truth. */
  stateWrong: number;
  /** Words whose last output differs from the truth. */
  lastOutputWrong: number;
  /**
   * Repeated outputs (allowed under at-least-once only): the sum over words of (outputs − truth),
   * or with the record cache (which merges updates), the outputs not above the one before.
   */
  repeatedOutputs: number;
  /** Lines missing from the echo topic, and lines there more than once. */
  echoLost: number;
  echoRepeated: number;
}

function row(guarantee: Guarantee, recordCache: boolean, run: CrashRun): Row {
  const last = new Map([...run.outputs].map(([word, counts]) => [word, counts.at(-1)!]));
  let repeated = 0;
  if (recordCache) repeated = notIncreasing(run.outputs).length;
  else for (const [word, count] of run.truth) repeated += (run.outputs.get(word)?.length ?? 0) - count;
  let echoRepeated = 0;
  for (const n of run.echoed.values()) echoRepeated += n - 1;
  return {
    guarantee,
    recordCache,
    kills: workload.kills,
    lines: run.lines,
    words: [...run.truth.values()].reduce((a, b) => a + b, 0),
    seconds: Math.round(run.seconds),
    stateWrong: differences(run.truth, run.redis).length,
    lastOutputWrong: differences(run.truth, last).length,
    repeatedOutputs: repeated,
    echoLost: run.lines - run.echoed.size,
    echoRepeated,
  };
}

const rows: Row[] = [];
try {
  for (const { guarantee, recordCache } of runs) {
    console.error(`${guarantee}, record cache ${recordCache ? 'on' : 'off'}: ${workload.kills} kills, ${workload.linesPerTick * 50} words/s ...`);
    rows.push(row(guarantee, recordCache, await runCrashes(guarantee, { ...workload, recordCache })));
  }
} finally {
  await cleanUpCrashRuns();
}

console.log('| guarantee | record cache | kills | lines | words | s | state wrong (words) | last output wrong (words) | repeated outputs | echo lost | echo repeated |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.guarantee} | ${r.recordCache ? 'on' : 'off'} | ${r.kills} | ${r.lines} | ${r.words} | ${r.seconds} | ${r.stateWrong} | ${r.lastOutputWrong} | ${r.repeatedOutputs} | ${r.echoLost} | ${r.echoRepeated} |`);
}
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, `${JSON.stringify({ bench: 'crash-exactness', at: new Date().toISOString(), workload, rows }, null, 2)}\n`);
console.log(`\nwritten to ${args.json}`);
