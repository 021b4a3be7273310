/**
 * The word-count workload of bench/kafka-streams-peer.ts: lines of text made from a fixed seed
 * (words drawn from a Zipf-like vocabulary, a few commas and full stops), the true count of every
 * word computed while making them, and the final counts read back from an output topic.
 */
import { Partitioners, type Message } from 'kafkajs';
import { kafka, unique } from './kafka.ts';

export interface WordInput {
  lines: number;
  words: number;
  /** word → how often it occurs in the whole input. */
  truth: Map<string, number>;
  ms: number;
}

const SYLLABLES = ['ka', 'fe', 'lo', 'mi', 'su', 'ra', 'to', 'ne', 'vi', 'do', 'pa', 'ge', 'ri', 'so', 'bu', 'ta', 'le', 'no', 'zi', 'mu'];

/** The i-th word of the vocabulary: distinct for every i, letters only (so `\W+` never splits it). */
function word(i: number): string {
  let text = '';
  let n = i;
  do {
    text += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return text;
}

/** mulberry32: the same lines on every run with the same seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `lines` lines into `topic` round-robin over its `partitions`, and returns the truth. */
export async function produceLines(topic: string, lines: number, partitions: number, vocabulary = 10_000, seed = 17): Promise<WordInput> {
  const vocab = Array.from({ length: vocabulary }, (_, i) => word(i));
  // Zipf with s = 1: word i drawn with weight 1 / (i + 1).
  const cdf = new Float64Array(vocabulary);
  let sum = 0;
  for (let i = 0; i < vocabulary; i++) cdf[i] = sum += 1 / (i + 1);
  const next = random(seed);
  const draw = (): string => {
    const x = next() * sum;
    let lo = 0;
    let hi = vocabulary - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo]!;
  };
  const truth = new Map<string, number>();
  let words = 0;
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let from = 0; from < lines; from += 5_000) {
    const messages: Message[] = [];
    for (let i = from; i < Math.min(lines, from + 5_000); i++) {
      const n = 1 + Math.floor(next() * 9);
      let line = '';
      for (let w = 0; w < n; w++) {
        const text = draw();
        truth.set(text, (truth.get(text) ?? 0) + 1);
        line += w === 0 ? text : `${next() < 0.1 ? ',' : ''} ${next() < 0.05 ? text.toUpperCase() : text}`;
      }
      if (next() < 0.3) line += '.';
      words += n;
      messages.push({ key: `line-${i}`, value: line, partition: i % partitions });
    }
    inFlight.push(producer.send({ topic, messages, acks: -1 }));
    if (inFlight.length >= 8) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  return { lines, words, truth, ms: performance.now() - started };
}

export interface CountCheck {
  /** Distinct words in the output. */
  keys: number;
  /** Records read from the output (read_committed). */
  outputs: number;
  /** Words whose last count differs from the truth (missing words included), with a few examples. */
  mismatches: number;
  examples: { word: string; expected: number; got: number | null }[];
}

/**
 * Reads `topic` from the beginning to its end (read_committed) and compares each word's last
 * count (an 8-byte big-endian integer, as Kafka Streams' `Serdes.Long()` and Tributary's
 * `Serdes.int64()` write it) with the truth.
 */
export async function checkCounts(topic: string, truth: ReadonlyMap<string, number>): Promise<CountCheck> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  const groupId = unique('bench-peer-check');
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  const last = new Map<string, number>();
  let outputs = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const left = new Set([...ends].filter(([, end]) => end > 0).map(([partition]) => partition));
    await new Promise<void>((resolve, reject) => {
      if (left.size === 0) return resolve();
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took over 10 minutes`)), 600_000);
      // Emitted after every batch, also one of transaction markers only (which eachBatch never sees); its lastOffset counts them.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (Number(payload.lastOffset) >= ends.get(payload.partition)! - 1) left.delete(payload.partition);
        if (left.size > 0) return;
        clearTimeout(timer);
        resolve();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              last.set(m.key!.toString('utf8'), Number(m.value!.readBigInt64BE(0)));
              outputs++;
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  const examples: CountCheck['examples'] = [];
  let mismatches = 0;
  for (const [word, expected] of truth) {
    const got = last.get(word) ?? null;
    if (got === expected) continue;
    mismatches++;
    if (examples.length < 5) examples.push({ word, expected, got });
  }
  for (const [word, got] of last) {
    if (truth.has(word)) continue;
    mismatches++;
    if (examples.length < 5) examples.push({ word, expected: 0, got });
  }
  return { keys: last.size, outputs, mismatches, examples };
}
