/**
 * The load side of the Kafka benchmarks, run in its own process so that producing and reading
 * outputs do not share the event loop (or the RSS) of the runner being measured.
 *
 *   npx tsx bench/lib/load.ts produce --brokers b --topic t --count n --kind click|payment [--prefix p]
 *       writes n records as fast as the broker takes them
 *   npx tsx bench/lib/load.ts offer --brokers b --in t --out o --rate r --seconds s --kind click|payment [--prefix p]
 *       reads `o` from its current end, offers `r` records/s to `t` for `s` seconds with
 *       timestamp = send time, and measures each output's arrival time − its record timestamp
 *
 * Both print one line of JSON on stdout (see `ProduceResult` and `OfferResult`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { percentiles, type Percentiles } from './stats.ts';

export type LoadKind = 'click' | 'payment';

export interface ProduceResult {
  produced: number;
  ms: number;
}

export interface OfferResult {
  sent: number;
  received: number;
  /** Outputs that carried an id of this run, counted once each. */
  distinctIds: number;
  offeredPerSec: number;
  latencyMs: Percentiles;
  /** True when every checked output's timestamp equals the `sentAt` its value carries (the input's CreateTime). */
  createTimeCarried: boolean | null;
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
    topic: { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    count: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    kind: { type: 'string', default: 'click' },
    prefix: { type: 'string', default: 'r' },
    keys: { type: 'string', default: '1000' },
    'drain-timeout': { type: 'string', default: '60000' },
  },
});
const mode = positionals[0];
const kind = args.kind as LoadKind;
const KEYS = Number(args.keys);
const kafka = new Kafka({ clientId: 'tributary-bench-load', brokers: args.brokers.split(','), logLevel: logLevel.NOTHING });
const payments = kind === 'payment' ? (JSON.parse(readFileSync('models/fraud/2/holdout.json', 'utf8')) as { records: Record<string, number>[] }).records : [];

/** The i-th record of a kind; `sentAt` (when given) is also the record's timestamp. */
function record(i: number, sentAt: number | undefined): Message {
  const id = `${args.prefix}-${i}`;
  if (kind === 'payment') {
    const card = `card-${i % KEYS}`;
    const value = { paymentId: id, cardId: card, ...payments[i % payments.length]!, ...(sentAt !== undefined ? { sentAt } : {}) };
    return { key: card, value: JSON.stringify(value), ...(sentAt !== undefined ? { timestamp: String(sentAt) } : {}) };
  }
  const user = `user-${i % KEYS}`;
  const value = { id, user, page: `/p/${i % 50}`, ms: i % 700, ...(sentAt !== undefined ? { sentAt } : {}) };
  return { key: user, value: JSON.stringify(value), ...(sentAt !== undefined ? { timestamp: String(sentAt) } : {}) };
}

async function produce(): Promise<ProduceResult> {
  const topic = args.topic!;
  const count = Number(args.count);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  const inFlight: Promise<unknown>[] = [];
  const now = Date.now();
  for (let from = 0; from < count; from += 5_000) {
    const messages: Message[] = [];
    for (let i = from; i < Math.min(count, from + 5_000); i++) messages.push({ ...record(i, undefined), timestamp: String(now) });
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const ms = performance.now() - started;
  await producer.disconnect();
  return { produced: count, ms };
}

async function offer(): Promise<OfferResult> {
  const input = args.in!;
  const output = args.out!;
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(output);
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `tributary-bench-latency-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 20 });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await Promise.all([consumer.connect(), producer.connect()]);
  const latencies: number[] = [];
  const ids = new Set<string>();
  let checked = 0;
  let carried = true;
  let arrived = (): void => undefined;
  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const { partition, high } of ends) consumer.seek({ topic: output, partition, offset: high });
      resolve();
    });
  });
  await consumer.subscribe({ topics: [output], fromBeginning: false });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) {
        const timestamp = Number(message.timestamp);
        latencies.push(now - timestamp);
        if (kind === 'payment' || message.value?.[0] === 0x7b) {
          const value = JSON.parse(message.value!.toString('utf8')) as { id?: string; paymentId?: string; sentAt?: number };
          const id = value.paymentId ?? value.id;
          if (id !== undefined && id.startsWith(`${args.prefix}-`)) ids.add(id);
          if (value.sentAt !== undefined && checked < 100_000) {
            checked++;
            if (value.sentAt !== timestamp) carried = false;
          }
        }
      }
      arrived();
    },
  });
  await joined;
  // Let the consumer's first fetch settle before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  const sends: Promise<unknown>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    // At most 2 000 records a request: after a stall of this loop, one send would exceed the broker's 1 MB limit.
    while (due > sent) {
      const sentAt = Date.now();
      const messages: Message[] = [];
      for (const end = Math.min(due, sent + 2_000); sent < end; sent++) messages.push(record(sent, sentAt));
      sends.push(producer.send({ topic: input, acks: -1, messages }));
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(sends);
  const deadline = Date.now() + Number(args['drain-timeout']);
  while (latencies.length < total && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      arrived = resolve;
      setTimeout(resolve, 200);
    });
  }
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return {
    sent: total,
    received: latencies.length,
    distinctIds: ids.size,
    offeredPerSec: rate,
    latencyMs: percentiles(latencies),
    createTimeCarried: checked > 0 ? carried : null,
  };
}

if (mode === 'produce') console.log(JSON.stringify(await produce()));
else if (mode === 'offer') console.log(JSON.stringify(await offer()));
else {
  console.error('usage: load.ts produce|offer [options] (see the comment at the top of bench/lib/load.ts)');
  process.exitCode = 2;
}
