import type { Model, Prediction, ScoreContext, ScoreInput, ScoreOutcome } from '../ml/model.ts';
import { MicroBatcher } from '../ml/batcher.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';

const DEFAULT_CONCURRENCY = 6;

/** Options of `.predict(model, options)`. */
export interface PredictOptions<V, Out, R> {
  /** Records per inference call (default 256). */
  maxBatchSize?: number;
  /** How long a partial batch may wait for more records (default 5 ms). */
  maxDelayMs?: number;
  /**
   * Batches in flight at once (default 6); results still leave in input order. A model's worker
   * threads score them one after the other, so this is their queue: three per worker with the
   * default two, so a worker has its next batch while the stream's thread is busy building more.
   * bench/predict.ts, the trees at batch 256 with two workers: 2 in flight left the workers idle
   * (0.9 M records/s), 4 reached 0.70–0.76 of the raw rate and 6 0.75–0.82.
   */
  concurrency?: number;
  /** Builds the output value (default: the value with a `prediction` field). */
  as?: (value: V, prediction: Prediction<Out>) => R;
}

/** The default `as`: the value with the prediction in a `prediction` field. */
export function withPrediction<V, Out>(value: V, prediction: Prediction<Out>): V & { prediction: Prediction<Out> } {
  const source = value as object;
  // Object.assign, not `{ ...value, prediction }`: a spread followed by a property takes V8's slow
  // path (bench/predict.ts, fraud@1 on the main thread at batch 256: 1.65 → 0.86 µs of CPU a record).
  // An own `__proto__` key (JSON.parse makes one) would be a prototype to assign: that keeps the spread.
  return (Object.hasOwn(source, '__proto__') ? { ...source, prediction } : Object.assign({}, source, { prediction })) as V & { prediction: Prediction<Out> };
}

/**
 * Scores records in micro-batches: one model call per batch, results forwarded in input order.
 * It registers with the task's drain, so no offset is committed before its records are scored;
 * a record that fails validation, feature building or inference goes to the error policy.
 */
export function predictProcessor<K, V, Out, R>(model: Model<V, Out>, options: PredictOptions<V, Out, R>): ProcessorSupplier {
  const as = options.as ?? (withPrediction as unknown as (value: V, prediction: Prediction<Out>) => R);
  return () => {
    let ctx: ProcessorContext;
    let ready: Promise<void> | undefined;
    let batcher: MicroBatcher<StreamRecord<K, V>, ScoreOutcome<Out>>;
    // records the model asks for (drift alerts, shadow comparisons) go out through this task's application
    const scoreContext: ScoreContext = { emitRecord: (record) => ctx.emitModelRecord(record) };
    return {
      init(context) {
        ctx = context;
        batcher = new MicroBatcher<StreamRecord<K, V>, ScoreOutcome<Out>>({
          maxBatchSize: options.maxBatchSize ?? 256,
          maxDelayMs: options.maxDelayMs ?? 5,
          concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
          run: async (records) => {
            // A model that failed to get ready (a model server not up yet) is asked again by the next batch.
            ready ??= model.ready().catch((error: unknown) => {
              ready = undefined;
              throw error;
            });
            await ready;
            // a record is a ScoreInput already (key and value): no copy per record
            const inputs: readonly ScoreInput<V>[] = records;
            return model.scoreBatch(inputs, scoreContext);
          },
          onResult: (record, outcome) => {
            if (outcome.ok) ctx.forward({ ...record, value: as(record.value, outcome.prediction) });
            else ctx.reportError(record, outcome.error, outcome.stage);
          },
          onError: (record, error) => ctx.reportError(record, error, 'inference'),
        });
        context.registerAsync({ inFlight: () => batcher.inFlight, flush: () => batcher.flush(), isFull: () => batcher.isFull });
      },
      process(record: StreamRecord<K, V>) {
        batcher.push(record);
      },
    };
  };
}
