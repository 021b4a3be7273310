/**
 * Tributary against Kafka Streams (Java) on the same broker and machine, in the same run (issue 17).
 *
 * Workloads, each on input pre-loaded into 4 partitions:
 * - word count: Kafka Streams' own WordCount (WordCountDemo's topology: flatMapValues split on
 *   \W+ → groupBy word → count → to), topologies/word-count.ts in Tributary, and a raw kafkajs
 *   loop counting in a Map (no repartition hop: see bench/peer/raw-loop.ts);
 * - json filter: clicks (JSON) filtered on ms ≥ 350 and given `seconds`, written as JSON.
 *
 * Sides, each a child process with a fresh application id (and state.dir) per run:
 * - Kafka Streams 3.9 (bench/peer/, built here with Maven and the machine's JDK, cached in
 *   bench/peer/target/): StreamsConfig's defaults (commit 30 s at-least-once, 100 ms exactly_once_v2,
 *   10 MB record cache), and the same with commit.interval.ms = 1000; at_least_once and exactly_once_v2;
 * - the raw kafkajs loop (at-least-once only);
 * - `tributary run` of bench/peer/word-count.ts or json-filter.ts, at-least-once and exactly-once,
 *   with Redis and with in-memory state (its default 1 s commit interval).
 *
 * A run's time: from spawning the process until its group's committed offsets reach the end of the
 * input topic (and of its repartition topic), polled every 100 ms with the admin client; records/s =
 * input records (lines, or clicks) / that time; the median over the rounds counts. Rounds run the
 * sides interleaved (Kafka Streams, raw, Tributary, Kafka Streams, ...). After each word-count run
 * the output topic is read (read_committed) and every word's last count is compared with the truth
 * computed when the lines were made. Peak RSS is the process's VmHWM.
 *
 *   npx tsx bench/kafka-streams-peer.ts [--lines 1000000] [--records 1000000] [--rounds 3] [--partitions 4] [--short] [--json bench/results/kafka-streams-peer.json]
 *       [--workloads word-count,json-filter] [--guarantees at-least-once,exactly-once] [--sides kafka-streams/default,kafka-streams/commit-1s,raw/loop,tributary/redis,tributary/memory]
 *       [--profile-dir dir]   (the Tributary processes write V8 CPU profiles there: node --cpu-prof)
 *       [--tributary-args '--cache-max-entries 0']   (more flags for every `tributary run`, to measure one lever at a time)
 *       [--dist]   (run the compiled dist/ as an installed package does; by default the checkout's
 *                   sources, through the tributary-source condition, so that a change needs no build)
 *
 * Needs Kafka, Redis (`tributary services up`; KAFKA_BROKERS and REDIS_URL are honoured), Maven and
 * a JDK 17. Exits non-zero only when something fails to run, never because a side is slow.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchAdmin, brokers, kafka, produceBacklog, redisUrl, unique } from './lib/kafka.ts';
import { buildJavaPeer, type JavaPeer } from './lib/peer-java.ts';
import { checkCounts, produceLines, type CountCheck, type WordInput } from './lib/peer-input.ts';
import { runSide } from './lib/peer-process.ts';
import { fmt, table } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    lines: { type: 'string' },
    records: { type: 'string' },
    rounds: { type: 'string' },
    partitions: { type: 'string', default: '4' },
    workloads: { type: 'string', default: 'word-count,json-filter' },
    guarantees: { type: 'string', default: 'at-least-once,exactly-once' },
    sides: { type: 'string' },
    'profile-dir': { type: 'string' },
    'tributary-args': { type: 'string', default: '' },
    dist: { type: 'boolean', default: false },
    short: { type: 'boolean', default: false },
    json: { type: 'string', default: 'bench/results/kafka-streams-peer.json' },
  },
});
const SHORT = args.short;
const LINES = Number(args.lines ?? (SHORT ? 5_000 : 1_000_000));
const RECORDS = Number(args.records ?? (SHORT ? 5_000 : 1_000_000));
const ROUNDS = Number(args.rounds ?? (SHORT ? 1 : 3));
const PARTITIONS = Number(args.partitions);

type Workload = 'word-count' | 'json-filter';
type Guarantee = 'at-least-once' | 'exactly-once';
type Engine = 'kafka-streams' | 'raw' | 'tributary';
interface Side {
  engine: Engine;
  /** Kafka Streams: default | commit-1s; Tributary: redis | memory | redis-2p (Redis, `--processes 2`); raw: at-least-once. */
  variant: string;
}
const SIDES: Record<Guarantee, Side[]> = {
  'at-least-once': [
    { engine: 'kafka-streams', variant: 'default' },
    { engine: 'kafka-streams', variant: 'commit-1s' },
    { engine: 'raw', variant: 'loop' },
    { engine: 'tributary', variant: 'redis' },
    { engine: 'tributary', variant: 'memory' },
    { engine: 'tributary', variant: 'redis-2p' },
  ],
  'exactly-once': [
    { engine: 'kafka-streams', variant: 'default' },
    { engine: 'kafka-streams', variant: 'commit-1s' },
    { engine: 'tributary', variant: 'redis' },
    { engine: 'tributary', variant: 'memory' },
    { engine: 'tributary', variant: 'redis-2p' },
  ],
};
const WORKLOADS = args.workloads.split(',') as Workload[];
const GUARANTEES = args.guarantees.split(',') as Guarantee[];
/** `--sides kafka-streams/commit-1s,tributary/memory`: only these (all without it). */
const ONLY = args.sides ? new Set(args.sides.split(',')) : undefined;
/**
 * `--short` (a smoke test, under a minute on an idle 2-core machine): each program, workload,
 * guarantee and state backend once, without Kafka Streams' 30 s default commit interval, which
 * alone would take a fixed 30 s a run. A JVM's start and group join take ~8 s, which dominates
 * inputs this small: its ratios mean nothing.
 */
const SHORT_SIDES: Record<Workload, Record<Guarantee, string[]>> = {
  'word-count': { 'at-least-once': ['kafka-streams/commit-1s', 'raw/loop', 'tributary/redis'], 'exactly-once': ['kafka-streams/default', 'tributary/memory'] },
  'json-filter': { 'at-least-once': ['kafka-streams/commit-1s', 'tributary/memory'], 'exactly-once': [] },
};

/** The sides measured for a workload and guarantee, in the order they run within a round. */
function sidesOf(workload: Workload, guarantee: Guarantee): Side[] {
  const key = (s: Side): string => `${s.engine}/${s.variant}`;
  if (ONLY) return SIDES[guarantee].filter((s) => ONLY.has(key(s)));
  if (SHORT) return SIDES[guarantee].filter((s) => SHORT_SIDES[workload][guarantee].includes(key(s)));
  return SIDES[guarantee];
}
const LABEL: Record<string, string> = {
  'kafka-streams/default': 'Kafka Streams (defaults)',
  'kafka-streams/commit-1s': 'Kafka Streams (1 s commit)',
  'raw/loop': 'raw kafkajs loop',
  'tributary/redis': 'Tributary (Redis)',
  'tributary/memory': 'Tributary (in memory)',
  'tributary/redis-2p': 'Tributary (Redis, 2 processes)',
};

interface Run {
  round: number;
  workload: Workload;
  guarantee: Guarantee;
  engine: Engine;
  variant: string;
  applicationId: string;
  recordsPerSec: number;
  seconds: number;
  peakRssMB: number;
  /** CPU seconds of the side's processes (user + system) when it reached the end. */
  cpuSeconds: number;
  repartitionRecords: number | null;
  /** Exactly-once: the group's repartition offsets ended short of the topic's end by transaction markers only. */
  endedShortOfMarkers: boolean;
  outputRecords: number;
  counts: CountCheck | null;
}

/** The project folder: children run there, as `tributary bench` runs this file. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const admin = new BenchAdmin();
const run = unique('bench-peer');

function command(java: JavaPeer, workload: Workload, guarantee: Guarantee, side: Side, ids: { app: string; input: string; output: string; stateDir: string }): { command: string; args: string[]; env?: NodeJS.ProcessEnv } {
  if (side.engine === 'kafka-streams') {
    const javaGuarantee = guarantee === 'exactly-once' ? 'exactly_once_v2' : 'at_least_once';
    const flags = ['--workload', workload, '--brokers', brokers.join(','), '--application-id', ids.app, '--input', ids.input, '--output', ids.output, '--guarantee', javaGuarantee, '--state-dir', ids.stateDir];
    if (side.variant === 'commit-1s') flags.push('--commit-interval-ms', '1000');
    return { command: java.command, args: [...java.prefix, ...flags] };
  }
  if (side.engine === 'raw') {
    return { command: process.execPath, args: ['--import', 'tsx', 'bench/peer/raw-loop.ts', '--workload', workload, '--brokers', brokers.join(','), '--group', ids.app, '--input', ids.input, '--output', ids.output] };
  }
  const profile = args['profile-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args['profile-dir'])}`] : [];
  const sources = args.dist ? [] : ['--conditions=tributary-source'];
  const flags = [...profile, ...sources, 'bin/tributary.js', 'run', `bench/peer/${workload}.ts`, '--brokers', brokers.join(','), '--application-id', ids.app, '--guarantee', guarantee, '--quiet'];
  if (side.variant === 'redis' || side.variant === 'redis-2p') flags.push('--redis', redisUrl);
  if (side.variant === 'redis-2p') flags.push('--processes', '2');
  flags.push(...args['tributary-args'].split(' ').filter((a) => a.length > 0));
  return { command: process.execPath, args: flags, env: { PEER_INPUT: ids.input, PEER_OUTPUT: ids.output } };
}

/**
 * The topics and group of one run, on an admin client of its own: deleting them right after the
 * run keeps the broker's disk from filling over the rounds, and a client that deletes a topic
 * forgets it (one that only knew it would fail its next metadata refresh).
 */
class RunTopics {
  private readonly client = kafka.admin();

  constructor(readonly app: string, readonly output: string) {}

  async create(): Promise<void> {
    await this.client.connect();
    await this.client.createTopics({ topics: [{ topic: this.output, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  }

  /** Records in the output topic (end offsets; transaction markers included). */
  async outputRecords(): Promise<number> {
    return (await this.client.fetchTopicOffsets(this.output)).reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  }

  async drop(): Promise<void> {
    const topics = (await this.client.listTopics()).filter((t) => t === this.output || t.startsWith(`${this.app}-`));
    if (topics.length > 0) await this.client.deleteTopics({ topics }).catch(() => undefined);
    await this.client.deleteGroups([this.app]).catch(() => undefined);
    await this.client.disconnect();
  }
}

async function measure(java: JavaPeer, round: number, workload: Workload, guarantee: Guarantee, side: Side, input: string, inputRecords: number, words: WordInput | undefined): Promise<Run> {
  const app = unique(`${run}-${workload === 'word-count' ? 'wc' : 'jf'}-${guarantee === 'exactly-once' ? 'eos' : 'alos'}-${side.engine === 'kafka-streams' ? 'ks' : side.engine}-${side.variant}`);
  const output = `${app}-out`;
  admin.forget({ topics: [output], groups: [app], redisApps: [app] });
  const topics = new RunTopics(app, output);
  await topics.create();
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-peer-'));
  try {
    const spec = command(java, workload, guarantee, side, { app, input, output, stateDir });
    const result = await runSide({
      ...spec,
      cwd: ROOT,
      groupId: app,
      input,
      repartition: workload === 'word-count' && side.engine !== 'raw',
      trailingMarkers: guarantee === 'exactly-once' ? PARTITIONS + 1 : 0,
      timeoutMs: 120_000 + inputRecords * 5,
    });
    const counts = words ? await checkCounts(output, words.truth) : null;
    const produced = await topics.outputRecords();
    return {
      round, workload, guarantee, engine: side.engine, variant: side.variant, applicationId: app,
      recordsPerSec: inputRecords / result.seconds, seconds: result.seconds, peakRssMB: result.peakRssMB, cpuSeconds: result.cpuSeconds,
      repartitionRecords: result.repartitionTopic ? result.repartitionEnd : null, endedShortOfMarkers: result.endedShortOfMarkers, outputRecords: produced, counts,
    };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    await topics.drop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const java = buildJavaPeer();
  console.log(`java side: ${java.cached ? 'cached build' : `built in ${fmt(java.buildMs / 1000, 1)} s`} (JDK ${java.javaVersion}, Kafka Streams 3.9.2)`);
  await admin.connect();
  const linesTopic = `${run}-lines`;
  const clicksTopic = `${run}-clicks`;
  await admin.createTopics([linesTopic, clicksTopic], PARTITIONS);
  const words = await produceLines(linesTopic, LINES, PARTITIONS);
  console.log(`word count: ${fmt(LINES)} lines (${fmt(words.words)} words, ${fmt(words.truth.size)} distinct) in ${linesTopic}, produced in ${fmt(words.ms)} ms`);
  const clicks = await produceBacklog(clicksTopic, RECORDS, 'click');
  console.log(`json filter: ${fmt(RECORDS)} clicks in ${clicksTopic}, produced in ${fmt(clicks.ms)} ms; ${ROUNDS} round(s), ${PARTITIONS} partitions`);

  const runs: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const workload of WORKLOADS) {
      for (const guarantee of GUARANTEES) {
        for (const side of sidesOf(workload, guarantee)) {
          const input = workload === 'word-count' ? linesTopic : clicksTopic;
          const r = await measure(java, round, workload, guarantee, side, input, workload === 'word-count' ? LINES : RECORDS, workload === 'word-count' ? words : undefined);
          runs.push(r);
          const check = r.counts ? ` · counts ${r.counts.mismatches === 0 ? 'correct' : `${fmt(r.counts.mismatches)} WRONG (e.g. ${JSON.stringify(r.counts.examples[0])})`} (${fmt(r.counts.outputs)} outputs)` : '';
          console.log(`  round ${round + 1} ${workload} ${guarantee} ${LABEL[`${side.engine}/${side.variant}`]}: ${fmt(r.recordsPerSec)} records/s (${fmt(r.seconds, 1)} s, CPU ${fmt(r.cpuSeconds, 1)} s, peak RSS ${fmt(r.peakRssMB)} MB)${check}${r.endedShortOfMarkers ? ' · repartition offsets ended short of the end by transaction markers' : ''}`);
        }
      }
    }
  }

  const pick = (workload: Workload, guarantee: Guarantee, key: string): Run[] => runs.filter((r) => r.workload === workload && r.guarantee === guarantee && `${r.engine}/${r.variant}` === key);
  const rate = (workload: Workload, guarantee: Guarantee, key: string): number | undefined => {
    const chosen = pick(workload, guarantee, key);
    return chosen.length > 0 ? median(chosen.map((r) => r.recordsPerSec)) : undefined;
  };
  const k = (n: number | undefined): string => (n === undefined ? '—' : `${fmt(n / 1000, 1)} k`);
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '—' : (a / b).toFixed(2));
  const rows: string[][] = [];
  const summary: Record<string, unknown>[] = [];
  for (const workload of WORKLOADS) {
    for (const guarantee of GUARANTEES) {
      if (sidesOf(workload, guarantee).length === 0) continue;
      const ksDefault = rate(workload, guarantee, 'kafka-streams/default');
      const ks1s = rate(workload, guarantee, 'kafka-streams/commit-1s');
      const raw = rate(workload, guarantee, 'raw/loop');
      const redis = rate(workload, guarantee, 'tributary/redis');
      const memory = rate(workload, guarantee, 'tributary/memory');
      const twoProcesses = rate(workload, guarantee, 'tributary/redis-2p');
      rows.push([workload, guarantee, k(ksDefault), k(ks1s), k(raw), k(redis), k(memory), k(twoProcesses), `${ratio(redis, ksDefault)} / ${ratio(memory, ksDefault)} / ${ratio(twoProcesses, ksDefault)}`, `${ratio(redis, ks1s)} / ${ratio(memory, ks1s)} / ${ratio(twoProcesses, ks1s)}`]);
      const round = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n));
      const share = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined ? null : Number((a / b).toFixed(3)));
      summary.push({
        workload, guarantee,
        recordsPerSec: { kafkaStreamsDefault: round(ksDefault), kafkaStreamsCommit1s: round(ks1s), raw: round(raw), tributaryRedis: round(redis), tributaryMemory: round(memory), tributaryRedis2Processes: round(twoProcesses) },
        ratio: {
          redisToKafkaStreamsDefault: share(redis, ksDefault), memoryToKafkaStreamsDefault: share(memory, ksDefault), redis2ProcessesToKafkaStreamsDefault: share(twoProcesses, ksDefault),
          redisToKafkaStreamsCommit1s: share(redis, ks1s), memoryToKafkaStreamsCommit1s: share(memory, ks1s), redis2ProcessesToKafkaStreamsCommit1s: share(twoProcesses, ks1s),
        },
      });
    }
  }
  console.log('');
  console.log(`records/s (input records: lines or clicks), median of ${ROUNDS} round(s); ${fmt(LINES)} lines, ${fmt(RECORDS)} clicks, ${PARTITIONS} partitions`);
  console.log(table(['workload', 'guarantee', 'Kafka Streams (defaults)', 'Kafka Streams (1 s commit)', 'raw kafkajs', 'Tributary (Redis)', 'Tributary (in memory)', 'Tributary (Redis, 2 processes)', 'Tributary / KS defaults (Redis / memory / 2 processes)', 'Tributary / KS 1 s (Redis / memory / 2 processes)'], rows));

  const details: string[][] = [];
  for (const workload of WORKLOADS) {
    for (const guarantee of GUARANTEES) {
      for (const side of sidesOf(workload, guarantee)) {
        const chosen = pick(workload, guarantee, `${side.engine}/${side.variant}`);
        const wrong = chosen.reduce((n, r) => n + (r.counts?.mismatches ?? 0), 0);
        details.push([
          workload, guarantee, LABEL[`${side.engine}/${side.variant}`]!,
          fmt(median(chosen.map((r) => r.seconds)), 1),
          fmt(median(chosen.map((r) => r.cpuSeconds)), 1),
          fmt((median(chosen.map((r) => r.cpuSeconds)) * 1e6) / (workload === 'word-count' ? LINES : RECORDS), 1),
          fmt(Math.max(...chosen.map((r) => r.peakRssMB))),
          fmt(median(chosen.map((r) => r.outputRecords))),
          workload === 'word-count' ? (wrong === 0 ? 'all correct' : `${fmt(wrong)} WRONG`) : '—',
        ]);
      }
    }
  }
  console.log('');
  console.log('per side: median seconds, median CPU seconds of its processes (user + system, all threads) and per input record, peak RSS (VmHWM, max over rounds; of 2 processes, the larger one), output records (end offsets, transaction markers included), word counts against the truth');
  console.log(table(['workload', 'guarantee', 'side', 'seconds', 'CPU s', 'CPU µs / record', 'peak RSS MB', 'outputs', 'counts'], details));

  const mismatched = runs.filter((r) => (r.counts?.mismatches ?? 0) > 0);
  if (mismatched.length > 0) console.log(`\n${mismatched.length} word-count run(s) ended with wrong counts: ${mismatched.map((r) => `${r.engine}/${r.variant} ${r.guarantee} round ${r.round + 1}`).join(', ')}`);

  const result = {
    benchmark: 'kafka-streams-peer: Tributary vs Kafka Streams 3.9 (Java) and a raw kafkajs loop, same broker, same run (issue 17)',
    lines: LINES, words: words.words, distinctWords: words.truth.size, records: RECORDS, partitions: PARTITIONS, rounds: ROUNDS, short: SHORT,
    tributary: { build: args.dist ? 'dist' : 'sources', extraArgs: args['tributary-args'] },
    javaBuild: { cached: java.cached, ms: Math.round(java.buildMs), jdk: java.javaVersion, kafkaStreams: '3.9.2' },
    summary,
    runs: runs.map((r) => ({ ...r, recordsPerSec: Math.round(r.recordsPerSec), seconds: Number(r.seconds.toFixed(2)), cpuSeconds: Number(r.cpuSeconds.toFixed(2)), peakRssMB: Math.round(r.peakRssMB) })),
    countsCorrect: mismatched.length === 0,
    node: process.version,
    date: new Date().toISOString(),
  };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${args.json}`);
}

try {
  await main();
} finally {
  await admin.cleanup().catch((error: unknown) => console.error(`cleanup failed: ${String(error)}`));
}
