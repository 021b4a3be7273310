/**
 * The three ways to deploy a model with Kafka, measured on the local broker with the same
 * topology (payments → predict → scored, through `KafkaStreams` in this process) and the same
 * model (fraud, newest version):
 *
 *   embedded   `.predict(registry.model('fraud'))`: onnxruntime in this process's worker threads
 *   http       `.predict(remoteModel({ http }))` against `tributary serve models --http` in a child process
 *   kafka      `.predict(remoteModel({ kafka }))` against `tributary serve models --kafka` in a child process
 *
 * Per mode: (1) saturation — a backlog of N payments is produced first, then the runner starts;
 * throughput is taken from its first output to its last (the start-up, which for the Kafka mode
 * includes joining the reply group, is reported apart); (2) a fixed offered load — a child process
 * offers `rate` payments/s for `seconds` with timestamp = send time, and reads the scored topic:
 * end-to-end latency = arrival − the record's timestamp (the input's CreateTime, carried through).
 * At saturation an end-to-end latency is only queueing time, so there the table shows the latency
 * of the model call as the runner saw it (`prediction.latencyMs`: batch wait, transport, inference).
 * Every input must come out exactly once with a prediction (ids checked) and nothing may reach the
 * dead-letter topic.
 *
 * With `--rounds R` the modes run interleaved R times (embedded, http, kafka, embedded, ...), so a
 * shared machine's load hits every mode alike; each mode's row is its median round by saturation
 * throughput, and the Kafka-native / embedded ratio is the median of the per-round ratios.
 *
 *   npx tsx bench/deployment.ts [--records 50000] [--rate 1000] [--seconds 10] [--partitions 4] [--modes embedded,http,kafka] [--rounds 1] [--short]
 *       [--profile-dir dir]   (V8 CPU profiles of the saturation phase: the runner's main thread through
 *                              node:inspector, the server with node --cpu-prof; summarise them with
 *                              `npx tsx bench/lib/profile-summary.ts dir/<mode>-r<round>`)
 *       [--broker-pid pid]    (the broker's CPU per record is read from /proc/<pid>/stat; default: the
 *                              java process whose command line names kafka, when there is one)
 *
 * CPU per record is reported per process over the saturation phase: the runner (this process, all
 * its threads), the server (its child process) and the broker, and their total; on a machine whose
 * cores all three share, the total bounds the throughput.
 *
 * Prints a table and writes bench/results/deployment.json and bench/results/deployment.html (inline
 * SVG charts). Needs Kafka (`tributary services up`; KAFKA_BROKERS is honoured).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join, resolve } from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { KafkaStreams, ModelRegistry, remoteModel, Serdes, StreamsBuilder, type Model, type RegistryOutput } from '../src/index.ts';
import { deploymentHtml } from './lib/deployment-chart.ts';
import { BenchAdmin, brokers, kafka, offerLoad, produceBacklog, unique } from './lib/kafka.ts';
import { fmt, percentiles, table, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    partitions: { type: 'string', default: '4' },
    modes: { type: 'string', default: 'embedded,http,kafka' },
    rounds: { type: 'string', default: '1' },
    short: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    'broker-pid': { type: 'string' },
    json: { type: 'string', default: 'bench/results/deployment.json' },
    html: { type: 'string', default: 'bench/results/deployment.html' },
  },
});
const SHORT = args.short;
const N = Number(args.records ?? (SHORT ? 2_000 : 50_000));
const RATE = Number(args.rate ?? (SHORT ? 500 : 1_000));
const SECONDS = Number(args.seconds ?? (SHORT ? 3 : 10));
const PARTITIONS = Number(args.partitions);
export type Mode = 'embedded' | 'http' | 'kafka';
const MODES = args.modes.split(',') as Mode[];
const ROUNDS = Math.max(1, Number(args.rounds));
const MODEL = 'fraud';
const PROFILE_DIR = args['profile-dir'] === undefined ? undefined : resolve(args['profile-dir']);
const CLOCK_TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

/** The broker's pid: `--broker-pid`, else the one java process whose command line names kafka. */
function brokerPid(): number | undefined {
  if (args['broker-pid'] !== undefined) return Number(args['broker-pid']);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('java') && /kafka/i.test(cmdline) && /Kafka\b|kafka\.Kafka|server\.properties/.test(cmdline)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found.length === 1 ? found[0] : undefined;
}
const BROKER_PID = brokerPid();

/** CPU time (user + system, µs) of another process from /proc/<pid>/stat; undefined when unreadable. */
function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
  } catch {
    return undefined;
  }
}

/** performance.now() (ms) as CLOCK_MONOTONIC µs, the clock of V8's CPU profiles. */
const monotonicOffsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
const monotonicUs = (at: number): number => Math.round(at * 1000 + monotonicOffsetUs);

const admin = new BenchAdmin();
const benchRun = unique('bench-deploy');
const children = new Set<ChildProcess>();

type Payment = Record<string, unknown>;

interface ScoredPayment {
  paymentId: string;
  prediction?: { label?: unknown; latencyMs?: number; version?: string };
}

/** What one mode measured. */
export interface ModeResult {
  mode: Mode;
  saturation: {
    records: number;
    recordsPerSec: number;
    /** N / (start → last output), start-up included. */
    recordsPerSecWithStartup: number;
    startupMs: number;
    modelCallLatencyMs: Percentiles;
    /** CPU time of this process (the runner: every thread, the Kafka client's and the ONNX workers' too) per record during the saturation phase. */
    runnerCpuUsPerRecord: number;
    /** The share of the saturation phase the runner's main thread was busy (`performance.eventLoopUtilization`). */
    mainThreadBusy: number;
    /** CPU time of the server's process per record (http, kafka), from /proc. */
    serverCpuUsPerRecord?: number;
    /** CPU time of the broker's process per record, from /proc (when its pid is known). */
    brokerCpuUsPerRecord?: number;
  };
  fixedLoad: {
    offeredPerSec: number;
    seconds: number;
    sent: number;
    received: number;
    endToEndLatencyMs: Percentiles;
    modelCallLatencyMs: Percentiles;
  };
  check: {
    inputs: number;
    outputs: number;
    distinctScored: number;
    deadLettered: number;
    allScoredOnce: boolean;
    createTimeCarried: boolean | null;
  };
}

/** Starts `tributary serve` in a child process and resolves once `ready` matches its output. */
async function serve(serveArgs: string[], ready: RegExp, profileDir?: string): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = spawn(process.execPath, [...profile, 'bin/tributary.js', 'serve', 'models', ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = ready.exec(output);
    if (match) return { child, match };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tributary serve ${serveArgs.join(' ')} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/**
 * Samples the CPU time of this process, of the server's and of the broker's, and this process's
 * main-thread event-loop utilisation every 20 ms, so the saturation phase (first to last output,
 * known only afterwards) can be cut out of the start-up.
 */
class UsageSampler {
  private readonly samples: { at: number; cpuUs: number; serverUs: number | undefined; brokerUs: number | undefined; elu: EventLoopUtilization }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly serverPid: number | undefined) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 20);
  }

  /** CPU µs of each process, main-thread busy share and length (ms) of the sampled span inside [from, to]. */
  stop(from: number, to: number): { cpuUs: number; serverUs: number | undefined; brokerUs: number | undefined; busy: number; ms: number } {
    clearInterval(this.timer);
    this.sample();
    const inside = this.samples.filter((s) => s.at >= from && s.at <= to);
    const first = inside[0] ?? this.samples[0]!;
    const last = inside.length > 1 ? inside[inside.length - 1]! : this.samples[this.samples.length - 1]!;
    const delta = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : b - a);
    return {
      cpuUs: last.cpuUs - first.cpuUs,
      serverUs: delta(first.serverUs, last.serverUs),
      brokerUs: delta(first.brokerUs, last.brokerUs),
      busy: performance.eventLoopUtilization(last.elu, first.elu).utilization,
      ms: last.at - first.at,
    };
  }

  private sample(): void {
    const { user, system } = process.cpuUsage();
    this.samples.push({ at: performance.now(), cpuUs: user + system, serverUs: processCpuUs(this.serverPid), brokerUs: processCpuUs(BROKER_PID), elu: performance.eventLoopUtilization() });
  }
}

/** With --profile-dir: the runner's main thread profiled through node:inspector (started and stopped around the saturation phase). */
class RunnerProfile {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.start');
  }

  async stop(file: string): Promise<void> {
    const { profile } = await this.session.post('Profiler.stop');
    this.session.disconnect();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
  }
}

/** The model of a mode, and how to stop what serves it. */
async function modelFor(mode: Mode, run: string, profileDir?: string): Promise<{ model: Model<Payment, RegistryOutput>; stop: () => Promise<void>; serverPid?: number }> {
  if (mode === 'embedded') {
    const registry = await ModelRegistry.open('models', { pollIntervalMs: 0 });
    const model = registry.model<Payment>(MODEL);
    return { model, stop: async () => { await model.close(); await registry.close(); } };
  }
  if (mode === 'http') {
    const { child, match } = await serve(['--http', '0', '--host', '127.0.0.1'], /http listening on (http:\/\/\S+)/, profileDir);
    const model = remoteModel<Payment>({ http: `${match[1]}/v1/models/${MODEL}:predict` });
    return { model, stop: async () => { await model.close(); await stopChild(child); }, serverPid: child.pid };
  }
  const group = `${run}-server`;
  const requestTopic = `${run}-{model}-requests`;
  admin.forget({ groups: [group], topics: [`${group}-dlq`, `${run}-${MODEL}-replies`, ...(await modelNames()).map((m) => requestTopic.replace('{model}', m))] });
  const { child } = await serve(['--kafka', '--brokers', brokers.join(','), '--group', group, '--request-topic', requestTopic], /kafka group \S+ on/, profileDir);
  const model = remoteModel<Payment>({ kafka: { brokers, requestTopic: requestTopic.replace('{model}', MODEL), replyTopic: `${run}-${MODEL}-replies` } });
  return { model, stop: async () => { await model.close(); await stopChild(child); }, serverPid: child.pid };
}

async function modelNames(): Promise<string[]> {
  const registry = await ModelRegistry.open('models', { pollIntervalMs: 0 });
  const names = registry.names();
  await registry.close();
  return names;
}

/** Reads a topic to its current end and returns the values parsed as JSON. */
async function readScored(topic: string, expected: number): Promise<ScoredPayment[]> {
  const out: ScoredPayment[] = [];
  if (expected === 0) return out;
  const groupId = unique(`${benchRun}-reader`);
  admin.forget({ groups: [groupId] });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) out.push(JSON.parse(message.value!.toString('utf8')) as ScoredPayment);
      if (out.length >= expected) done();
    },
  });
  const timer = setTimeout(done, 60_000);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return out;
}

async function measure(mode: Mode, round: number): Promise<ModeResult> {
  // every round gets its own topics, groups and application id
  const run = ROUNDS > 1 ? `${benchRun}-r${round}` : benchRun;
  const input = `${run}-${mode}-payments`;
  const output = `${run}-${mode}-scored`;
  await admin.createTopics([input, output], PARTITIONS);
  const profileDir = PROFILE_DIR === undefined ? undefined : join(PROFILE_DIR, `${mode}-r${round}`);
  const { model, stop, serverPid } = await modelFor(mode, run, profileDir === undefined ? undefined : join(profileDir, 'server'));
  const applicationId = `${run}-${mode}`;
  admin.forget({ groups: [applicationId], topics: [`${applicationId}-dlq`] });
  const builder = new StreamsBuilder();
  builder
    .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() })
    .predict(model)
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.json() });
  const app = new KafkaStreams(builder.build(), { applicationId, brokers, watchdog: false, log: (line) => console.error(`  (${mode}) ${line}`) });
  const failed = (): Error | undefined => (app.state === 'ERROR' ? (app.error ?? new Error('the application failed')) : undefined);
  try {
    await produceBacklog(input, N, 'payment', 'b');
    const started = performance.now();
    const usage = new UsageSampler(serverPid);
    const profile = profileDir === undefined ? undefined : new RunnerProfile();
    await profile?.start();
    await app.start();
    const { firstAt, doneAt } = await admin.waitForRecords(output, N, { failed });
    const { cpuUs, serverUs, brokerUs, busy, ms } = usage.stop(firstAt, doneAt);
    if (profileDir !== undefined) {
      await profile!.stop(join(profileDir, 'runner', 'runner.cpuprofile'));
      // the saturation phase on the profiles' clock, and its records, for profile-summary.ts
      writeFileSync(join(profileDir, 'window.json'), `${JSON.stringify({ mode, round, fromUs: monotonicUs(firstAt), toUs: monotonicUs(doneAt), records: N - 1 })}\n`);
    }
    // the records of the sampled part of the saturation phase, at its mean rate
    const sampledRecords = Math.max(1, (N * ms) / Math.max(1, doneAt - firstAt));
    const offered = await offerLoad({ input, output, rate: RATE, seconds: SECONDS, kind: 'payment', prefix: 'l' });
    await admin.waitForRecords(output, N + offered.sent, { failed, timeoutMs: 30_000 }).catch((error: unknown) => console.error(`  (${mode}) ${String(error)}`));
    await app.close();
    const outputs = await admin.count(output);
    const dlq = await admin.count(`${applicationId}-dlq`).catch(() => 0);
    const scored = await readScored(output, outputs);
    const ids = new Set<string>();
    let withPrediction = 0;
    const saturationCalls: number[] = [];
    const fixedCalls: number[] = [];
    for (const value of scored) {
      ids.add(value.paymentId);
      if (value.prediction?.label === undefined) continue;
      withPrediction++;
      const latency = value.prediction.latencyMs ?? 0;
      (value.paymentId.startsWith('b-') ? saturationCalls : fixedCalls).push(latency);
    }
    const inputs = N + offered.sent;
    return {
      mode,
      saturation: {
        records: N,
        recordsPerSec: (N - 1) / Math.max(0.001, (doneAt - firstAt) / 1000),
        recordsPerSecWithStartup: N / ((doneAt - started) / 1000),
        startupMs: firstAt - started,
        modelCallLatencyMs: percentiles(saturationCalls),
        runnerCpuUsPerRecord: cpuUs / sampledRecords,
        mainThreadBusy: busy,
        serverCpuUsPerRecord: serverUs === undefined ? undefined : serverUs / sampledRecords,
        brokerCpuUsPerRecord: brokerUs === undefined ? undefined : brokerUs / sampledRecords,
      },
      fixedLoad: {
        offeredPerSec: RATE,
        seconds: SECONDS,
        sent: offered.sent,
        received: offered.received,
        endToEndLatencyMs: offered.latencyMs,
        modelCallLatencyMs: percentiles(fixedCalls),
      },
      check: {
        inputs,
        outputs,
        distinctScored: ids.size,
        deadLettered: dlq,
        allScoredOnce: outputs === inputs && ids.size === inputs && withPrediction === inputs && dlq === 0,
        createTimeCarried: offered.createTimeCarried,
      },
    };
  } finally {
    if (app.state !== 'NOT_RUNNING' && app.state !== 'ERROR') await app.close().catch(() => undefined);
    await stop();
  }
}

/** µs CPU per record of each process measured and their total. */
function cpuLine(result: ModeResult): string {
  const { runnerCpuUsPerRecord: runner, serverCpuUsPerRecord: server, brokerCpuUsPerRecord: broker } = result.saturation;
  const parts = [`runner ${fmt(runner, 1)}`];
  if (server !== undefined) parts.push(`server ${fmt(server, 1)}`);
  if (broker !== undefined) parts.push(`broker ${fmt(broker, 1)}`);
  const total = runner + (server ?? 0) + (broker ?? 0);
  return `µs CPU/record: ${parts.join(' + ')} = ${fmt(total, 1)}`;
}

/** The middle value (the lower middle of an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/** Each mode's median round by saturation throughput. */
function medianRounds(rounds: ModeResult[][]): ModeResult[] {
  return MODES.map((mode) => {
    const runs = rounds.map((round) => round.find((r) => r.mode === mode)!).sort((a, b) => a.saturation.recordsPerSec - b.saturation.recordsPerSec);
    return runs[Math.floor((runs.length - 1) / 2)]!;
  });
}

/** Per round, each remote mode's saturation throughput over the embedded one's (when both ran). */
function ratiosToEmbedded(rounds: ModeResult[][]): Partial<Record<Mode, { perRound: number[]; median: number }>> {
  const ratios: Partial<Record<Mode, { perRound: number[]; median: number }>> = {};
  if (!MODES.includes('embedded')) return ratios;
  for (const mode of MODES.filter((m) => m !== 'embedded')) {
    const perRound = rounds.map((round) => round.find((r) => r.mode === mode)!.saturation.recordsPerSec / round.find((r) => r.mode === 'embedded')!.saturation.recordsPerSec);
    ratios[mode] = { perRound, median: median(perRound) };
  }
  return ratios;
}

async function main(): Promise<void> {
  await admin.connect();
  console.log(`deployment: ${MODES.join(', ')}; model ${MODEL}; saturation ${fmt(N)} payments; fixed load ${fmt(RATE)} payments/s for ${SECONDS} s; ${PARTITIONS} partitions; ${ROUNDS} round(s)`);
  const rounds: ModeResult[][] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const results: ModeResult[] = [];
    for (const mode of MODES) {
      const result = await measure(mode, round);
      results.push(result);
      console.log(
        `  ${ROUNDS > 1 ? `round ${round} ` : ''}${mode}: ${fmt(result.saturation.recordsPerSec)} records/s at saturation ` +
          `(${cpuLine(result)}, runner main thread ${fmt(100 * result.saturation.mainThreadBusy)} % busy); at ${fmt(RATE)}/s p50 ${fmt(result.fixedLoad.endToEndLatencyMs.p50)} ms p99 ${fmt(result.fixedLoad.endToEndLatencyMs.p99)} ms; ` +
          `${result.check.allScoredOnce ? 'every record scored once' : `CHECK FAILED ${JSON.stringify(result.check)}`}`,
      );
    }
    rounds.push(results);
  }
  const results = medianRounds(rounds);
  const ratios = ratiosToEmbedded(rounds);
  console.log('');
  console.log(
    table(
      ['mode', 'saturation rec/s', 'start-up ms', 'model call p50/p99 ms (sat.)', `e2e p50 ms @${fmt(RATE)}/s`, 'e2e p99 ms', 'e2e max ms', 'model call p50/p99 ms', 'scored once'],
      results.map((r) => [
        r.mode,
        fmt(r.saturation.recordsPerSec),
        fmt(r.saturation.startupMs),
        `${fmt(r.saturation.modelCallLatencyMs.p50, 1)} / ${fmt(r.saturation.modelCallLatencyMs.p99, 1)}`,
        fmt(r.fixedLoad.endToEndLatencyMs.p50),
        fmt(r.fixedLoad.endToEndLatencyMs.p99),
        fmt(r.fixedLoad.endToEndLatencyMs.max),
        `${fmt(r.fixedLoad.modelCallLatencyMs.p50, 1)} / ${fmt(r.fixedLoad.modelCallLatencyMs.p99, 1)}`,
        r.check.allScoredOnce ? `yes (${fmt(r.check.inputs)})` : 'NO',
      ]),
    ),
  );
  if (ROUNDS > 1) console.log(`(each row: the mode's median round of ${ROUNDS} by saturation throughput)`);
  for (const [mode, ratio] of Object.entries(ratios)) {
    console.log(`${mode} / embedded at saturation: ${fmt(ratio.median, 2)}${ROUNDS > 1 ? ` (median; rounds: ${ratio.perRound.map((r) => fmt(r, 2)).join(', ')})` : ''}`);
  }
  const allScoredOnce = rounds.every((round) => round.every((r) => r.check.allScoredOnce));
  const result = {
    benchmark: 'deployment: embedded vs HTTP server vs Kafka-native server',
    model: MODEL,
    partitions: PARTITIONS,
    short: SHORT,
    modes: results,
    rounds,
    ratiosToEmbedded: ratios,
    allScoredOnce,
    node: process.version,
    date: new Date().toISOString(),
  };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  mkdirSync(dirname(args.html), { recursive: true });
  writeFileSync(args.html, deploymentHtml(results, { rate: RATE, seconds: SECONDS, records: N, date: result.date }));
  console.log(`\nwrote ${args.json} and ${args.html}`);
  if (!allScoredOnce) process.exitCode = 1;
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
  await admin.cleanup().catch((error: unknown) => console.error(`cleanup failed: ${String(error)}`));
}
