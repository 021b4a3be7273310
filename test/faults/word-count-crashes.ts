/**
 * The crash workload of issue 12, shared by test/faults/repartition-crashes.test.ts (CI size) and
 * bench/crash-exactness.ts (bigger): word count through a repartition topic, where the splitting
 * task writes words to a repartition topic (and each line to an echo topic) and the counting task
 * counts them. The runner that owns both is SIGKILLed again and again at a random moment after it
 * has written new output (so the splitting task has output not yet committed), with lines still
 * arriving, and restarted each time. The truth is counted here, from the lines as they are produced.
 */
import { Redis } from 'ioredis';
import { closeHelpers, createTopic, produce, redisUrl, resetRedis, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { faultAdmin, readCommitted, startRunner, stopRunners, topicEnd, type Committed, type Runner, type RunnerOptions } from './runner.ts';

/** The size of a crash run. */
export interface CrashWorkload {
  /** SIGKILLs, each at a random moment after the runner wrote new output. */
  kills: number;
  /** Lines produced every 100 ms while the runners are being killed (5 words each). */
  linesPerTick: number;
  /** The kill comes 0 to this many ms after the runner wrote `outputsBeforeKill` new outputs. */
  killWithinMs: number;
  outputsBeforeKill: number;
  partitions: number;
  /** Distinct words. */
  words: number;
  commitIntervalMs: number;
  /**
   * Other runners in the group through the kills (default 0). With some, each kill hits a runner
   * that owns a splitting task (`0_<p>`, upstream of the repartition topic): the newcomer if it
   * got one, else one of the others, whose place it takes; `upstreamKills` says how many kills hit
   * a splitting task's owner.
   */
  stableRunners?: number;
  /** Kill at a random uptime in this range (ms) instead of after new output: during start-up and restore too. */
  killAtUptimeMs?: readonly [number, number];
  /**
   * Exactly-once with the record cache on (the default a user runs): updates are merged per word
   * until a commit, so outputs are checked as strictly increasing and ending at the truth rather
   * than 1..n. Without it exactly-once runs with `--cache-max-entries 0`. At-least-once always
   * runs with the cache.
   */
  recordCache?: boolean;
}

/** The CI size: 8 kills, about 1 500 words a second. */
export const CI_WORKLOAD: CrashWorkload = { kills: 8, linesPerTick: 30, killWithinMs: 2_000, outputsBeforeKill: 200, partitions: 4, words: 300, commitIntervalMs: 1_000 };

const WORDS_PER_LINE = 5;
const appIds: string[] = [];

/** Stops what the runs left running and deletes their Redis keys. */
export async function cleanUpCrashRuns(): Promise<void> {
  await stopRunners();
  await Promise.allSettled(appIds.map((id) => resetRedis(id)));
  await closeHelpers();
}

/** Produces lines on a timer and counts their words: the truth the runners must end up with. */
export class LineFeeder {
  readonly truth = new Map<string, number>();
  private next = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly topic: string,
    private readonly workload: CrashWorkload,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await produce(this.topic, this.lines(this.workload.linesPerTick));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  get produced(): number {
    return this.next;
  }

  private lines(count: number): Array<{ key: string; value: string }> {
    const lines = [];
    for (let n = 0; n < count; n++, this.next++) {
      const words = [];
      for (let j = 0; j < WORDS_PER_LINE; j++) {
        const word = `w${(this.next * 7 + j * 61 + ((this.next >> 3) % 13)) % this.workload.words}`;
        words.push(word);
        this.truth.set(word, (this.truth.get(word) ?? 0) + 1);
      }
      lines.push({ key: `line-${this.next}`, value: words.join(' ') });
    }
    return lines;
  }
}


/** The counts the counting tasks keep in Redis (`trib:{<app>:1_<p>}:kv:word-counts`), decoded. */
export async function redisCounts(applicationId: string, partitions: number, url = redisUrl): Promise<Map<string, number>> {
  const redis = new Redis(url);
  try {
    const counts = new Map<string, number>();
    for (let p = 0; p < partitions; p++) {
      const entries = await redis.hgetallBuffer(`trib:{${applicationId}:1_${p}}:kv:word-counts`);
      for (const [field, value] of Object.entries(entries)) counts.set(decodeTagged(field), decodeCount(value.toString('utf8')));
    }
    return counts;
  } finally {
    redis.disconnect();
  }
}

/** A stored key (`S<utf8>` with the serde, `s<text>` without). */
function decodeTagged(field: string): string {
  return field.slice(1);
}

/** A stored count: optionally `T<timestamp>:`, then `b<base64 int64>`, `S<utf8 int64 bytes>` or `J<number>`. */
function decodeCount(text: string): number {
  const plain = text.startsWith('T') ? text.slice(text.indexOf(':') + 1) : text;
  const payload = plain.slice(1);
  if (plain[0] === 'J') return Number(JSON.parse(payload));
  const bytes = Buffer.from(payload, plain[0] === 'b' ? 'base64' : 'utf8');
  return Number(bytes.readBigInt64BE());
}

/** Progress on stderr with TRIBUTARY_TRACE_FAULTS=1. */
function trace(message: string): void {
  if (process.env.TRIBUTARY_TRACE_FAULTS === '1') process.stderr.write(`[repartition-crashes] ${new Date().toISOString()} ${message}\n`);
}

/** Kills runners one after another at a random moment after each wrote new output; returns the runners. */
async function killRepeatedly(id: string, input: string, output: string, args: string[], options: RunnerOptions, workload: CrashWorkload, stable: Runner[] = []): Promise<{ runners: Runner[]; upstreamKills: number }> {
  const runners: Runner[] = [];
  let upstreamKills = 0;
  for (let kill = 0; kill < workload.kills; kill++) {
    const before = await topicEnd(output);
    const runner = startRunner(id, input, output, args, options);
    runners.push(runner);
    if (workload.killAtUptimeMs) {
      const [min, max] = workload.killAtUptimeMs;
      await new Promise((resolve) => setTimeout(resolve, min + Math.floor(Math.random() * (max - min))));
      runner.child.kill('SIGKILL');
      const code = await runner.exited;
      if (code !== null) throw new Error(`runner ${kill + 1} exited with ${code} before it was killed:\n${runner.output()}`);
      trace(`kill ${kill + 1} at ${await topicEnd(output)} outputs (uptime kill)`);
      continue;
    }
    const ownsSplitting = (r: Runner): boolean => /^tasks: .*\b0_\d/.test(lastTasksLine(r.output()));
    let victim = runner;
    if (stable.length > 0) {
      // The assignor need not give the newcomer a splitting task (a sticky one rarely does on a
      // loaded machine): once the group has settled, the victim is the newcomer if it owns one,
      // else a runner that does, whose place the newcomer takes. After 30 s without any owner
      // seen, the newcomer is killed anyway (and not counted).
      await waitUntil(`a runner to own a splitting task (kill ${kill + 1})`, () => /^tasks: /m.test(runner.output()) && [runner, ...stable].some(ownsSplitting), 30_000, 100).catch(() =>
        trace(`kill ${kill + 1}: no runner seen owning a splitting task`),
      );
      const owner = stable.findIndex(ownsSplitting);
      if (!ownsSplitting(runner) && owner >= 0) {
        victim = stable[owner]!;
        stable[owner] = runner;
        runners[runners.length - 1] = victim;
      }
    }
    await waitUntil(`runner ${kill + 1} to write output`, async () => (await topicEnd(output)) > before + workload.outputsBeforeKill, 90_000, 100);
    // Anywhere within two commit intervals: before, during or after a commit.
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * workload.killWithinMs)));
    if (ownsSplitting(victim)) upstreamKills++;
    victim.child.kill('SIGKILL');
    const code = await victim.exited;
    if (code !== null) throw new Error(`runner ${kill + 1} exited with ${code} before it was killed:\n${victim.output()}`);
    trace(`kill ${kill + 1} at ${await topicEnd(output)} outputs`);
  }
  return { runners, upstreamKills };
}

/** The runner's latest `tasks: ...` line ('' before it has one). */
function lastTasksLine(output: string): string {
  return output.match(/^tasks: .*$/gm)?.at(-1) ?? '';
}

/** The output records per word, in offset order (one word is always on one partition). */
export function outputsByWord(messages: Committed[]): Map<string, number[]> {
  const byWord = new Map<string, number[]>();
  for (const { key, value } of messages) byWord.set(key, [...(byWord.get(key) ?? []), Number(value.readBigInt64BE())]);
  return byWord;
}

export interface CrashRun {
  truth: Map<string, number>;
  /** How many lines were produced. */
  lines: number;
  outputs: Map<string, number[]>;
  redis: Map<string, number>;
  /** How many times each line's key is in the echo topic (written by the splitting task). */
  echoed: Map<string, number>;
  /** Kills of a runner that owned a splitting task at that moment. */
  upstreamKills: number;
  /** Records purged from the repartition topic (the sum of its partitions' first offsets) at the end. */
  purged: number;
  seconds: number;
}

/** Word count on a real broker and Redis, the runner killed again and again with input arriving, then a last runner to the end. */
export async function runCrashes(guarantee: 'at-least-once' | 'exactly-once', workload: CrashWorkload = CI_WORKLOAD): Promise<CrashRun> {
  const PARTITIONS = workload.partitions;
  const input = unique('rp-lines');
  const output = unique('rp-counts');
  const echo = unique('rp-echo');
  const id = unique(`rp-${guarantee}`);
  appIds.push(id);
  await Promise.all([createTopic(input, PARTITIONS), createTopic(output, PARTITIONS), createTopic(echo, PARTITIONS)]);
  // Exactly-once is checked update by update (1..n per word) without the record cache, which
  // merges updates; with it (`recordCache`), as strictly increasing. At-least-once runs with it, as
  // users do, and is checked on the last values.
  const uncached = guarantee === 'exactly-once' && workload.recordCache !== true;
  const args = ['--redis', redisUrl, '--guarantee', guarantee, '--create-topics', ...(uncached ? ['--cache-max-entries', '0'] : [])];
  // Committed records are purged from the repartition topic every 300 ms, so kills also land around purges.
  const options: RunnerOptions = { fixture: 'word-count.ts', commitIntervalMs: workload.commitIntervalMs, env: { WORDS_ECHO: echo, TRIBUTARY_REPARTITION_PURGE_INTERVAL_MS: '300' } };
  const feeder = new LineFeeder(input, workload);
  feeder.start();
  const started = Date.now();
  const stable = Array.from({ length: workload.stableRunners ?? 0 }, () => startRunner(id, input, output, args, options));
  const { runners: killed, upstreamKills } = await killRepeatedly(id, input, output, args, options, workload, stable);
  await feeder.stop();
  const last = startRunner(id, input, output, args, options);
  const truth = feeder.truth;
  const reached = (counts: Map<string, number>): boolean => [...truth].every(([word, count]) => (counts.get(word) ?? 0) >= count);
  let outputs = new Map<string, number[]>();
  let redis = new Map<string, number>();
  try {
    await waitUntil('the last runner to run tasks', () => /^tasks: /m.test(last.output()), 90_000, 100);
    // Until every word's output and its state in Redis reach the truth; a double count overshoots
    // and is seen below, a lost record never reaches it.
    await waitUntil(
      'every word at its true count in the output and in Redis',
      async () => {
        outputs = outputsByWord(await readCommitted(output));
        redis = await redisCounts(id, PARTITIONS);
        const latest = new Map([...outputs].map(([word, counts]) => [word, counts.at(-1)!]));
        trace(`last runner: ${differences(truth, latest).length} outputs and ${differences(truth, redis).length} stored counts differ, e.g. ${differences(truth, latest).slice(0, 3).join(', ')}`);
        return reached(latest) && reached(redis);
      },
      120_000,
      1_000,
    );
    // Caught up means lag 0: the group's committed offsets reach the end of the input and of the
    // repartition topic, transaction markers included (exactly-once writes one after each commit).
    await waitUntil('the committed offsets to reach the end of every partition read', async () => (await uncommitted(id, input)).length === 0, 30_000, 500).catch(
      async (error: unknown) => {
        throw new Error(`${(error as Error).message}: ${(await uncommitted(id, input)).join(', ')}`);
      },
    );
    for (const runner of [...stable, last]) runner.child.kill('SIGTERM');
    for (const runner of [...stable, last]) {
      const code = await runner.exited;
      if (code !== 0) throw new Error(`a runner exited with ${code} after SIGTERM`);
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${[...stable, ...killed, last].map((r) => r.output()).join('\n---\n')}`);
  }
  const echoed = new Map<string, number>();
  for (const { key } of await readCommitted(echo)) echoed.set(key, (echoed.get(key) ?? 0) + 1);
  const admin = await faultAdmin();
  const repartition = (await admin.listTopics()).find((t) => t.startsWith(`${id}-`) && t.endsWith('-repartition'));
  if (!repartition) throw new Error(`no repartition topic of ${id}`);
  const purged = (await admin.fetchTopicOffsets(repartition)).reduce((sum, { low }) => sum + Number(low), 0);
  trace(`${feeder.produced} lines, ${workload.kills} kills, ${purged} repartition records purged`);
  return { truth, lines: feeder.produced, outputs, redis, echoed, upstreamKills, purged, seconds: (Date.now() - started) / 1000 };
}

/** Words whose count differs from the truth, as `word: got/expected`. */
/** Outputs of each word that are not above the one before (a repeated or stale update), as `word: a→b`. */
export function notIncreasing(outputs: Map<string, number[]>): string[] {
  const found: string[] = [];
  for (const [word, counts] of outputs) for (let i = 1; i < counts.length; i++) if (counts[i]! <= counts[i - 1]!) found.push(`${word}: ${counts[i - 1]}→${counts[i]}`);
  return found;
}

export function differences(truth: Map<string, number>, counts: Map<string, number>): string[] {
  return [...truth].filter(([word, count]) => counts.get(word) !== count).map(([word, count]) => `${word}: ${counts.get(word)}/${count}`);
}

/** The partitions of the input and repartition topics whose committed offset is short of their end, as `topic:partition committed/end`. */
async function uncommitted(applicationId: string, input: string): Promise<string[]> {
  const admin = await faultAdmin();
  const topics = [input, ...(await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`) && t.endsWith('-repartition'))];
  const behind: string[] = [];
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId: applicationId, topics })) {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
    for (const { partition, offset } of partitions) {
      const end = ends.get(partition) ?? 0;
      if (Number(offset) < end) behind.push(`${topic}:${partition} ${offset}/${end}`);
    }
  }
  return behind;
}
