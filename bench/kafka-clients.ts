/**
 * Kafka client micro-benchmark: kafkajs (configured as src/transport/kafka-transport.ts configures
 * it, with src/transport/kafkajs-patches.ts loaded) against @platformatic/kafka 1.x, on the same
 * broker in the same run. Each round, for each client (the order alternating from round to round),
 * a child process produces N word-count-like records (a word key of 2–5 bytes, an 8-byte value,
 * the partition chosen by key as the transport does) into a fresh 4-partition topic, in sends of
 * up to 10 000 records / 512 KiB, one at a time, from an idempotent producer (acks=all); then it
 * joins a fresh consumer group and reads every record back (read_committed, from the earliest
 * offset, keys and values as Buffers, each record's key and value length touched).
 *
 * Per phase it reports wall records/s and the child's CPU time (user + system) per record,
 * produce timed from the first send to the last acknowledgement, consume from the group join to
 * the N-th record delivered (CPU from before the consumer connected: the join costs little CPU). Medians over the rounds, with
 * min–max as the spread: the machine is shared, so the CPU time per record is the steadier figure.
 * Prints a table and writes bench/results/kafka-clients.json.
 *
 * @platformatic/kafka is not a dependency of Tributary (it did not measure faster, see
 * docs/operations.md); install it without saving to run this:
 *
 *   npm install --no-save @platformatic/kafka@1.35.0
 *   KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/kafka-clients.ts [--records 200000] [--rounds 5] [--clients kafkajs,platformatic]
 */
import '../src/transport/kafkajs-patches.ts'; // before kafkajs, as the transport loads it
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { partitionForKey } from '../src/transport/partitioner.ts';
import { BenchAdmin, brokers, unique } from './lib/kafka.ts';
import { fmt, table } from './lib/stats.ts';

const CLIENTS = ['kafkajs', 'platformatic'] as const;
type Client = (typeof CLIENTS)[number];
const PARTITIONS = 4;
const MAX_SEND_RECORDS = 10_000; // the transport's MAX_BATCH_RECORDS
const MAX_SEND_BYTES = 512 * 1024; // the transport's DEFAULT_MAX_BATCH_BYTES
const RECORD_OVERHEAD_BYTES = 70; // src/transport/chunks.ts

interface Phase {
  ms: number;
  cpuMs: number;
}
interface ChildResult {
  client: Client;
  records: number;
  produce: Phase;
  consume: Phase;
  consumed: number;
  keyBytes: number;
}

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    clients: { type: 'string', default: CLIENTS.join(',') },
    child: { type: 'string' },
    topic: { type: 'string' },
    json: { type: 'string', default: 'bench/results/kafka-clients.json' },
  },
});
const N = Number(args.records);
if (!Number.isInteger(N) || N <= 0) throw new Error(`--records must be a positive integer, got '${args.records}'`);

/** The records of a run: word keys from a 10 000-word vocabulary, 8-byte values, partition by key. */
function makeRecords(n: number): { key: Buffer; value: Buffer; partition: number }[] {
  const records = [];
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(`w${(i * 7919) % 10_000}`);
    const value = Buffer.alloc(8);
    value.writeBigInt64BE(BigInt(i));
    records.push({ key, value, partition: partitionForKey(key, PARTITIONS) });
  }
  return records;
}

/** Cuts the records into sends as the transport's chunkEnd does (record count and bytes). */
function chunks<T extends { key: Buffer; value: Buffer }>(records: T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = RECORD_OVERHEAD_BYTES + record.key.length + record.value.length;
    if (current.length > 0 && (current.length >= MAX_SEND_RECORDS || bytes + size > MAX_SEND_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

async function timed(run: () => Promise<void>): Promise<Phase> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await run();
  return { ms: performance.now() - t0, cpuMs: cpuMs(cpu) };
}

/**
 * Counts consumed records; resolves at the N-th with the wall time from the group join (clients
 * fetch and decode whole batches before they deliver the first record) and the CPU time from
 * before the consumer connected (the join itself costs little CPU: it waits on the broker).
 */
class Counter {
  count = 0;
  keyBytes = 0;
  private readonly cpu = process.cpuUsage();
  private joinedAt: number | undefined;
  private done!: (phase: Phase) => void;
  readonly finished = new Promise<Phase>((resolve) => (this.done = resolve));

  joined(): void {
    this.joinedAt ??= performance.now();
  }

  add(key: Buffer | null | undefined, value: Buffer | null | undefined): void {
    this.keyBytes += (key?.length ?? 0) + (value?.length ?? 0);
    if (++this.count === N) {
      if (this.joinedAt === undefined) throw new Error('records arrived before the group join was reported');
      this.done({ ms: performance.now() - this.joinedAt, cpuMs: cpuMs(this.cpu) });
    }
  }
}

async function runKafkajs(topic: string): Promise<ChildResult> {
  const kafka = new Kafka({ brokers, clientId: 'bench-kafkajs', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const sends = chunks(makeRecords(N));
  const produce = await timed(async () => {
    for (const chunk of sends) {
      const messages: Message[] = chunk.map(({ key, value, partition }) => ({ key, value, partition }));
      await producer.sendBatch({ topicMessages: [{ topic, messages }] });
    }
  });
  await producer.disconnect();

  const counter = new Counter();
  const consumer = kafka.consumer({ groupId: unique('bench-clients-kafkajs'), allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.GROUP_JOIN, () => counter.joined());
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) counter.add(m.key, m.value);
    },
  });
  const consume = await counter.finished;
  await consumer.disconnect();
  return { client: 'kafkajs', records: N, produce, consume, consumed: counter.count, keyBytes: counter.keyBytes };
}

/** The part of @platformatic/kafka 1.x used here (typed locally: the package is not a dependency). */
interface PlatformaticKafka {
  Producer: new (options: { clientId: string; bootstrapBrokers: string[]; idempotent: boolean; autocreateTopics: boolean }) => {
    metadata(options: { topics: string[] }): Promise<unknown>;
    initIdempotentProducer(options: object): Promise<unknown>;
    send(options: { messages: { topic: string; key: Buffer; value: Buffer; partition: number }[] }): Promise<unknown>;
    close(): Promise<void>;
  };
  Consumer: new (options: { clientId: string; bootstrapBrokers: string[]; groupId: string; autocommit: boolean; maxWaitTime: number }) => {
    on(event: 'consumer:group:join', listener: () => void): void;
    consume(options: { topics: string[]; mode: 'earliest' }): Promise<{
      on(event: 'data', listener: (message: { key: Buffer | undefined; value: Buffer | undefined }) => void): void;
      close(): Promise<void>;
    }>;
    close(force: boolean): Promise<void>;
  };
}

async function runPlatformatic(topic: string): Promise<ChildResult> {
  const name = '@platformatic/kafka';
  const pk = (await import(name).catch((error: unknown) => {
    throw new Error(`@platformatic/kafka is not installed: run \`npm install --no-save @platformatic/kafka@1.35.0\` (${String(error)})`);
  })) as PlatformaticKafka;
  const producer = new pk.Producer({ clientId: 'bench-platformatic', bootstrapBrokers: brokers, idempotent: true, autocreateTopics: false });
  const sends = chunks(makeRecords(N));
  // Connected, with its producer id, before the clock starts (as kafkajs's connect does).
  await producer.metadata({ topics: [topic] });
  await producer.initIdempotentProducer({});
  const produce = await timed(async () => {
    for (const chunk of sends) await producer.send({ messages: chunk.map(({ key, value, partition }) => ({ topic, key, value, partition })) });
  });
  await producer.close();

  const counter = new Counter();
  const consumer = new pk.Consumer({ clientId: 'bench-platformatic', bootstrapBrokers: brokers, groupId: unique('bench-clients-platformatic'), autocommit: false, maxWaitTime: 100 });
  consumer.on('consumer:group:join', () => counter.joined());
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
  stream.on('data', (m) => counter.add(m.key, m.value));
  const consume = await counter.finished;
  await stream.close();
  await consumer.close(true);
  return { client: 'platformatic', records: N, produce, consume, consumed: counter.count, keyBytes: counter.keyBytes };
}

function runChild(client: Client, topic: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/kafka-clients.ts', '--child', client, '--topic', topic, '--records', String(N)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as ChildResult);
      else reject(new Error(`the ${client} child exited with ${code}:\n${out}`));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const spread = (values: number[], digits: number): string => `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;

if (args.child !== undefined) {
  const client = args.child as Client;
  if (!CLIENTS.includes(client)) throw new Error(`--child must be one of ${CLIENTS.join(', ')}, got '${args.child}'`);
  if (!args.topic) throw new Error('--child needs --topic');
  const result = client === 'kafkajs' ? await runKafkajs(args.topic) : await runPlatformatic(args.topic);
  console.log(JSON.stringify(result));
  process.exit(0);
}

const clients = args.clients.split(',').map((c) => c.trim()) as Client[];
for (const c of clients) if (!CLIENTS.includes(c)) throw new Error(`--clients: '${c}' is not one of ${CLIENTS.join(', ')}`);
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`--rounds must be a positive integer, got '${args.rounds}'`);

const admin = new BenchAdmin();
await admin.connect();
const results: ChildResult[] = [];
const startedAt = new Date().toISOString();
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? clients : [...clients].reverse();
    for (const client of order) {
      const topic = unique(`bench-clients-${client}`);
      await admin.createTopics([topic], PARTITIONS);
      const result = await runChild(client, topic);
      const stored = await admin.count(topic);
      if (stored !== N) throw new Error(`${client}: the topic holds ${stored} records, expected ${N}`);
      if (result.consumed !== N) throw new Error(`${client}: consumed ${result.consumed} of ${N}`);
      results.push(result);
      console.error(
        `round ${round + 1} ${client}: produce ${fmt((N / result.produce.ms) * 1000)} rec/s ${fmt((result.produce.cpuMs * 1000) / N, 2)} µs CPU/rec; ` +
          `consume ${fmt((N / result.consume.ms) * 1000)} rec/s ${fmt((result.consume.cpuMs * 1000) / N, 2)} µs CPU/rec`,
      );
    }
  }
} finally {
  await admin.cleanup();
}

const summary = clients.map((client) => {
  const mine = results.filter((r) => r.client === client);
  const produceRate = mine.map((r) => (N / r.produce.ms) * 1000);
  const consumeRate = mine.map((r) => (N / r.consume.ms) * 1000);
  const produceCpu = mine.map((r) => (r.produce.cpuMs * 1000) / N);
  const consumeCpu = mine.map((r) => (r.consume.cpuMs * 1000) / N);
  const totalCpu = mine.map((r) => ((r.produce.cpuMs + r.consume.cpuMs) * 1000) / N);
  return { client, produceRate, consumeRate, produceCpu, consumeCpu, totalCpu };
});
console.log(`\n${N} records, ${PARTITIONS} partitions, ${rounds} rounds interleaved; median (min–max)\n`);
console.log(
  table(
    ['client', 'produce rec/s', 'produce µs CPU/rec', 'consume rec/s', 'consume µs CPU/rec', 'produce+consume µs CPU/rec'],
    summary.map((s) => [s.client, spread(s.produceRate, 0), spread(s.produceCpu, 2), spread(s.consumeRate, 0), spread(s.consumeCpu, 2), spread(s.totalCpu, 2)]),
  ),
);
const base = summary.find((s) => s.client === 'kafkajs');
const ratios: Record<string, { producePerCpu: number; consumePerCpu: number; totalPerCpu: number }> = {};
if (base) {
  for (const s of summary) {
    if (s === base) continue;
    ratios[s.client] = {
      producePerCpu: median(base.produceCpu) / median(s.produceCpu),
      consumePerCpu: median(base.consumeCpu) / median(s.consumeCpu),
      totalPerCpu: median(base.totalCpu) / median(s.totalCpu),
    };
    const r = ratios[s.client]!;
    console.log(`\n${s.client} vs kafkajs, CPU per record (>1 = ${s.client} cheaper): produce ${fmt(r.producePerCpu, 2)}×, consume ${fmt(r.consumePerCpu, 2)}×, produce+consume ${fmt(r.totalPerCpu, 2)}×`);
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(args.json, JSON.stringify({ startedAt, records: N, partitions: PARTITIONS, rounds, runs: results, summary, ratios }, null, 2));
console.log(`\nwrote ${args.json}`);
