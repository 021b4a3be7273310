import { MicroBatcher } from '../ml/batcher.ts';
import { type Prediction, type ScoreInput, type ScoreOutcome } from '../ml/model.ts';
import type { ModelRegistry } from '../ml/registry.ts';
import type { VersionedModel } from '../ml/registry-model.ts';
import type { RecordValue, RegistryOutput } from '../ml/registry-mapping.ts';
import { ServingError, statusOfStage } from './protocol.ts';

/** How a server batches the instances of concurrent requests per model version. */
export interface BatchingOptions {
  /** Instances per inference call (default 256). */
  maxBatchSize?: number;
  /** How long a partial batch waits for instances of other requests (default 2 ms). */
  maxDelayMs?: number;
  /** Batches scored at once per model version (default 2). */
  concurrency?: number;
}

/** The TF-Serving status of one version of a model. */
export interface VersionStatus {
  version: string;
  state: 'AVAILABLE' | 'END';
  status: { error_code: 'OK' | 'UNKNOWN'; error_message: string };
}

/** One request's instances being scored: their outcomes, how many are still to come, and who waits. */
interface Request {
  outcomes: ScoreOutcome<RegistryOutput>[];
  left: number;
  resolve: (outcomes: ScoreOutcome<RegistryOutput>[]) => void;
}

interface Item {
  input: ScoreInput<RecordValue>;
  slot: number;
  request: Request;
}

/** Puts an instance's outcome in its request's slot; the last one answers the request. */
function settle(item: Item, outcome: ScoreOutcome<RegistryOutput>): void {
  const { request } = item;
  request.outcomes[item.slot] = outcome;
  if (--request.left === 0) request.resolve(request.outcomes);
}

interface Lane {
  model: VersionedModel<RecordValue, RegistryOutput>;
  batcher: MicroBatcher<Item, ScoreOutcome<RegistryOutput>>;
}

/**
 * The models a server serves from one registry: one registry handle and one micro-batcher per
 * model and version (or "newest", which follows hot reloads), created on first use, so instances
 * of concurrent requests are scored together.
 */
export class ModelPool {
  private readonly lanes = new Map<string, Lane>();
  private closed = false;

  constructor(readonly registry: ModelRegistry, private readonly options: BatchingOptions = {}) {}

  /** Model names served, sorted. */
  names(): string[] {
    return this.registry.names();
  }

  /** The model's name as a metric label; names not in the registry share one label, so requests cannot grow the series. */
  label(name: string | undefined): string {
    return name !== undefined && this.registry.versions(name).length > 0 ? name : 'unknown';
  }

  /** Throws a 404 ServingError naming what exists when the model or version is unknown. */
  check(name: string, version?: string): void {
    const versions = this.registry.versions(name);
    if (versions.length === 0) {
      throw new ServingError(`no model '${name}' (served: ${this.names().join(', ') || 'none'})`, 404);
    }
    if (version !== undefined && !versions.includes(version)) {
      throw new ServingError(`model '${name}' has no version '${version}' (versions: ${versions.join(', ')})`, 404);
    }
  }

  /** Scores values with a model (newest version unless `version` is given); one outcome per value, in order. */
  async score(name: string, version: string | undefined, inputs: readonly ScoreInput<RecordValue>[]): Promise<ScoreOutcome<RegistryOutput>[]> {
    if (this.closed) throw new ServingError('the server is shutting down', 503);
    this.check(name, version);
    const lane = this.lane(name, version);
    // one promise per request, not per instance: each outcome lands in its slot and the last one resolves
    return new Promise<ScoreOutcome<RegistryOutput>[]>((resolve) => {
      const request: Request = { outcomes: new Array<ScoreOutcome<RegistryOutput>>(inputs.length), left: inputs.length, resolve };
      if (inputs.length === 0) resolve(request.outcomes);
      for (let i = 0; i < inputs.length; i++) lane.batcher.push({ input: inputs[i]!, slot: i, request });
    });
  }

  /** The status of every version of a model (newest first), or of one: END with the load error for a version that cannot serve. */
  status(name: string, version?: string): VersionStatus[] {
    this.check(name, version);
    const versions = version === undefined ? [...this.registry.versions(name)].reverse() : [version];
    return versions.map((v) => {
      const failure = this.registry.loadError(name, v);
      return failure === undefined
        ? { version: v, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }
        : { version: v, state: 'END', status: { error_code: 'UNKNOWN', error_message: failure } };
    });
  }

  /** Scores what is queued, then closes every model handle (the registry stays open). */
  async close(): Promise<void> {
    this.closed = true;
    const lanes = [...this.lanes.values()];
    this.lanes.clear();
    await Promise.all(lanes.map((lane) => lane.batcher.flush().catch(() => undefined)));
    await Promise.all(lanes.map((lane) => lane.model.close()));
  }

  private lane(name: string, version: string | undefined): Lane {
    const key = `${name}@${version ?? 'newest'}`;
    let lane = this.lanes.get(key);
    if (lane !== undefined) return lane;
    const model = this.registry.model(name, version === undefined ? {} : { version });
    const batcher = new MicroBatcher<Item, ScoreOutcome<RegistryOutput>>({
      maxBatchSize: this.options.maxBatchSize ?? 256,
      maxDelayMs: this.options.maxDelayMs ?? 2,
      concurrency: this.options.concurrency ?? 2,
      maxInFlight: Number.MAX_SAFE_INTEGER,
      run: (items) => model.scoreBatch(items.map((item) => item.input)),
      onResult: settle,
      onError: (item, error) => settle(item, { ok: false, stage: 'inference', error }),
    });
    lane = { model, batcher };
    this.lanes.set(key, lane);
    return lane;
  }
}

/** The predictions of a batch request, or, as TF Serving does, one error for the whole request naming the first failing instance. */
export function predictionsOf(outcomes: readonly ScoreOutcome<RegistryOutput>[], batch = true): Prediction<RegistryOutput>[] {
  const predictions = new Array<Prediction<RegistryOutput>>(outcomes.length);
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i]!;
    if (!outcome.ok) {
      if (!batch) throw new ServingError(outcome.error.message, statusOfStage(outcome.stage), outcome.stage);
      throw new ServingError(`instance ${i}: ${outcome.error.message}`, statusOfStage(outcome.stage), outcome.stage, i);
    }
    predictions[i] = outcome.prediction;
  }
  return predictions;
}
