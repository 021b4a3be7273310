/**
 * Raw ONNX throughput: `session.run` on the main thread against the same runs through the
 * worker pool of src/ml (batch tensors transferred to a worker and results transferred back),
 * at batch sizes 1, 32 and 256. Also reports how busy the main thread's event loop was (ELU):
 * the point of the workers is to keep it free for consuming, decoding and committing.
 *
 *   npx tsx bench/onnx-raw.ts [--model models/fraud/1/model.onnx] [--seconds 1] [--intra-op 1] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { PlainTensor } from '../src/ml/tensor-batch.ts';
import { WorkerPoolRunner } from '../src/ml/worker-pool.ts';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/fraud/1/model.onnx' },
    seconds: { type: 'string', default: '1' },
    'intra-op': { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const intraOp = Number(args['intra-op']);
const BATCHES = [1, 32, 256];

interface Row {
  mode: string;
  batch: number;
  inFlight: number;
  rowsPerSec: number;
  batchesPerSec: number;
  usPerBatch: number;
  mainThreadElu: number;
}

const probe = await ort.InferenceSession.create(args.model, { intraOpNumThreads: intraOp });
const input = probe.inputMetadata[0]!;
const width = input.isTensor && typeof input.shape[1] === 'number' ? input.shape[1] : 1;
await probe.release();

function feeds(batch: number): Record<string, PlainTensor> {
  const data = new Float32Array(batch * width);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 100 / 10;
  return { [input.name]: { type: 'float32', data, dims: [batch, width] } };
}

/** Runs `once` with `inFlight` calls outstanding until `seconds` have passed. */
async function measure(mode: string, batch: number, inFlight: number, once: () => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < 20; i++) await once();
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let batches = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await once();
        batches++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    mode,
    batch,
    inFlight,
    rowsPerSec: (batches * batch) / elapsed,
    batchesPerSec: batches / elapsed,
    usPerBatch: (elapsed * 1e6) / batches,
    mainThreadElu: performance.eventLoopUtilization(elu).utilization,
  };
}

const rows: Row[] = [];
const session = await ort.InferenceSession.create(args.model, { intraOpNumThreads: intraOp });
for (const batch of BATCHES) {
  const template = feeds(batch)[input.name]!;
  rows.push(await measure('main thread', batch, 1, () => session.run({ [input.name]: new ort.Tensor('float32', (template.data as Float32Array).slice(), template.dims) })));
}
await session.release();

for (const workers of [1, 2]) {
  const pool = new WorkerPoolRunner({ path: args.model, threads: { intraOp } }, workers);
  await pool.load();
  for (const batch of BATCHES) {
    for (const inFlight of workers === 1 ? [1, 4] : [4]) {
      rows.push(await measure(`worker pool (${workers})`, batch, inFlight, () => pool.run(feeds(batch))));
    }
  }
  await pool.close();
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const table = [
  ['mode', 'batch', 'in flight', 'rows/s', 'µs/batch', 'main-thread ELU'],
  ...rows.map((r) => [r.mode, String(r.batch), String(r.inFlight), fmt(r.rowsPerSec), fmt(r.usPerBatch, 1), `${fmt(r.mainThreadElu * 100)} %`]),
];
const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
console.log(`model ${args.model} (${width} features), intraOp threads ${intraOp}, ${seconds} s per cell\n`);
for (const [i, row] of table.entries()) {
  console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
if (args.json !== undefined) {
  writeFileSync(args.json, JSON.stringify({ bench: 'onnx-raw', model: args.model, intraOp, seconds, rows }, null, 2));
}
