import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Ajv, type ValidateFunction } from 'ajv';
import { DriftMonitor, type DriftOptions } from './drift.ts';
import { instrumentsFor, type ModelInstruments } from './metrics.ts';
import type { JsonSchema, TrainingDistributions } from './model-metadata.ts';
import { ModelError, describeError, type Model, type Prediction, type ScoreContext, type ScoreInput, type ScoreOutcome, type ScoreStage } from './model.ts';
import { InlineSessionRunner, type SessionRunner, type SessionSource } from './session-runner.ts';
import {
  NonFiniteFeatureError, assembleBatch, splitOutputs, zeroFeeds,
  type FeatureRow, type OutputRow, type OutputTensors, type PlainTensor, type SessionSignature,
} from './tensor-batch.ts';
import { WorkerPoolRunner } from './worker-pool.ts';

/** Drift monitoring of one numeric input's columns (and of the score) against training histograms. */
export interface MonitorOptions extends DriftOptions {
  training: TrainingDistributions;
  /** Names of the columns of `input`, in order (those without a training histogram are skipped). */
  features: readonly string[];
  /** The input tensor holding the features (default: the model's first input). */
  input?: string;
}

export interface OnnxModelOptions<In, Out> {
  /** The .onnx file; give this or `bytes`. */
  path?: string;
  bytes?: Uint8Array;
  /** Maps one record value to its values per ONNX input name (one row of each batch tensor). */
  inputs: (value: In) => FeatureRow;
  /** Maps one record's slice of every output tensor to the prediction (give this or `outputsAt`). */
  outputs?: (row: OutputRow) => Out;
  /**
   * The hot-path alternative to `outputs`: reads batch row `index` straight from the output
   * tensors, with no per-row slices. It must return a new object for every call: the prediction's
   * `model`, `version` and `latencyMs` are written onto it (declare them in the literal, with any
   * value, and no new properties are added).
   */
  outputsAt?: (tensors: OutputTensors, index: number) => Out;
  /** Defaults to `<name>` of a `…/<name>/<version>/model.onnx` path, else the file name. */
  name?: string;
  /** Defaults to `<version>` of a `…/<name>/<version>/model.onnx` path, else 'unversioned'. */
  version?: string;
  /** JSON Schema each record value must match before it is mapped (stage 'validate'). */
  inputSchema?: JsonSchema;
  /**
   * The model handles NaN as a missing value (default false). Without it a NaN feature fails its
   * record at stage 'validate'; ±Infinity and numbers beyond float32's range always do.
   */
  acceptsMissingValues?: boolean;
  /** Names of the columns of each input (`{ float_input: ['amount', …] }`), so that errors name the feature. */
  columnNames?: Readonly<Record<string, readonly string[]>>;
  /** onnxruntime threads inside one run (default intraOp 1: batches, not ops, are the parallelism). */
  threads?: { intraOp?: number; interOp?: number };
  /** Worker threads holding a session each (default 2); 0 runs the session on the calling thread. */
  workers?: number;
  /** One run of zeros in `ready()`, so the first real batch is not slow (default true when shapes allow). */
  warmup?: boolean;
  /** The number to chart and drift-check from a prediction (default: its numeric `score` field). */
  score?: (output: Out) => number | undefined;
  /** The class of a prediction, counted per label in `tributary_model_predictions_total` (default: its string or numeric `label` field). */
  label?: (output: Out) => string | number | undefined;
  monitor?: MonitorOptions;
}

/** A model backed by an ONNX session. */
export interface OnnxModel<In, Out> extends Model<In, Out> {
  readonly version: string;
  /** The session's inputs and outputs, once `ready()` resolved. */
  readonly signature: SessionSignature | undefined;
}

/**
 * Two, not one: while one worker runs a batch the other takes the next, and a worker held up by its
 * garbage collector or the scheduler does not hold up scoring (bench/predict.ts, the trees at half
 * their peak: p99 2.6–2.8 ms with two workers against 5.5–6.9 ms with one).
 */
const DEFAULT_WORKERS = 2;
const DEFAULT_INTRA_OP_THREADS = 1;

/**
 * " (it is NaN)" when the value a schema error points at is a non-finite number: "must be <= 1"
 * alone would not tell the reader that the feature was NaN, which no bound admits.
 */
function nonFiniteNote(value: unknown, instancePath: string): string {
  let at: unknown = value;
  for (const part of instancePath.split('/').slice(1)) {
    if (typeof at !== 'object' || at === null) return '';
    at = (at as Readonly<Record<string, unknown>>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return typeof at === 'number' && !Number.isFinite(at) ? ` (it is ${at})` : '';
}

function defaultIdentity(path: string | undefined): { name: string; version: string } {
  if (path === undefined) return { name: 'onnx', version: 'unversioned' };
  const versionDir = basename(dirname(path));
  if (basename(path) === 'model.onnx' && /^\d+$/.test(versionDir)) {
    return { name: basename(dirname(dirname(path))), version: versionDir };
  }
  return { name: basename(path).replace(/\.onnx$/, ''), version: 'unversioned' };
}

function defaultLabel(output: unknown): string | number | undefined {
  const label = (output as { label?: unknown } | null)?.label;
  return typeof label === 'string' || typeof label === 'number' ? label : undefined;
}

function defaultScore(output: unknown): number | undefined {
  const score = (output as { score?: unknown } | null)?.score;
  return typeof score === 'number' ? score : undefined;
}

class OnnxSessionModel<In, Out> implements OnnxModel<In, Out> {
  readonly name: string;
  readonly version: string;
  signature: SessionSignature | undefined;
  private runner: SessionRunner | undefined;
  private loading: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private active = 0;
  private idle: (() => void)[] = [];
  private readonly validator: ValidateFunction | undefined;
  private readonly instruments: ModelInstruments;
  private readonly score: (output: Out) => number | undefined;
  private readonly label: (output: Out) => string | number | undefined;
  private monitor: DriftMonitor | undefined;
  private monitorInput: string | undefined;

  constructor(private readonly options: OnnxModelOptions<In, Out>) {
    if ((options.path === undefined) === (options.bytes === undefined)) {
      throw new ModelError('give exactly one of `path` or `bytes`', { model: options.name ?? 'onnx', version: options.version });
    }
    if ((options.outputs === undefined) === (options.outputsAt === undefined)) {
      throw new ModelError('give exactly one of `outputs` or `outputsAt`', { model: options.name ?? 'onnx', version: options.version });
    }
    const identity = defaultIdentity(options.path);
    this.name = options.name ?? identity.name;
    this.version = options.version ?? identity.version;
    this.instruments = instrumentsFor(this.name, this.version);
    this.score = options.score ?? defaultScore;
    this.label = options.label ?? defaultLabel;
    if (options.inputSchema !== undefined) {
      try {
        this.validator = new Ajv({ allErrors: false, strict: false }).compile(options.inputSchema);
      } catch (error) {
        throw this.error(`its input schema does not compile: ${describeError(error)}`, undefined, error);
      }
    }
  }

  ready(): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(this.error('is closed'));
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  async scoreBatch(inputs: readonly ScoreInput<In>[], context?: ScoreContext): Promise<ScoreOutcome<Out>[]> {
    if (inputs.length === 0) return [];
    const started = performance.now();
    this.active++;
    try {
      try {
        await this.ready();
      } catch (error) {
        return this.failAll(inputs.length, 'inference', error);
      }
      return await this.scoreLoaded(inputs, started, context);
    } finally {
      this.active--;
      if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** Waits for the batches in flight, then ends the session (and its workers). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.loading?.catch(() => undefined);
      while (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      await this.runner?.close();
      this.runner = undefined;
    })();
    return this.closing;
  }

  private async load(): Promise<void> {
    const source: SessionSource = {
      path: this.options.path,
      bytes: this.options.bytes,
      threads: { intraOp: this.options.threads?.intraOp ?? DEFAULT_INTRA_OP_THREADS, interOp: this.options.threads?.interOp },
    };
    const workers = this.options.workers ?? DEFAULT_WORKERS;
    const runner = workers > 0 ? new WorkerPoolRunner(source, workers) : new InlineSessionRunner(source);
    try {
      const signature = await runner.load();
      this.checkSignature(signature);
      if (this.options.warmup !== false && zeroFeeds(signature.inputs) !== undefined) {
        await runner.warmup(() => zeroFeeds(signature.inputs)!);
      }
      this.signature = signature;
      this.runner = runner;
      this.monitor = this.createMonitor(signature);
    } catch (error) {
      await runner.close().catch(() => undefined);
      throw error instanceof ModelError ? error : this.error(`cannot be loaded from ${this.options.path ?? 'bytes'}: ${describeError(error)}`, undefined, error);
    }
  }

  private checkSignature(signature: SessionSignature): void {
    const odd = [...signature.inputs, ...signature.outputs].filter((t) => !t.isTensor);
    if (odd.length > 0) {
      throw this.error(`${odd.map((t) => `'${t.name}'`).join(', ')} is not a tensor (a scikit-learn classifier needs to be exported with zipmap off)`);
    }
  }

  private createMonitor(signature: SessionSignature): DriftMonitor | undefined {
    const monitor = this.options.monitor;
    if (monitor === undefined) return undefined;
    const input = signature.inputs.find((i) => i.name === (monitor.input ?? signature.inputs[0]?.name));
    if (input === undefined || (input.type !== 'float32' && input.type !== 'float64')) {
      throw this.error(`drift monitoring needs a float input; '${monitor.input ?? signature.inputs[0]?.name}' is ${input?.type ?? 'missing'}`);
    }
    this.monitorInput = input.name;
    return new DriftMonitor(this.name, this.version, monitor.features, monitor.training, monitor, this.instruments.drift);
  }

  private async scoreLoaded(inputs: readonly ScoreInput<In>[], started: number, context: ScoreContext | undefined): Promise<ScoreOutcome<Out>[]> {
    const outcomes = new Array<ScoreOutcome<Out> | undefined>(inputs.length);
    const rows = new Array<FeatureRow | undefined>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const value = inputs[i]!.value;
      if (this.validator !== undefined && !this.validator(value)) {
        const reason = (this.validator.errors ?? []).map((e) => `${e.instancePath || 'value'} ${e.message ?? 'is invalid'}${nonFiniteNote(value, e.instancePath)}`).join('; ');
        outcomes[i] = this.failure('validate', `record does not match the input schema: ${reason}`);
        continue;
      }
      try {
        rows[i] = this.options.inputs(value);
      } catch (error) {
        outcomes[i] = this.failure('features', `inputs() threw: ${describeError(error)}`, error);
      }
    }

    const batch = assembleBatch(rows, this.signature!.inputs, { acceptsMissingValues: this.options.acceptsMissingValues, columnNames: this.options.columnNames });
    for (const [i, error] of batch.failures) outcomes[i] = this.failure(error instanceof NonFiniteFeatureError ? 'validate' : 'features', error.message, error);

    const n = batch.rows.length;
    if (n > 0) {
      this.observeFeatures(batch.feeds, n);
      const runStarted = performance.now();
      let results: Record<string, PlainTensor> | undefined;
      try {
        results = await this.runner!.run(batch.feeds);
      } catch (error) {
        const failure = this.failure('inference', `inference failed: ${describeError(error)}`, error);
        for (const i of batch.rows) outcomes[i] = failure;
      }
      if (results !== undefined) {
        const now = performance.now();
        this.instruments.batch(n, now - runStarted);
        this.deliver(results, batch.rows, outcomes, now - started, context);
      }
    }
    this.countFailures(outcomes);
    return outcomes as ScoreOutcome<Out>[];
  }

  private deliver(results: Record<string, PlainTensor>, placed: readonly number[], outcomes: (ScoreOutcome<Out> | undefined)[], latencyMs: number, context: ScoreContext | undefined): void {
    const { outputs, outputsAt } = this.options;
    const rows = outputsAt === undefined ? splitOutputs(results, placed.length) : undefined;
    const scores: number[] = [];
    // label counts per batch, run-length first: most consecutive rows share a class, so the usual
    // row costs a comparison, not a Map update (a Map update per row cost ~10 % of the main thread)
    const labels = new Map<string | number, number>();
    let runLabel: string | number | undefined;
    let runLength = 0;
    const model = this.name;
    const version = this.version;
    let scored = 0;
    for (let k = 0; k < placed.length; k++) {
      const i = placed[k]!;
      try {
        let prediction: Prediction<Out>;
        if (rows === undefined) {
          // outputsAt returns a fresh object per row: the meta is written onto it, not copied
          prediction = outputsAt!(results, k) as Prediction<Out>;
          prediction.model = model;
          prediction.version = version;
          prediction.latencyMs = latencyMs;
        } else {
          // Object.assign, not a spread: `{ ...output, model, … }` fell off V8's fast path here (~1.4 µs a row)
          prediction = Object.assign({}, outputs!(rows[k]!), { model, version, latencyMs }) as Prediction<Out>;
        }
        outcomes[i] = { ok: true, prediction };
        scored++;
        const score = this.score(prediction);
        if (score !== undefined && Number.isFinite(score)) {
          scores.push(score);
          this.instruments.score(score);
        }
        const label = this.label(prediction);
        if (label === runLabel) runLength++;
        else {
          if (runLabel !== undefined) labels.set(runLabel, (labels.get(runLabel) ?? 0) + runLength);
          runLabel = label;
          runLength = 1;
        }
      } catch (error) {
        outcomes[i] = this.failure('inference', `${rows === undefined ? 'outputsAt' : 'outputs'}() threw: ${describeError(error)}`, error);
      }
    }
    if (runLabel !== undefined) labels.set(runLabel, (labels.get(runLabel) ?? 0) + runLength);
    this.instruments.scored(scored);
    this.instruments.labels(labels);
    this.monitor?.observeScores(scores, scored, context);
  }

  private observeFeatures(feeds: Record<string, PlainTensor>, rows: number): void {
    if (this.monitor === undefined || this.monitorInput === undefined) return;
    const tensor = feeds[this.monitorInput];
    if (tensor === undefined || Array.isArray(tensor.data) || typeof tensor.data[0] === 'bigint') return;
    this.monitor.observeFeatures(tensor.data as ArrayLike<number>, rows, tensor.data.length / rows);
  }

  private countFailures(outcomes: readonly (ScoreOutcome<Out> | undefined)[]): void {
    const counts: Partial<Record<ScoreStage, number>> = {};
    for (const o of outcomes) if (o !== undefined && !o.ok) counts[o.stage] = (counts[o.stage] ?? 0) + 1;
    for (const [stage, count] of Object.entries(counts) as [ScoreStage, number][]) this.instruments.failed(stage, count);
  }

  private failAll(n: number, stage: ScoreStage, error: unknown): ScoreOutcome<Out>[] {
    const failure = this.failure(stage, describeError(error), error);
    this.instruments.failed(stage, n);
    return Array.from({ length: n }, () => failure);
  }

  private failure(stage: ScoreStage, message: string, cause?: unknown): ScoreOutcome<Out> {
    return { ok: false, stage, error: this.error(message, stage, cause) };
  }

  private error(message: string, stage?: ScoreStage, cause?: unknown): ModelError {
    if (cause instanceof ModelError && stage === undefined) return cause;
    return new ModelError(message, { model: this.name, version: this.version, stage, cause });
  }
}

/**
 * Serves an ONNX model: builds one tensor per input for each batch, runs the session once (in a
 * worker thread by default) and splits the outputs back per record, in order.
 *
 * @example
 * const fraud = onnxModel({
 *   path: 'models/fraud/1/model.onnx',
 *   inputs: (p: Payment) => ({ float_input: [p.amount, p.hour, p.merchantRisk] }),
 *   outputs: (row) => ({ label: Number(row.label[0]), score: Number(row.probabilities[1]) }),
 * });
 */
export function onnxModel<In, Out>(options: OnnxModelOptions<In, Out>): OnnxModel<In, Out> {
  return new OnnxSessionModel(options);
}
