/**
 * Redis commit throughput: how many key-value changes per second `TaskStateBackend.commit` writes
 * (encoding, the epoch-checked Lua script, the checkpoint), in batches of 1 000 and 10 000
 * changes, for aggregate objects without a serde and for a DSL count store (timestamped, int64
 * serde). The limit it is compared to is measured in the same run, over pre-encoded text values of
 * the same size: a raw ioredis pipeline of one HSET per change (what DESIGN.md's ~1.6 M pipelined
 * ops/s measures), and the same fields written by multi-field HSETs of 1 000 fields each (the
 * writes a commit makes, without the script and its epoch check). "of limit" divides by the
 * faster of the two.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/redis-commit.ts [--changes 200000] [--rounds 3] [--json bench/results/redis-commit.json]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Serdes } from '../src/serdes/index.ts';
import { InMemoryKeyValueStore } from '../src/state/memory-kv.ts';
import { RedisStateBackend } from '../src/state/redis-backend.ts';
import type { StoreSpec } from '../src/state/store.ts';

const { values: args } = parseArgs({
  options: {
    changes: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string', default: 'bench/results/redis-commit.json' },
  },
});
const CHANGES = Number(args.changes);
const ROUNDS = Number(args.rounds);
const BATCHES = [1_000, 10_000];
const KEYS = 100_000;
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const APPLICATION = `bench-redis-commit-${randomBytes(4).toString('hex')}`;

interface Case {
  name: string;
  spec: StoreSpec;
  value: (i: number) => unknown;
}

const cases: Case[] = [
  { name: 'commit: objects, no serde', spec: { name: 'agg', type: 'key-value' }, value: (i) => ({ sum: i * 3, count: i, last: 'page-7' }) },
  {
    name: 'commit: DSL count (timestamped int64)',
    spec: { name: 'count', type: 'key-value', timestamped: true, keySerde: Serdes.string() as never, valueSerde: Serdes.int64() as never },
    value: (i) => ({ value: i, timestamp: 1_700_000_000_000 + i }),
  },
];

/** Changes per second of `commit` for one case and batch size (the puts themselves are not timed). */
async function commitRate(backend: RedisStateBackend, c: Case, batch: number, round: number): Promise<number> {
  const store = new InMemoryKeyValueStore<string, unknown>(c.spec.name);
  const task = backend.forTask(`0_${round}`, new Map([[store.name, store]]), new Map([[c.spec.name, c.spec]]));
  await task.open();
  let seconds = 0;
  for (let done = 0; done < CHANGES; done += batch) {
    for (let i = done; i < done + batch; i++) store.put(`user-${(i * 7_919) % KEYS}`, c.value(i));
    const started = performance.now();
    await task.commit(new Map([['input:0', done + batch]]));
    seconds += (performance.now() - started) / 1000;
  }
  return CHANGES / seconds;
}

/** Fields written per second by a raw pipeline (one exec per batch) of HSETs of `fieldsPerCommand` fields each. */
async function pipelineRate(redis: Redis, batch: number, fieldsPerCommand: number, valueBytes: number): Promise<number> {
  const hash = `trib:{${APPLICATION}:raw}:kv:raw`;
  const value = 'J'.padEnd(valueBytes, 'a');
  const fields = Array.from({ length: KEYS }, (_, i) => `suser-${i}`);
  let seconds = 0;
  for (let done = 0; done < CHANGES; done += batch) {
    const started = performance.now();
    const pipeline = redis.pipeline();
    for (let i = done; i < done + batch; i += fieldsPerCommand) {
      const pairs: string[] = [];
      for (let j = i; j < Math.min(i + fieldsPerCommand, done + batch); j++) pairs.push(fields[(j * 7_919) % KEYS]!, value);
      pipeline.hset(hash, ...pairs);
    }
    await pipeline.exec();
    seconds += (performance.now() - started) / 1000;
  }
  return CHANGES / seconds;
}

const backend = new RedisStateBackend(URL, APPLICATION);
await backend.connect();
const redis = new Redis(URL);
const valueBytes = JSON.stringify(cases[0]!.value(CHANGES)).length + 1;

interface Row {
  name: string;
  batch: number;
  changesPerSec: number;
}
const rows: Row[] = [];
const best = async (measure: (round: number) => Promise<number>): Promise<number> => {
  let top = 0;
  for (let round = 0; round < ROUNDS; round++) top = Math.max(top, await measure(round));
  return top;
};
try {
  for (const batch of BATCHES) {
    rows.push({ name: 'raw pipeline, one HSET per change', batch, changesPerSec: await best(() => pipelineRate(redis, batch, 1, valueBytes)) });
    rows.push({ name: 'raw pipeline, HSETs of 1000 fields', batch, changesPerSec: await best(() => pipelineRate(redis, batch, 1000, valueBytes)) });
    for (const c of cases) rows.push({ name: c.name, batch, changesPerSec: await best((round) => commitRate(backend, c, batch, round)) });
  }
} finally {
  await RedisStateBackend.reset(URL, APPLICATION);
  await backend.close();
  await redis.quit();
}

const limitOf = (batch: number): number => Math.max(...rows.filter((r) => r.batch === batch && r.name.startsWith('raw')).map((r) => r.changesPerSec));
const table = rows.map((r) => ({ ...r, changesPerSec: Math.round(r.changesPerSec), ofLimit: Number((r.changesPerSec / limitOf(r.batch)).toFixed(2)) }));
const width = Math.max(...table.map((r) => r.name.length));
console.log(`Redis commit throughput (${CHANGES} changes per case, best of ${ROUNDS}, ${URL})\n`);
console.log(`${'case'.padEnd(width)}  ${'batch'.padStart(6)}  ${'changes/s'.padStart(10)}  ${'of limit'.padStart(8)}`);
for (const r of table) {
  console.log(`${r.name.padEnd(width)}  ${String(r.batch).padStart(6)}  ${r.changesPerSec.toLocaleString('en-US').padStart(10)}  ${r.ofLimit.toFixed(2).padStart(8)}`);
}
console.log('\nDESIGN.md: pipelined Redis ~1.6 M ops/s');

const result = {
  benchmark: 'redis-commit: key-value changes per second through TaskStateBackend.commit',
  changes: CHANGES,
  rounds: ROUNDS,
  keys: KEYS,
  designLimitOpsPerSec: 1_600_000,
  rows: table,
  node: process.version,
  date: new Date().toISOString(),
};
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${args.json}`);
