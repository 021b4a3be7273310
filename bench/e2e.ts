/**
 * End to end on the local broker: records/s of `KafkaStreams` in this process for a stateless
 * topology (JSON in → mapValues → JSON out) and a stateful one (count by key, Redis stores and
 * commits), each against a hand-written kafkajs consume → produce loop in the same run (the
 * client's limit: eachBatch, JSON parse/transform/stringify, one producer.send per batch, the same
 * topics, partitions, idempotent producer and acks as ours, offsets committed as often as ours).
 *
 * 1. Throughput: N records are produced into a fresh topic first; a side's time runs from its
 *    start (connect and group join included) until all N outputs are in its output topic (end
 *    offsets polled every 50 ms). Sides alternate over the rounds; the best round of each counts.
 * 2. Latency: a child process offers half of the topology's measured throughput for a few
 *    seconds with timestamp = send time and reads the output topic; latency = arrival − the
 *    output's timestamp, which is the input's CreateTime carried through by the sink (checked on
 *    the stateless outputs, whose values carry `sentAt`).
 * 3. Memory: a backlog of ten commit intervals' worth of records (10 × throughput × interval) is
 *    processed while this process's RSS is sampled every 100 ms; flat = RSS at 100 % of the
 *    backlog within 15 % (or 32 MB) of the RSS at 25 %.
 *
 *   npx tsx bench/e2e.ts [--records 200000] [--partitions 4] [--rounds 2] [--latency-seconds 10] [--raw-concurrency 1] [--short] [--json bench/results/e2e.json]
 *
 * Needs Kafka and Redis (`tributary services up`; KAFKA_BROKERS and REDIS_URL are honoured).
 * Targets: stateless ≥ 0.7 × the raw loop, stateful ≥ 0.5 × the raw loop.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Partitioners, type Message } from 'kafkajs';
import { KafkaStreams, Serdes, StreamsBuilder, type Topology } from '../src/index.ts';
import { BenchAdmin, brokers, kafka, MB, offerLoad, produceBacklog, redisUrl, RssSampler, unique } from './lib/kafka.ts';
import { fmt, table, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string' },
    partitions: { type: 'string', default: '4' },
    rounds: { type: 'string' },
    keys: { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string' },
    'commit-interval': { type: 'string', default: '1000' },
    'raw-concurrency': { type: 'string', default: '1' },
    short: { type: 'boolean', default: false },
    json: { type: 'string', default: 'bench/results/e2e.json' },
  },
});
const SHORT = args.short;
const N = Number(args.records ?? (SHORT ? 20_000 : 200_000));
const PARTITIONS = Number(args.partitions);
const ROUNDS = Number(args.rounds ?? (SHORT ? 1 : 2));
const KEYS = Number(args.keys);
const LATENCY_SECONDS = Number(args['latency-seconds'] ?? (SHORT ? 3 : 10));
const COMMIT_INTERVAL_MS = Number(args['commit-interval']);
/** kafkajs `partitionsConsumedConcurrently` of the raw loop. */
const RAW_CONCURRENCY = Number(args['raw-concurrency']);
const MEMORY_BACKLOG_CAP = SHORT ? 60_000 : 2_000_000;
const TARGETS = { stateless: 0.7, stateful: 0.5 } as const;

type Kind = 'stateless' | 'stateful';
const KINDS: Kind[] = ['stateless', 'stateful'];
interface Click { id: string; user: string; page: string; ms: number; sentAt?: number }

const admin = new BenchAdmin();
const run = unique('bench-e2e');

function topologyOf(kind: Kind, input: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const stream = builder.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<Click>() });
  if (kind === 'stateless') {
    stream.mapValues((v) => ({ ...v, seconds: v.ms / 1000 })).to(output, { keySerde: Serdes.string(), valueSerde: Serdes.json() });
  } else {
    stream.groupByKey().count({ storeName: 'counts' }).toStream().to(output, { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  }
  return builder.build();
}

/** Starts `KafkaStreams` on the topology; `stop` closes it. */
async function startOurs(kind: Kind, input: string, output: string): Promise<KafkaStreams> {
  const applicationId = unique(`${run}-${kind}`);
  admin.forget({ topics: [`${applicationId}-dlq`], groups: [applicationId], redisApps: [applicationId] });
  const app = new KafkaStreams(topologyOf(kind, input, output), {
    applicationId,
    brokers,
    ...(kind === 'stateful' ? { redis: redisUrl } : {}),
    commitIntervalMs: COMMIT_INTERVAL_MS,
    watchdog: false,
    log: (line) => console.error(`  (${kind}) ${line}`),
  });
  await app.start();
  return app;
}

/** The hand-written kafkajs loop; resolves to a function that stops it. */
async function startRaw(kind: Kind, input: string, output: string): Promise<() => Promise<void>> {
  const groupId = unique(`${run}-raw-${kind}`);
  admin.forget({ groups: [groupId] });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([consumer.connect(), producer.connect()]);
  const counts = new Map<string, number>();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  await consumer.run({
    autoCommitInterval: COMMIT_INTERVAL_MS,
    partitionsConsumedConcurrently: RAW_CONCURRENCY,
    eachBatch: async ({ batch }) => {
      const messages: Message[] = new Array(batch.messages.length);
      for (let i = 0; i < batch.messages.length; i++) {
        const m = batch.messages[i]!;
        const value = JSON.parse(m.value!.toString('utf8')) as Click;
        if (kind === 'stateless') {
          messages[i] = { key: m.key, value: JSON.stringify({ ...value, seconds: value.ms / 1000 }), timestamp: m.timestamp };
        } else {
          const key = m.key!.toString('utf8');
          const count = (counts.get(key) ?? 0) + 1;
          counts.set(key, count);
          const bytes = Buffer.allocUnsafe(8);
          bytes.writeBigInt64BE(BigInt(count));
          messages[i] = { key: m.key, value: bytes, timestamp: m.timestamp };
        }
      }
      // One produce request per 512 KiB, as our transport does: a fetched batch can exceed the broker's 1 MB request limit.
      const sends: Promise<unknown>[] = [];
      let from = 0;
      let bytes = 0;
      for (let i = 0; i < messages.length; i++) {
        bytes += 70 + (messages[i]!.key as Buffer).length + (messages[i]!.value as Buffer | string).length;
        if (bytes >= 512 * 1024 || i === messages.length - 1) {
          sends.push(producer.send({ topic: output, messages: messages.slice(from, i + 1) }));
          from = i + 1;
          bytes = 0;
        }
      }
      await Promise.all(sends);
    },
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => console.error(`  (raw ${kind}) ${String(payload.error)}`));
  return async () => {
    await consumer.disconnect();
    await producer.disconnect();
  };
}

interface Throughput {
  recordsPerSec: number;
  /** From the first output to the last: without connect and group join. */
  steadyRecordsPerSec: number;
  seconds: number;
  startupMs: number;
}

async function measure(side: 'ours' | 'raw', kind: Kind, input: string): Promise<Throughput> {
  const output = `${input}-${side}-${kind}-${Math.random().toString(36).slice(2, 7)}`;
  await admin.createTopics([output], PARTITIONS);
  const started = performance.now();
  let failed: () => Error | undefined = () => undefined;
  let stop: () => Promise<void>;
  if (side === 'ours') {
    const app = await startOurs(kind, input, output);
    failed = () => (app.state === 'ERROR' ? (app.error ?? new Error('the application failed')) : undefined);
    stop = () => app.close();
  } else {
    stop = await startRaw(kind, input, output);
  }
  const { firstAt, doneAt } = await admin.waitForRecords(output, N, { failed });
  await stop();
  const seconds = (doneAt - started) / 1000;
  return { recordsPerSec: N / seconds, steadyRecordsPerSec: N / Math.max(0.001, (doneAt - firstAt) / 1000), seconds, startupMs: firstAt - started };
}

interface Latency extends Percentiles {
  offeredPerSec: number;
  sent: number;
  received: number;
  createTimeCarried: boolean | null;
}

async function latency(side: 'ours' | 'raw', kind: Kind, rate: number): Promise<Latency> {
  const input = `${run}-lat-${side}-${kind}-in`;
  const output = `${run}-lat-${side}-${kind}-out`;
  await admin.createTopics([input, output], PARTITIONS);
  let stop: () => Promise<void>;
  if (side === 'ours') {
    const app = await startOurs(kind, input, output);
    await app.waitForState('RUNNING');
    stop = () => app.close();
  } else {
    stop = await startRaw(kind, input, output);
  }
  const result = await offerLoad({ input, output, rate, seconds: LATENCY_SECONDS, kind: 'click' });
  await stop();
  if (result.received < result.sent) console.error(`  (${side} ${kind}) only ${result.received} of ${result.sent} outputs arrived`);
  return { ...result.latencyMs, offeredPerSec: rate, sent: result.sent, received: result.received, createTimeCarried: result.createTimeCarried };
}

interface Memory {
  backlog: number;
  peakRssMB: number;
  rssAt25MB: number;
  rssAt100MB: number;
  flat: boolean;
  samples: number;
}

async function memory(kind: Kind, backlog: number): Promise<Memory> {
  const input = `${run}-mem-${kind}-in`;
  const output = `${run}-mem-${kind}-out`;
  await admin.createTopics([input, output], PARTITIONS);
  await produceBacklog(input, backlog, 'click');
  const sampler = new RssSampler();
  let app: KafkaStreams | undefined;
  sampler.start(() => app?.snapshot().processedInput ?? 0);
  app = await startOurs(kind, input, output);
  const current = app;
  await admin.waitForRecords(output, backlog, { failed: () => (current.state === 'ERROR' ? current.error : undefined) });
  sampler.stop();
  await app.close();
  const at25 = sampler.at(backlog * 0.25);
  const at100 = sampler.at(backlog);
  return {
    backlog,
    peakRssMB: sampler.peak() / MB,
    rssAt25MB: at25 / MB,
    rssAt100MB: at100 / MB,
    flat: at100 <= Math.max(at25 * 1.15, at25 + 32 * MB),
    samples: sampler.samples.length,
  };
}

async function main(): Promise<void> {
  await admin.connect();
  const input = `${run}-in`;
  await admin.createTopics([input], PARTITIONS);
  const produced = await produceBacklog(input, N, 'click');
  console.log(`e2e: ${fmt(N)} records in ${input} (${PARTITIONS} partitions, ${KEYS} keys), produced in ${fmt(produced.ms)} ms; ${ROUNDS} round(s)`);

  const best: Record<Kind, Record<'ours' | 'raw', Throughput | undefined>> = { stateless: { ours: undefined, raw: undefined }, stateful: { ours: undefined, raw: undefined } };
  const all: { round: number; kind: Kind; side: string; recordsPerSec: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      const order: ('ours' | 'raw')[] = round % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw'];
      for (const side of order) {
        const result = await measure(side, kind, input);
        all.push({ round, kind, side, recordsPerSec: Math.round(result.recordsPerSec) });
        console.log(`  round ${round + 1} ${kind} ${side}: ${fmt(result.recordsPerSec)} records/s (${fmt(result.seconds, 2)} s, first output after ${fmt(result.startupMs)} ms)`);
        if (!best[kind][side] || result.recordsPerSec > best[kind][side]!.recordsPerSec) best[kind][side] = result;
      }
    }
  }

  const latencies: Record<Kind, Record<'ours' | 'raw', Latency>> = {} as Record<Kind, Record<'ours' | 'raw', Latency>>;
  for (const kind of KINDS) {
    const rate = Math.max(100, Math.round((best[kind].ours!.recordsPerSec * 0.5) / 100) * 100);
    latencies[kind] = { ours: await latency('ours', kind, rate), raw: await latency('raw', kind, rate) };
    console.log(`  latency ${kind} at ${fmt(rate)} records/s: ours p50 ${fmt(latencies[kind].ours.p50)} ms p99 ${fmt(latencies[kind].ours.p99)} ms; raw p50 ${fmt(latencies[kind].raw.p50)} ms p99 ${fmt(latencies[kind].raw.p99)} ms`);
  }

  const memories = {} as Record<Kind, Memory>;
  for (const kind of KINDS) {
    const backlog = Math.min(MEMORY_BACKLOG_CAP, Math.round((10 * best[kind].ours!.recordsPerSec * COMMIT_INTERVAL_MS) / 1000 / 1000) * 1000);
    memories[kind] = await memory(kind, backlog);
    console.log(`  memory ${kind}: backlog ${fmt(backlog)}, RSS peak ${fmt(memories[kind].peakRssMB)} MB, at 25 % ${fmt(memories[kind].rssAt25MB)} MB, at 100 % ${fmt(memories[kind].rssAt100MB)} MB`);
  }

  const ratio = (kind: Kind): number => best[kind].ours!.recordsPerSec / best[kind].raw!.recordsPerSec;
  console.log('');
  console.log(`throughput, best of ${ROUNDS}, ${fmt(N)} records, ${PARTITIONS} partitions, commit interval ${COMMIT_INTERVAL_MS} ms`);
  console.log(
    table(
      ['topology', 'KafkaStreams rec/s', 'raw kafkajs rec/s', 'ratio', 'target', 'met', 'ours steady rec/s', 'raw steady rec/s'],
      KINDS.map((kind) => [
        kind,
        fmt(best[kind].ours!.recordsPerSec),
        fmt(best[kind].raw!.recordsPerSec),
        ratio(kind).toFixed(3),
        `≥ ${TARGETS[kind]}`,
        ratio(kind) >= TARGETS[kind] ? 'yes' : 'NO',
        fmt(best[kind].ours!.steadyRecordsPerSec),
        fmt(best[kind].raw!.steadyRecordsPerSec),
      ]),
    ),
  );
  console.log('');
  console.log(`end-to-end latency (arrival − input CreateTime) at half the topology's throughput for ${LATENCY_SECONDS} s, ms`);
  console.log(
    table(
      ['topology', 'offered rec/s', 'ours p50', 'ours p99', 'ours max', 'raw p50', 'raw p99', 'raw max', 'all arrived'],
      KINDS.map((kind) => {
        const { ours, raw } = latencies[kind];
        return [kind, fmt(ours.offeredPerSec), fmt(ours.p50), fmt(ours.p99), fmt(ours.max), fmt(raw.p50), fmt(raw.p99), fmt(raw.max), ours.received >= ours.sent && raw.received >= raw.sent ? 'yes' : 'NO'];
      }),
    ),
  );
  console.log(`CreateTime carried through by the sink: ${latencies.stateless.ours.createTimeCarried === true ? 'yes' : 'NO'} (stateless outputs' timestamps equal their inputs' send times)`);
  console.log('');
  console.log('memory: RSS of this process while KafkaStreams works off a backlog of 10 commit intervals');
  console.log(
    table(
      ['topology', 'backlog', 'peak MB', 'at 25 % MB', 'at 100 % MB', 'flat'],
      KINDS.map((kind) => {
        const m = memories[kind];
        return [kind, fmt(m.backlog), fmt(m.peakRssMB), fmt(m.rssAt25MB), fmt(m.rssAt100MB), m.flat ? 'yes' : 'NO'];
      }),
    ),
  );

  const result = {
    benchmark: 'e2e: KafkaStreams vs a hand-written kafkajs loop on the local broker',
    records: N,
    partitions: PARTITIONS,
    keys: KEYS,
    rounds: ROUNDS,
    commitIntervalMs: COMMIT_INTERVAL_MS,
    rawPartitionsConsumedConcurrently: RAW_CONCURRENCY,
    short: SHORT,
    throughput: Object.fromEntries(
      KINDS.map((kind) => [
        kind,
        {
          oursRecordsPerSec: Math.round(best[kind].ours!.recordsPerSec),
          rawRecordsPerSec: Math.round(best[kind].raw!.recordsPerSec),
          ratio: Number(ratio(kind).toFixed(3)),
          target: TARGETS[kind],
          met: ratio(kind) >= TARGETS[kind],
          oursSteadyRecordsPerSec: Math.round(best[kind].ours!.steadyRecordsPerSec),
          rawSteadyRecordsPerSec: Math.round(best[kind].raw!.steadyRecordsPerSec),
          oursStartupMs: Math.round(best[kind].ours!.startupMs),
          rawStartupMs: Math.round(best[kind].raw!.startupMs),
        },
      ]),
    ),
    rounds_detail: all,
    latencyMs: latencies,
    createTimeCarried: latencies.stateless.ours.createTimeCarried,
    memory: memories,
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
