/**
 * Repeated crashes of the process that owns a task upstream of a repartition topic, with input
 * still arriving (issue 12): word count, where the splitting task writes words to a repartition
 * topic and the counting task counts them. The runner is SIGKILLed again and again at a random
 * moment after it has written new output (so the splitting task has output not yet committed),
 * and restarted each time. The truth is counted here, from the lines as they are produced.
 *
 * A replayed splitting task writes its words to the repartition topic again; without the
 * positions those records carry, the counting task would count them twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { closeHelpers, createTopic, produce, redisUrl, resetRedis, unique, waitUntil } from '../integration/kafka-helpers.ts';
import { readCommitted, startRunner, stopRunners, topicEnd, type Committed, type Runner } from './runner.ts';

const appIds: string[] = [];
const PARTITIONS = 4;
const WORDS = 300;
const WORDS_PER_LINE = 5;
/** Lines produced every 100 ms while the runners are being killed (about 1 500 words a second). */
const LINES_PER_TICK = 30;
const KILLS = 8;

afterAll(async () => {
  await stopRunners();
  await Promise.allSettled(appIds.map((id) => resetRedis(id)));
  await closeHelpers();
});

/** Produces lines on a timer and counts their words: the truth the runners must end up with. */
class LineFeeder {
  readonly truth = new Map<string, number>();
  private next = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly topic: string) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await produce(this.topic, this.lines(LINES_PER_TICK));
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
        const word = `w${(this.next * 7 + j * 61 + ((this.next >> 3) % 13)) % WORDS}`;
        words.push(word);
        this.truth.set(word, (this.truth.get(word) ?? 0) + 1);
      }
      lines.push({ key: `line-${this.next}`, value: words.join(' ') });
    }
    return lines;
  }
}


/** The counts the counting tasks keep in Redis (`trib:{<app>:1_<p>}:kv:word-counts`), decoded. */
async function redisCounts(applicationId: string): Promise<Map<string, number>> {
  const redis = new Redis(redisUrl);
  try {
    const counts = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
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
async function killRepeatedly(id: string, input: string, output: string, args: string[]): Promise<Runner[]> {
  const runners: Runner[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    const before = await topicEnd(output);
    const runner = startRunner(id, input, output, args, { fixture: 'word-count.ts', commitIntervalMs: 1_000 });
    runners.push(runner);
    await waitUntil(`runner ${kill + 1} to write output`, async () => (await topicEnd(output)) > before + 200, 90_000, 100);
    // Anywhere within two commit intervals: before, during or after a commit.
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 2_000)));
    runner.child.kill('SIGKILL');
    expect(await runner.exited).toBe(null);
    trace(`kill ${kill + 1} at ${await topicEnd(output)} outputs`);
  }
  return runners;
}

/** The output records per word, in offset order (one word is always on one partition). */
function outputsByWord(messages: Committed[]): Map<string, number[]> {
  const byWord = new Map<string, number[]>();
  for (const { key, value } of messages) byWord.set(key, [...(byWord.get(key) ?? []), Number(value.readBigInt64BE())]);
  return byWord;
}

async function runCrashes(guarantee: 'at-least-once' | 'exactly-once'): Promise<{ truth: Map<string, number>; outputs: Map<string, number[]>; redis: Map<string, number> }> {
  const input = unique('rp-lines');
  const output = unique('rp-counts');
  const id = unique(`rp-${guarantee}`);
  appIds.push(id);
  await createTopic(input, PARTITIONS);
  await createTopic(output, PARTITIONS);
  const args = ['--redis', redisUrl, '--guarantee', guarantee, '--create-topics'];
  const feeder = new LineFeeder(input);
  feeder.start();
  const killed = await killRepeatedly(id, input, output, args);
  await feeder.stop();
  const last = startRunner(id, input, output, args, { fixture: 'word-count.ts', commitIntervalMs: 1_000 });
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
        redis = await redisCounts(id);
        const latest = new Map([...outputs].map(([word, counts]) => [word, counts.at(-1)!]));
        trace(`last runner: ${differences(truth, latest).length} outputs and ${differences(truth, redis).length} stored counts differ, e.g. ${differences(truth, latest).slice(0, 3).join(', ')}`);
        return reached(latest) && reached(redis);
      },
      120_000,
      1_000,
    );
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${[...killed, last].map((r) => r.output()).join('\n---\n')}`);
  }
  trace(`${feeder.produced} lines, ${KILLS} kills`);
  return { truth, outputs, redis };
}

/** Words whose count differs from the truth, as `word: got/expected`. */
function differences(truth: Map<string, number>, counts: Map<string, number>): string[] {
  return [...truth].filter(([word, count]) => counts.get(word) !== count).map(([word, count]) => `${word}: ${counts.get(word)}/${count}`);
}

describe('repeated crashes of a repartitioned topology', () => {
  it(`at-least-once: ${KILLS} SIGKILLs with input arriving, and state and every word's last count are exact`, async () => {
    const { truth, outputs, redis } = await runCrashes('at-least-once');
    const last = new Map([...outputs].map(([word, counts]) => [word, counts.at(-1)!]));
    expect(differences(truth, last)).toEqual([]);
    expect(differences(truth, redis)).toEqual([]);
    // Outputs may repeat under at-least-once, but never with a count above the truth.
    for (const [word, counts] of outputs) expect(Math.max(...counts), word).toBe(truth.get(word));
  }, 300_000);

  it(`exactly-once: ${KILLS} SIGKILLs with input arriving, and every word's committed outputs are exactly 1..n`, async () => {
    const { truth, outputs, redis } = await runCrashes('exactly-once');
    expect(differences(truth, redis)).toEqual([]);
    const wrong = [...truth].filter(([word, count]) => {
      const counts = outputs.get(word) ?? [];
      return counts.length !== count || counts.some((c, i) => c !== i + 1);
    });
    expect(wrong.map(([word, count]) => `${word}: ${outputs.get(word)?.length ?? 0} outputs for ${count}`)).toEqual([]);
  }, 300_000);
});
