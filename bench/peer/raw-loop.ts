/**
 * The raw kafkajs consume → produce loop of bench/kafka-streams-peer.ts, in its own process like
 * the other sides: eachBatch, the same transformation, one `producer.send` per ≤ 512 KiB of a
 * batch's outputs, in order (idempotent producer, acks=all, as Tributary's), offsets committed
 * every second once the batch's sends are acknowledged (at-least-once).
 *
 *   node --import tsx bench/peer/raw-loop.ts --workload word-count|json-filter --brokers b --group g --input t --output t
 *
 * Word count keeps the counts in a `Map` in this one process, which owns every input partition,
 * so it needs no repartition hop: it writes (word, count) for every word of every line, keyed by
 * word, and its final counts are right — but it skips the hop that Kafka Streams and Tributary make.
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    group: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
  },
});
const wordCount = args.workload === 'word-count';
if (!wordCount && args.workload !== 'json-filter') throw new Error(`--workload must be word-count or json-filter, got ${args.workload}`);

const kafka = new Kafka({ clientId: `raw-${args.group}`, brokers: args.brokers.split(','), logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: args.group!, maxWaitTimeInMs: 100 });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
const counts = new Map<string, number>();
/** Offsets whose outputs are acknowledged, not yet committed, by `partition`. */
const pending = new Map<number, string>();

function transform(key: Buffer | null, value: Buffer, out: Message[]): void {
  if (wordCount) {
    for (const word of value.toString('utf8').toLowerCase().split(/\W+/)) {
      if (word.length === 0) continue;
      const count = (counts.get(word) ?? 0) + 1;
      counts.set(word, count);
      const bytes = Buffer.allocUnsafe(8);
      bytes.writeBigInt64BE(BigInt(count));
      out.push({ key: word, value: bytes });
    }
    return;
  }
  const click = JSON.parse(value.toString('utf8')) as { ms: number };
  if (click.ms >= 350) out.push({ key, value: JSON.stringify({ ...click, seconds: click.ms / 1000 }) });
}

async function commit(): Promise<void> {
  if (pending.size === 0) return;
  const offsets = [...pending].map(([partition, offset]) => ({ topic: args.input!, partition, offset }));
  pending.clear();
  await consumer.commitOffsets(offsets);
}

await Promise.all([consumer.connect(), producer.connect()]);
await consumer.subscribe({ topics: [args.input!], fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch, heartbeat }) => {
    const out: Message[] = [];
    for (const m of batch.messages) transform(m.key, m.value!, out);
    // One request at a time: concurrent sends may land out of order, and a word's last count must be its highest.
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < out.length; i++) {
      const m = out[i]!;
      bytes += 70 + String(m.key ?? '').length + (m.value as Buffer | string).length;
      if (bytes >= 512 * 1024 || i === out.length - 1) {
        await producer.send({ topic: args.output!, messages: out.slice(from, i + 1) });
        from = i + 1;
        bytes = 0;
      }
    }
    if (batch.messages.length > 0) pending.set(batch.partition, String(Number(batch.lastOffset()) + 1));
    await heartbeat();
  },
});
const timer = setInterval(() => void commit().catch((error: unknown) => console.error(`commit failed: ${String(error)}`)), 1_000);

const shutdown = async (): Promise<void> => {
  clearInterval(timer);
  await consumer.stop();
  await commit();
  await consumer.disconnect();
  await producer.disconnect();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
