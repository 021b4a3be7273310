import type { ModelRecord } from './model-records.ts';

/** Who produced a prediction, so every result can be audited. */
export interface PredictionMeta {
  model: string;
  version: string;
  /** Wall time of the batch the record was scored in, from submission to outputs, in ms. */
  latencyMs: number;
}

/** A model's output for one record, with its provenance. */
export type Prediction<Out> = Out & PredictionMeta;

/** One record handed to a model: the key routes A/B traffic stably, the value is scored. */
export interface ScoreInput<In> {
  key: unknown;
  value: In;
  /** The record's timestamp, when it comes from a stream (the time shadow comparison records carry). */
  timestamp?: number;
}

/** Where scoring a record failed: its schema, its feature mapping, or the model run itself. */
export type ScoreStage = 'validate' | 'features' | 'inference';

/** The result of scoring one record: a prediction, or the reason it has none. */
export type ScoreOutcome<Out> =
  | { ok: true; prediction: Prediction<Out> }
  | { ok: false; error: Error; stage: ScoreStage };

/**
 * What the application running a model offers it while a batch is scored: the way to write the
 * records it asks for (drift alerts, shadow comparisons), so that each goes out once, through the
 * application whose records triggered it — not through every application in the process.
 */
export interface ScoreContext {
  emitRecord(record: ModelRecord): void;
}

/** A model the predict operator can call: scores one batch, one outcome per input, in input order. */
export interface Model<In, Out> {
  readonly name: string;
  /** Resolves one outcome per input in input order; per-record problems are outcomes, never rejections. */
  scoreBatch(inputs: readonly ScoreInput<In>[], context?: ScoreContext): Promise<ScoreOutcome<Out>[]>;
  /** Loads/warms up (idempotent); called by the runtime before the first batch. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The input type a model accepts. */
export type ModelInput<M> = M extends Model<infer In, unknown> ? In : never;
/** The output type a model produces (without its `PredictionMeta`). */
export type ModelOutput<M> = M extends Model<never, infer Out> ? Out : never;

export interface ModelErrorOptions {
  model: string;
  version?: string | undefined;
  stage?: ScoreStage | undefined;
  cause?: unknown;
}

/** A model could not be loaded, validated or run; names the model and version involved. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly model: string;
  readonly version: string | undefined;
  readonly stage: ScoreStage | undefined;

  constructor(message: string, options: ModelErrorOptions) {
    const where = options.version === undefined ? options.model : `${options.model}@${options.version}`;
    super(`model ${where}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.model = options.model;
    this.version = options.version;
    this.stage = options.stage;
  }
}

/**
 * A model server's error message relayed by a client: the server's ModelError already begins with
 * `model <name>[@<version>]: `, so the client's own ModelError for the same model would say it twice
 * ("model gbr: model gbr: ..."). Returns the message without that prefix (nor the `instance <i>: `
 * a server puts before it in a batch request's error) and the version it named.
 */
export function relayedModelError(message: string, model: string): { message: string; version: string | undefined } {
  const own = message.replace(/^instance \d+: /, '');
  const match = /^model ([^\s@:]+)(?:@([^\s:]+))?: /.exec(own);
  if (match === null || match[1] !== model) return { message: own, version: undefined };
  return { message: own.slice(match[0].length), version: match[2] };
}

/** The message of anything thrown, for error texts. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
