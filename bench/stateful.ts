/**
 * Stateful throughput: a tumbling-window count by key (10 000 distinct keys, 1-minute windows,
 * in-memory window store) through the TopologyTestDriver, against a plain loop with a `Map` that
 * does the same work on the same pre-serialized records in the same run: decode the key (UTF-8)
 * and value (JSON), find the window, count, and encode each updated count as the engine's sink
 * does (windowed key bytes + int64 value). A third row runs the same topology's task directly
 * (no driver, no in-memory broker, outputs dropped) to show what the driver itself costs.
 *
 *   npx tsx bench/stateful.ts [--records 200000] [--keys 10000] [--rounds 3] [--json bench/results/stateful.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Serdes, StreamsBuilder, TimeWindows, TopologyTestDriver, type Topology } from '../src/index.ts';
import { StreamTask } from '../src/runtime/task.ts';
import { createInMemoryStore } from '../src/state/memory-stores.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    keys: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string', default: 'bench/results/stateful.json' },
  },
});
const RECORDS = Number(args.records);
const KEYS = Number(args.keys);
const ROUNDS = Number(args.rounds);
const WINDOW_MS = 60_000;
/** 100 records per second of event time: each 1-minute window sees 6 000 records. */
const STEP_MS = 10;

interface Input {
  key: Buffer;
  value: Buffer;
  timestamp: number;
}

const inputs: Input[] = Array.from({ length: RECORDS }, (_, i) => ({
  key: Buffer.from(`user-${(i * 7_919) % KEYS}`),
  value: Buffer.from(JSON.stringify({ page: `/p/${i % 97}`, n: i })),
  timestamp: 1_700_000_000_000 + i * STEP_MS,
}));

/** The topology: stream → groupByKey → tumbling 1-minute windows → count → topic. */
function windowedCount(): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream<string, unknown>('page-views', { keySerde: Serdes.string(), valueSerde: Serdes.json() })
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeWithNoGrace(WINDOW_MS))
    .count({ storeName: 'counts' })
    .toStream()
    .to('counts-per-minute');
  return builder.build();
}

/** The engine through the test driver, fed pre-serialized bytes. */
async function runEngine(): Promise<{ seconds: number; outputs: number }> {
  const driver = new TopologyTestDriver(windowedCount(), { applicationId: 'bench' });
  const topic = driver.createInputTopic('page-views', Serdes.bytes(), Serdes.bytes());
  const started = performance.now();
  for (const record of inputs) await topic.pipeInput(record.key, record.value, record.timestamp);
  const seconds = (performance.now() - started) / 1000;
  const outputs = driver.createOutputTopic('counts-per-minute', Serdes.bytes(), Serdes.bytes()).getQueueSize();
  await driver.close();
  return { seconds, outputs };
}

/** The same topology's task driven directly: no driver, no broker, outputs serialized then dropped. */
function runTask(): { seconds: number; outputs: number } {
  const topology = windowedCount();
  let outputs = 0;
  const task = new StreamTask(topology.subTopologies[0]!, 0, {
    applicationId: 'bench', errorHandling: 'fail', clock: () => 0, send: () => { outputs++; }, partitionsFor: () => 1,
    createStore: (spec) => createInMemoryStore(spec), resolveTopic: (topic) => topic,
  }, topology.stores);
  const started = performance.now();
  let offset = 0;
  for (const record of inputs) task.process({ topic: 'page-views', partition: 0, offset: offset++, key: record.key, value: record.value, timestamp: record.timestamp, headers: {} });
  const seconds = (performance.now() - started) / 1000;
  task.close();
  return { seconds, outputs };
}

/** The plain loop: the same decoding, counting and encoding with a `Map` per window start. */
function runPlain(): { seconds: number; outputs: number } {
  const keySerde = Serdes.string();
  const valueSerde = Serdes.json();
  const outKey = Serdes.windowed(Serdes.string());
  const outValue = Serdes.int64();
  const windows = new Map<number, Map<string, number>>();
  const out: (Buffer | null)[] = [];
  const started = performance.now();
  for (const record of inputs) {
    const key = keySerde.deserialize(record.key);
    valueSerde.deserialize(record.value);
    const start = record.timestamp - (record.timestamp % WINDOW_MS);
    let counts = windows.get(start);
    if (!counts) {
      counts = new Map();
      windows.set(start, counts);
      windows.delete(start - 2 * WINDOW_MS);
    }
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    out.push(outKey.serialize({ key, window: { start, end: start + WINDOW_MS } }), outValue.serialize(count));
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, outputs: out.length / 2 };
}

const engine: number[] = [];
const taskOnly: number[] = [];
const plain: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const e = await runEngine();
  const t = runTask();
  const p = runPlain();
  if (e.outputs !== RECORDS || t.outputs !== RECORDS || p.outputs !== RECORDS) throw new Error(`expected ${RECORDS} updates, got engine ${e.outputs}, task ${t.outputs}, plain ${p.outputs}`);
  engine.push(RECORDS / e.seconds);
  taskOnly.push(RECORDS / t.seconds);
  plain.push(RECORDS / p.seconds);
}

const best = (rates: number[]): number => Math.max(...rates);
const engineRate = best(engine);
const taskRate = best(taskOnly);
const plainRate = best(plain);
const ratio = engineRate / plainRate;
const result = {
  benchmark: 'stateful: tumbling-window count by key',
  records: RECORDS,
  keys: KEYS,
  windowMs: WINDOW_MS,
  rounds: ROUNDS,
  engineRecordsPerSec: Math.round(engineRate),
  taskOnlyRecordsPerSec: Math.round(taskRate),
  plainRecordsPerSec: Math.round(plainRate),
  ratio: Number(ratio.toFixed(3)),
  taskOnlyRatio: Number((taskRate / plainRate).toFixed(3)),
  target: 0.4,
  node: process.version,
  date: new Date().toISOString(),
};

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`stateful: tumbling 1-minute count, ${fmt(RECORDS)} records, ${fmt(KEYS)} keys, best of ${ROUNDS}`);
console.log('');
console.log('| side                          | records/s  |');
console.log('| ----------------------------- | ---------- |');
console.log(`| engine (TopologyTestDriver)   | ${fmt(engineRate).padStart(10)} |`);
console.log(`| engine task only (no driver)  | ${fmt(taskRate).padStart(10)} |`);
console.log(`| plain loop (Map)              | ${fmt(plainRate).padStart(10)} |`);
console.log(`| ratio engine / plain          | ${ratio.toFixed(3).padStart(10)} |  (target >= 0.4${ratio >= 0.4 ? ', met' : ', NOT met'})`);
console.log(`| ratio task only / plain       | ${(taskRate / plainRate).toFixed(3).padStart(10)} |`);

mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${args.json}`);
