// One ONNX session on a worker thread, so that onnxruntime's blocking create() and run() never
// stall the stream's thread. Plain JavaScript on purpose: TypeScript loaders do not apply inside
// workers. The protocol (see worker-pool.ts):
//   in:  { id, op: 'load', source: { path?, bytes?, threads? } } | { id, op: 'run', feeds } | { id, op: 'release' }
//   out: { id, ok: true, result } | { id, ok: false, error: { name, message, stack } }
// Tensors travel as { type, data, dims }; output buffers are transferred back, not copied.
import { parentPort } from 'node:worker_threads';
import * as ortModule from 'onnxruntime-node';

const ort = ortModule.InferenceSession ? ortModule : ortModule.default;
let session;

function sessionOptions(source) {
  const options = { graphOptimizationLevel: 'all' };
  if (source.threads?.intraOp !== undefined) options.intraOpNumThreads = source.threads.intraOp;
  if (source.threads?.interOp !== undefined) options.interOpNumThreads = source.threads.interOp;
  return options;
}

function spec(meta) {
  return meta.isTensor
    ? { name: meta.name, type: meta.type, shape: [...meta.shape], isTensor: true }
    : { name: meta.name, type: undefined, shape: undefined, isTensor: false };
}

async function load(source) {
  const options = sessionOptions(source);
  session = source.bytes !== undefined
    ? await ort.InferenceSession.create(source.bytes, options)
    : await ort.InferenceSession.create(source.path, options);
  return { inputs: session.inputMetadata.map(spec), outputs: session.outputMetadata.map(spec) };
}

async function run(feeds) {
  if (session === undefined) throw new Error('session is not loaded');
  const tensors = {};
  for (const [name, t] of Object.entries(feeds)) tensors[name] = new ort.Tensor(t.type, t.data, t.dims);
  const results = await session.run(tensors);
  const out = {};
  for (const [name, value] of Object.entries(results)) {
    if (!(value instanceof ort.Tensor)) throw new TypeError(`output '${name}' is not a tensor`);
    out[name] = { type: value.type, data: value.data, dims: [...value.dims] };
  }
  return out;
}

function buffersOf(tensors) {
  const buffers = new Set();
  for (const t of Object.values(tensors)) {
    if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
  }
  return [...buffers];
}

function reply(id, result, transfer = []) {
  try {
    parentPort.postMessage({ id, ok: true, result }, transfer);
  } catch {
    // a buffer onnxruntime does not let go of (external memory) is copied instead
    parentPort.postMessage({ id, ok: true, result });
  }
}

// Runs not finished yet: releasing the session under one aborts the process in native code.
const running = new Set();

parentPort.on('message', async (message) => {
  const { id, op } = message;
  try {
    if (op === 'load') reply(id, await load(message.source));
    else if (op === 'run') {
      const pending = run(message.feeds);
      running.add(pending);
      let outputs;
      try {
        outputs = await pending;
      } finally {
        running.delete(pending);
      }
      reply(id, outputs, buffersOf(outputs));
    }
    else if (op === 'release') {
      await Promise.allSettled([...running]);
      await session?.release();
      session = undefined;
      reply(id, null);
    } else throw new Error(`unknown op '${op}'`);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    parentPort.postMessage({ id, ok: false, error: { name: e.name, message: e.message, stack: e.stack } });
  }
});
