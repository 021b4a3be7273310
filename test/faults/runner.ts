/**
 * Real `tributary run` processes for fault tests: a fixture topology (count-by-key by default) on the real
 * broker, with short group timeouts so that a killed member's partitions move within seconds.
 */
import '../../src/transport/kafkajs-patches.ts'; // before kafkajs: its read_committed filter is fixed there
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { brokers } from '../integration/kafka-helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();
let admin: Admin | undefined;
const readerClient = new Kafka({ clientId: 'fault-readers', brokers, logLevel: logLevel.NOTHING });

/** A runner process: its output so far and its exit code once it exits (`null` when killed by a signal). */
export interface Runner {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Another fixture topology than count-by-key, and the commit interval (default 100 ms). */
export interface RunnerOptions {
  /** A file under test/fixtures/topologies, e.g. `word-count.ts` (reads WORDS_INPUT/WORDS_OUTPUT). */
  fixture?: string;
  commitIntervalMs?: number;
  /** More environment variables for the runner (a fixture's optional topics). */
  env?: Record<string, string>;
}

/** The variables a fixture reads its topic names from. */
const TOPIC_VARIABLES: Record<string, [string, string]> = {
  'count-by-key.ts': ['COUNT_INPUT', 'COUNT_OUTPUT'],
  'word-count.ts': ['WORDS_INPUT', 'WORDS_OUTPUT'],
  'windowed-counts.ts': ['WINDOWED_INPUT', 'WINDOWED_OUTPUT'],
};

/** Starts `tributary run` on a fixture (count-by-key unless `options.fixture`) with its input and output topics and `args` (e.g. --redis, --guarantee). */
export function startRunner(applicationId: string, input: string, output: string, args: string[], options: RunnerOptions = {}): Runner {
  const fixture = options.fixture ?? 'count-by-key.ts';
  const [inputVariable, outputVariable] = TOPIC_VARIABLES[fixture] ?? ['COUNT_INPUT', 'COUNT_OUTPUT'];
  const commitInterval = String(options.commitIntervalMs ?? 100);
  const child = spawn(
    process.execPath,
    ['--conditions=tributary-source', 'bin/tributary.js', 'run', `test/fixtures/topologies/${fixture}`, '--brokers', brokers.join(','), '--application-id', applicationId, '--commit-interval', commitInterval, '--quiet', ...args],
    {
      cwd: root,
      env: { ...process.env, [inputVariable]: input, [outputVariable]: output, TRIBUTARY_SESSION_TIMEOUT_MS: '6000', TRIBUTARY_HEARTBEAT_MS: '500', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => text, exited };
}

/** A connected admin client shared by the fault tests of one file. */
export async function faultAdmin(): Promise<Admin> {
  if (!admin) {
    admin = new Kafka({ clientId: 'fault-tests', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }
  return admin;
}

/** Offsets written to a topic so far, over all partitions (transaction markers included). */
export async function topicEnd(topic: string): Promise<number> {
  const offsets = await (await faultAdmin()).fetchTopicOffsets(topic);
  return offsets.reduce((n, o) => n + Number(o.high), 0);
}

/** A record a read_committed reader saw. */
export interface Committed {
  key: string;
  value: Buffer;
  partition: number;
  offset: number;
}

/**
 * Reads a topic to its current end as a read_committed consumer, in offset order per partition.
 * The last offsets of a transactional topic are markers that are never delivered: a partition is
 * read when kafkajs's batch position passes its end.
 */
export async function readCommitted(topic: string): Promise<Committed[]> {
  const ends = new Map((await (await faultAdmin()).fetchTopicOffsets(topic)).filter((o) => Number(o.high) > 0).map((o) => [o.partition, Number(o.high)]));
  const out: Committed[] = [];
  if (ends.size === 0) return out;
  const consumer = readerClient.consumer({ groupId: `eos-reader-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 100 });
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (Number(payload.lastOffset) + 1 >= (ends.get(payload.partition) ?? 0)) ends.delete(payload.partition);
    if (ends.size === 0) resolve();
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const offset = Number(message.offset);
        if (offset >= (ends.get(batch.partition) ?? Number.POSITIVE_INFINITY)) continue;
        out.push({ key: message.key!.toString(), value: message.value!, partition: batch.partition, offset });
      }
    },
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 60_000));
  try {
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Kills the runners still alive and disconnects the admin client. */
export async function stopRunners(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await admin?.disconnect();
  admin = undefined;
}
