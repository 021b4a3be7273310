/**
 * What the Kafka benchmarks share: topics with unique names, waiting until an output topic holds
 * a number of records, the load process (`bench/lib/load.ts`), and an RSS sampler.
 */
import '../../src/transport/kafkajs-patches.ts'; // before kafkajs: its read_committed filter is fixed there
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Redis } from 'ioredis';
import { createTopicsAndWait } from '../../src/transport/create-topics.ts';
import type { OfferResult, ProduceResult } from './load.ts';

export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').filter((b) => b.length > 0);
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const kafka = new Kafka({ clientId: 'tributary-bench', brokers, logLevel: logLevel.NOTHING });

/** `<prefix>-<random>`: topics, groups and application ids of one run. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The admin side of a benchmark: it remembers what it created and deletes it in `cleanup`. */
export class BenchAdmin {
  private readonly admin: Admin = kafka.admin();
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly redisApps = new Set<string>();

  async connect(): Promise<void> {
    await this.admin.connect();
  }

  async createTopics(names: string[], partitions: number): Promise<void> {
    for (const name of names) this.topics.add(name);
    await createTopicsAndWait(this.admin, names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })));
  }

  /** Topics or groups created by others on our behalf (internal topics, DLQs, consumer groups). */
  forget(what: { topics?: string[]; groups?: string[]; redisApps?: string[] }): void {
    for (const t of what.topics ?? []) this.topics.add(t);
    for (const g of what.groups ?? []) this.groups.add(g);
    for (const a of what.redisApps ?? []) this.redisApps.add(a);
  }

  /** The number of records in a topic (sum of its partitions' end offsets). */
  async count(topic: string): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  }

  /**
   * Polls the topic's end offsets until it holds `n` records; returns when the first record and the
   * n-th were seen (performance.now() times, ±`everyMs`).
   */
  async waitForRecords(topic: string, n: number, options: { timeoutMs?: number; everyMs?: number; failed?: () => Error | undefined } = {}): Promise<{ firstAt: number; doneAt: number }> {
    const deadline = performance.now() + (options.timeoutMs ?? 600_000);
    let firstAt: number | undefined;
    for (;;) {
      const count = await this.count(topic);
      const now = performance.now();
      if (count > 0) firstAt ??= now;
      if (count >= n) return { firstAt: firstAt!, doneAt: now };
      const failure = options.failed?.();
      if (failure) throw failure;
      if (now > deadline) throw new Error(`${topic} holds ${count} of ${n} records after ${options.timeoutMs ?? 600_000} ms`);
      await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 50));
    }
  }

  /** Deletes what this run created: topics, consumer groups and the Redis keys of its applications. */
  async cleanup(): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const topics = [...this.topics].filter((t) => existing.has(t));
    if (topics.length > 0) await this.admin.deleteTopics({ topics }).catch(() => undefined);
    if (this.groups.size > 0) await this.admin.deleteGroups([...this.groups]).catch(() => undefined);
    if (this.redisApps.size > 0) {
      const redis = new Redis(redisUrl, { lazyConnect: true });
      await redis.connect();
      for (const app of this.redisApps) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `trib:{${app}:*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
      await redis.quit();
    }
    await this.admin.disconnect();
  }
}

/** Runs `bench/lib/load.ts` in a child process and returns the JSON it prints. */
function load<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/load.ts', ...args, '--brokers', brokers.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T);
      else reject(new Error(`bench/lib/load.ts ${args[0]} exited with ${code}:\n${err}${out}`));
    });
  });
}

/** Writes `count` records of a kind into a topic from a child process. */
export function produceBacklog(topic: string, count: number, kind: 'click' | 'payment', prefix = 'b'): Promise<ProduceResult> {
  return load<ProduceResult>(['produce', '--topic', topic, '--count', String(count), '--kind', kind, '--prefix', prefix]);
}

/** Offers `rate` records/s for `seconds` from a child process and measures each output's end-to-end latency. */
export function offerLoad(options: { input: string; output: string; rate: number; seconds: number; kind: 'click' | 'payment'; prefix?: string }): Promise<OfferResult> {
  const { input, output, rate, seconds, kind, prefix = 'l' } = options;
  return load<OfferResult>(['offer', '--in', input, '--out', output, '--rate', String(rate), '--seconds', String(seconds), '--kind', kind, '--prefix', prefix]);
}

/** Samples `process.memoryUsage().rss` every `everyMs` with a label from `progress()` (e.g. records processed). */
export class RssSampler {
  readonly samples: { at: number; rss: number; progress: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  start(progress: () => number, everyMs = 100): void {
    const t0 = performance.now();
    const sample = (): void => {
      this.samples.push({ at: performance.now() - t0, rss: process.memoryUsage().rss, progress: progress() });
    };
    sample();
    this.timer = setInterval(sample, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The highest RSS sampled, in bytes. */
  peak(): number {
    return Math.max(0, ...this.samples.map((s) => s.rss));
  }

  /** The RSS of the first sample at or after `progress` (bytes). */
  at(progress: number): number {
    return (this.samples.find((s) => s.progress >= progress) ?? this.samples[this.samples.length - 1])?.rss ?? 0;
  }
}

export const MB = 1024 * 1024;
