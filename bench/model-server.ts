/**
 * The Kafka-native model server alone (issue 14): its CPU per record, and the client's cost of
 * reading its replies, per reply format, without a runner sharing the machine's cores.
 *
 * Per round and format (`compact`: JSON predictions; `columns`: a column batch of them), in a
 * fresh request topic (4 partitions) and reply topic: `tributary serve models --kafka` starts in a
 * child process and joins, 8 requests warm it up (the model loads, its worker threads start); then `--requests` requests of `--batch` payments each (column batches,
 * as `remoteModel({ kafka })` sends them, `reply-format` set) are produced, and the replies read
 * until every correlation id is answered. The server's CPU (user + system, every thread, from
 * /proc) is taken from before the first request to the last reply; this process parses every
 * reply as the client does (JSON.parse, or decodeColumns) and times it. Formats alternate within
 * a round, and rounds repeat; each row is the median of its rounds.
 *
 *   npx tsx bench/model-server.ts [--requests 400] [--batch 256] [--rounds 3] [--formats compact,columns] [--json bench/results/model-server.json]
 *       [--server-bin other-checkout/bin/tributary.js]   (another build's server, to compare before and after)
 *       [--profile-dir dir]   (the server writes V8 CPU profiles there: node --cpu-prof; `npx tsx bench/lib/profile-summary.ts dir`)
 *
 * Runs the compiled server (bin/tributary.js: `npm run build` first). Needs Kafka (`tributary
 * services up`; KAFKA_BROKERS is honoured). Exits non-zero only when something fails to run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { COLUMNS_CONTENT_TYPE, decodeColumns, encodeColumns } from '../src/serving/column-batch.ts';
import { BenchAdmin, brokers, kafka, unique } from './lib/kafka.ts';
import { fmt, table } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    batch: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    formats: { type: 'string', default: 'compact,columns' },
    json: { type: 'string', default: 'bench/results/model-server.json' },
    'server-bin': { type: 'string', default: 'bin/tributary.js' },
    'profile-dir': { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const BATCH = Number(args.batch);
const ROUNDS = Math.max(1, Number(args.rounds));
type Format = 'compact' | 'columns';
const FORMATS = args.formats.split(',') as Format[];
/** Requests answered before the measured span starts. */
const WARMUP = 8;
const CLOCK_TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
}

/** performance.now() (ms) as CLOCK_MONOTONIC µs, the clock of V8's CPU profiles. */
const monotonicOffsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;

/** CPU µs (user, system) of each thread of a process, by thread id, with the thread's name. */
function threadCpuUs(pid: number): Map<string, { name: string; user: number; system: number }> {
  const threads = new Map<string, { name: string; user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, { name: tid === String(pid) ? 'main' : name, user: Number(fields[11]) * CLOCK_TICK_US, system: Number(fields[12]) * CLOCK_TICK_US });
    } catch {
      // gone meanwhile
    }
  }
  return threads;
}

/** Per thread name, the CPU µs (user + system) spent between two snapshots; `main (system)` apart. */
function threadSpend(before: Map<string, { name: string; user: number; system: number }>, after: Map<string, { name: string; user: number; system: number }>): Record<string, number> {
  const spend: Record<string, number> = {};
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { user: 0, system: 0 };
    if (a.name === 'main') {
      spend['main (user)'] = a.user - b.user;
      spend['main (system)'] = a.system - b.system;
    } else if (process.env.BENCH_THREADS === 'each') spend[`${a.name}#${tid}`] = a.user + a.system - b.user - b.system;
    else spend[a.name] = (spend[a.name] ?? 0) + a.user + a.system - b.user - b.system;
  }
  return spend;
}

const holdout = (JSON.parse(readFileSync('models/fraud/2/holdout.json', 'utf8')) as { records: Record<string, number>[] }).records;

interface Measured {
  format: Format;
  round: number;
  recordsPerSecond: number;
  serverCpuUsPerRecord: number;
  replyBytesPerRecord: number;
  parseUsPerRecord: number;
  /** Server CPU µs per record by thread name (the main thread's user and system time apart). */
  threadUsPerRecord: Record<string, number>;
}

const admin = new BenchAdmin();

/** What the server printed (shown when it does not answer). */
let serverOutput = '';

async function serve(group: string, requestTopic: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...(args['profile-dir'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args['profile-dir']}`]), args['server-bin'], 'serve', 'models', '--kafka', '--brokers', brokers.join(','), '--group', group, '--request-topic', requestTopic], { stdio: ['ignore', 'pipe', 'pipe'] });
  serverOutput = '';
  child.stdout!.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!/kafka group \S+ on/.test(serverOutput)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tributary serve did not start:\n${serverOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function measure(format: Format, round: number): Promise<Measured> {
  const run = unique('bench-server');
  const group = `${run}-group`;
  const requestTopic = `${run}-fraud-requests`;
  const replyTopic = `${run}-replies`;
  admin.forget({ groups: [group], topics: [requestTopic, replyTopic, `${group}-dlq`] });
  await admin.createTopics([requestTopic], 4);
  await admin.createTopics([replyTopic], 1);
  const child = await serve(group, requestTopic.replace('fraud', '{model}'));
  // the first WARMUP requests load the model and start its workers, before the measured span
  const requests = Array.from({ length: WARMUP + REQUESTS }, (_, r) => {
    const values = Array.from({ length: BATCH }, (_, i) => ({ paymentId: `p-${r}-${i}`, cardId: `card-${(r * BATCH + i) % 997}`, ...holdout[(r * BATCH + i) % holdout.length]! }));
    const id = randomUUID();
    return { key: id, value: Buffer.from(encodeColumns(values)!), headers: { 'correlation-id': id, 'reply-to': replyTopic, 'content-type': COLUMNS_CONTENT_TYPE, 'reply-format': format } };
  });
  const waiting = new Set<string>(requests.map((r) => r.key));
  let warmed!: () => void;
  const warm = new Promise<void>((resolve) => (warmed = resolve));
  let parseMs = 0;
  let replyBytes = 0;
  let failure: string | undefined;
  let allReplied!: () => void;
  const replied = new Promise<void>((resolve) => (allReplied = resolve));
  const consumer = kafka.consumer({ groupId: `${run}-reader`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [replyTopic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const id = message.headers?.['correlation-id']?.toString();
      if (id === undefined || !waiting.delete(id)) return;
      if (waiting.size === REQUESTS) warmed();
      if (waiting.size >= REQUESTS) return;
      const value = message.value!;
      replyBytes += value.length;
      const started = performance.now();
      const predictions = message.headers?.['content-type']?.toString() === COLUMNS_CONTENT_TYPE
        ? decodeColumns(value)
        : (JSON.parse(value.toString('utf8')) as { predictions?: unknown[] }).predictions;
      parseMs += performance.now() - started;
      if (!Array.isArray(predictions) || predictions.length !== BATCH) failure ??= `reply to ${id}: ${value.toString('utf8').slice(0, 200)}`;
      if (waiting.size === 0) allReplied();
    },
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: requestTopic, acks: -1, messages: requests.slice(0, WARMUP) });
  await warm;
  const cpuBefore = processCpuUs(child.pid!);
  const threadsBefore = threadCpuUs(child.pid!);
  const started = performance.now();
  for (let i = WARMUP; i < requests.length; i += 50) await producer.send({ topic: requestTopic, acks: -1, messages: requests.slice(i, i + 50) });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 120_000)));
  if (await Promise.race([replied.then(() => false), timedOut])) {
    await stop(child);
    throw new Error(`${waiting.size} of ${REQUESTS} requests unanswered after 120 s; the server printed:\n${serverOutput.slice(-3000)}`);
  }
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = processCpuUs(child.pid!) - cpuBefore;
  const threads = threadSpend(threadsBefore, threadCpuUs(child.pid!));
  if (args['profile-dir'] !== undefined) {
    // the measured span on the profiles' clock (CLOCK_MONOTONIC µs), for profile-summary.ts
    const toUs = (at: number): number => Math.round(at * 1000 + monotonicOffsetUs);
    writeFileSync(join(args['profile-dir'], 'window.json'), `${JSON.stringify({ format, round, fromUs: toUs(started), toUs: toUs(performance.now()), records: REQUESTS * BATCH })}\n`);
  }
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  await stop(child);
  if (failure !== undefined) throw new Error(failure);
  const records = REQUESTS * BATCH;
  return { format, round, recordsPerSecond: records / seconds, serverCpuUsPerRecord: cpuUs / records, replyBytesPerRecord: replyBytes / records, parseUsPerRecord: (parseMs * 1000) / records, threadUsPerRecord: Object.fromEntries(Object.entries(threads).filter(([, us]) => us > 0).map(([name, us]) => [name, us / records])) };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const results: Measured[] = [];
try {
  await admin.connect();
  console.log(`model server: ${REQUESTS} requests of ${BATCH} payments (column batches), formats ${FORMATS.join(', ')}, ${ROUNDS} round(s)`);
  for (let round = 1; round <= ROUNDS; round++) {
    // alternate which format goes first, so a drift in the machine's load hits both
    const order = round % 2 === 1 ? FORMATS : [...FORMATS].reverse();
    for (const format of order) {
      const m = await measure(format, round);
      results.push(m);
      console.log(`  round ${round} ${format}: ${fmt(m.recordsPerSecond)} records/s, server ${fmt(m.serverCpuUsPerRecord, 1)} µs CPU/record, reply ${fmt(m.replyBytesPerRecord, 1)} B/record, client parse ${fmt(m.parseUsPerRecord, 2)} µs/record`);
      console.log(`    server threads, µs CPU/record: ${Object.entries(m.threadUsPerRecord).map(([name, us]) => `${name} ${fmt(us, 1)}`).join(', ')}`);
    }
  }
} finally {
  await admin.cleanup();
}
const rows = FORMATS.map((format) => {
  const mine = results.filter((r) => r.format === format);
  return {
    format,
    recordsPerSecond: median(mine.map((r) => r.recordsPerSecond)),
    serverCpuUsPerRecord: median(mine.map((r) => r.serverCpuUsPerRecord)),
    replyBytesPerRecord: median(mine.map((r) => r.replyBytesPerRecord)),
    parseUsPerRecord: median(mine.map((r) => r.parseUsPerRecord)),
  };
});
console.log();
console.log(table(
  ['reply format', 'records/s', 'server µs CPU/record', 'reply bytes/record', 'client parse µs/record'],
  rows.map((r) => [r.format, fmt(r.recordsPerSecond), fmt(r.serverCpuUsPerRecord, 1), fmt(r.replyBytesPerRecord, 1), fmt(r.parseUsPerRecord, 2)]),
));
console.log(`(medians of ${ROUNDS} round(s); server CPU covers every thread of its process, from the first request to the last reply)`);
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify({ requests: REQUESTS, batch: BATCH, rounds: ROUNDS, results, medians: rows }, null, 2));
console.log(`wrote ${args.json}`);
