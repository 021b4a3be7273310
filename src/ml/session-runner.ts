import * as ort from 'onnxruntime-node';
import type { PlainTensor, SessionSignature, TensorData, TensorSpec, TensorType } from './tensor-batch.ts';

/** Where a session's model comes from, and how many threads onnxruntime may use inside one run. */
export interface SessionSource {
  path?: string | undefined;
  bytes?: Uint8Array | undefined;
  threads?: { intraOp?: number | undefined; interOp?: number | undefined } | undefined;
}

/** Something that holds an ONNX session and runs batches on it: the main thread or a worker pool. */
export interface SessionRunner {
  load(): Promise<SessionSignature>;
  run(feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor>>;
  /** Runs `feeds()` once on every session the runner holds, so none of them is cold for real traffic. */
  warmup(feeds: () => Record<string, PlainTensor>): Promise<void>;
  close(): Promise<void>;
}

/** onnxruntime session options for a source (shared with the worker script, which mirrors it). */
export function sessionOptions(source: SessionSource): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  if (source.threads?.intraOp !== undefined) options.intraOpNumThreads = source.threads.intraOp;
  if (source.threads?.interOp !== undefined) options.interOpNumThreads = source.threads.interOp;
  return options;
}

function toSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  return meta.isTensor
    ? { name: meta.name, type: meta.type as TensorType, shape: [...meta.shape], isTensor: true }
    : { name: meta.name, type: undefined, shape: undefined, isTensor: false };
}

/** Runs the session on the calling thread: `session.run()` blocks it for the whole run. */
export class InlineSessionRunner implements SessionRunner {
  private session: ort.InferenceSession | undefined;
  /** Runs not finished yet: releasing a session under a run aborts the process in native code. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly source: SessionSource) {}

  async load(): Promise<SessionSignature> {
    const options = sessionOptions(this.source);
    const { path, bytes } = this.source;
    this.session = bytes !== undefined
      ? await ort.InferenceSession.create(bytes, options)
      : await ort.InferenceSession.create(path ?? '', options);
    return { inputs: this.session.inputMetadata.map(toSpec), outputs: this.session.outputMetadata.map(toSpec) };
  }

  async run(feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor>> {
    if (this.session === undefined) throw new Error('session is not loaded');
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      tensors[name] = new ort.Tensor(t.type, t.data as never, t.dims);
    }
    const pending = this.session.run(tensors);
    this.running.add(pending);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await pending;
    } finally {
      this.running.delete(pending);
    }
    const out: Record<string, PlainTensor> = {};
    for (const [name, value] of Object.entries(results)) {
      if (!(value instanceof ort.Tensor)) throw new TypeError(`output '${name}' is not a tensor`);
      out[name] = { type: value.type as TensorType, data: value.data as TensorData, dims: [...value.dims] };
    }
    return out;
  }

  async warmup(feeds: () => Record<string, PlainTensor>): Promise<void> {
    await this.run(feeds());
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    // onnxruntime-node runs a session on its own thread; releasing it meanwhile ends in a native
    // abort ("terminate called after throwing an instance of 'Napi::Error'"): let the runs finish.
    await Promise.allSettled([...this.running]);
    await session?.release();
  }
}
