import { performance } from 'node:perf_hooks';
import { ModelError, describeError, relayedModelError, type Model, type Prediction, type ScoreInput, type ScoreOutcome, type ScoreStage } from '../ml/model.ts';
import { KafkaClientWorker } from './kafka-client-worker.ts';
import { defaultBrokers } from './kafka-server.ts';
import { remoteDuplicates, remoteRetries } from './metrics.ts';
import { ServingHeaders, type BatchReply, type CompactBatchReply, type ErrorReply } from './protocol.ts';
import { COLUMNS_CONTENT_TYPE, encodeColumns } from './column-batch.ts';
import { requestJson } from './request-json.ts';

/** `remoteModel({ kafka })`: a Kafka-native model server reached through a request and a reply topic. */
export interface RemoteKafkaOptions {
  /** Default: `KAFKA_BROKERS` (comma-separated) or `localhost:9092`. */
  brokers?: string[];
  /** Where requests go, e.g. `fraud-requests`. */
  requestTopic: string;
  /** Where the server replies (the `reply-to` header); created when missing. */
  replyTopic: string;
  /**
   * How long to wait for the reply to one request before sending it again: `timeoutMs` (default
   * 5000) plus `timeoutPerRecordMs` (default 2) for each record it holds, so a micro-batch of 4 000
   * records waits 13 s, as scoring it takes longer on a loaded server.
   */
  timeoutMs?: number;
  /** What each record of a request adds to its `timeoutMs` (default 2 ms); 0 gives every request the same timeout. */
  timeoutPerRecordMs?: number;
  /** Sends after the first (default 3); then the record fails with stage `inference`. */
  retries?: number;
  /** Sets the `model` header (needed on a server's shared topic). */
  model?: string;
  /** Sets the `version` header: pins a version instead of the server's newest. */
  version?: string;
}

/** What a request got: the reply's value, or why none came. */
type Answer = { ok: true; value: string | null } | { ok: false; reason: string };

/** One request's value, and its content type when it is not JSON. */
interface RequestValue {
  value: string | Uint8Array;
  contentType: string | undefined;
}

/**
 * The largest request value: a micro-batch above it goes out as several requests. The broker's
 * default `message.max.bytes` is 1 MiB; half of it leaves room for headers and batch overhead.
 */
const MAX_REQUEST_BYTES = 512 * 1024;

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new ModelError(`remoteModel kafka.${name} must be a finite number >= 0, got ${value}`, { model: 'remote' });
  return value;
}

const isStage = (stage: unknown): stage is ScoreStage => stage === 'validate' || stage === 'features' || stage === 'inference';

/**
 * A model behind a Kafka-native model server: one request record per micro-batch with a unique
 * `correlation-id`, keyed by that id so its retries land on the same partition, and a `reply-to`
 * header. The value is a JSON array of the batch's values (split when it would exceed 512 KiB)
 * until a reply's `accepts` header says the server reads column batches; then a column batch
 * (column-batch.ts) when the values share their keys and it fits in 512 KiB. The Kafka client
 * (producer, reply consumer of a unique group from the latest offset, correlation, timeouts and
 * retries, duplicate replies) runs on its own worker thread (kafka-client-thread.ts). A request
 * unanswered after its timeout (`timeoutMs` + `timeoutPerRecordMs` per record) is sent again (same
 * correlation id) up to `retries` times; duplicate replies are ignored. An instance the server
 * rejects (an error naming it, stage `validate` or `features`) fails alone and the rest of the
 * batch is sent again, as over HTTP.
 */
export class KafkaRemoteModel<In, Out> implements Model<In, Out> {
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly timeoutPerRecordMs: number;
  private readonly retries: number;
  private readonly headers: Record<string, string> = {};
  /** The headers of a column batch request (`headers` and its content type). */
  private readonly columnHeaders: Record<string, string>;
  /** The server said (an `accepts` header on a reply) that it reads column batches. */
  private columns = false;
  /** The thread holding the Kafka client (producer, reply consumer, correlation, retries). */
  private client: KafkaClientWorker | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RemoteKafkaOptions, name?: string) {
    this.name = name ?? options.model ?? options.requestTopic.replace(/-requests$/, '');
    this.timeoutMs = nonNegative(options.timeoutMs, 5000, 'timeoutMs');
    this.timeoutPerRecordMs = nonNegative(options.timeoutPerRecordMs, 2, 'timeoutPerRecordMs');
    this.retries = options.retries ?? 3;
    this.headers[ServingHeaders.replyFormat] = 'compact';
    if (options.model !== undefined) this.headers[ServingHeaders.model] = options.model;
    if (options.version !== undefined) this.headers[ServingHeaders.version] = options.version;
    this.columnHeaders = { ...this.headers, [ServingHeaders.contentType]: COLUMNS_CONTENT_TYPE };
  }

  /** Starts the Kafka client thread: it connects, creates the reply topic when missing and reads replies from its current end. */
  ready(): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new ModelError('is closed', { model: this.name }));
    if (this.client !== undefined && !this.client.alive) this.starting = undefined;
    this.starting ??= this.start().catch((error: unknown) => {
      this.starting = undefined;
      throw new ModelError(`cannot reach Kafka for ${this.options.requestTopic}/${this.options.replyTopic}: ${describeError(error)}`, { model: this.name, cause: error });
    });
    return this.starting;
  }

  async scoreBatch(inputs: readonly ScoreInput<In>[]): Promise<ScoreOutcome<Out>[]> {
    if (inputs.length === 0) return [];
    try {
      await this.ready();
    } catch (error) {
      const failure = this.failure('inference', describeError(error), error);
      return inputs.map(() => failure);
    }
    const outcomes = new Array<ScoreOutcome<Out> | undefined>(inputs.length);
    if (this.columns) {
      const values = inputs.map((input) => input.value);
      const encode = (indices: readonly number[]): RequestValue | undefined => {
        const bytes = encodeColumns(indices.length === values.length ? values : indices.map((i) => values[i]));
        return bytes === undefined || bytes.byteLength > MAX_REQUEST_BYTES ? undefined : { value: bytes, contentType: COLUMNS_CONTENT_TYPE };
      };
      const all = inputs.map((_, i) => i);
      const first = encode(all);
      // values of different shapes, or too many for one request, go as JSON
      if (first !== undefined) {
        await this.scoreRequest(all, outcomes, (indices) => (indices === all ? first : encode(indices) ?? this.json(indices.map((i) => requestJson(values[i])))));
        return outcomes as ScoreOutcome<Out>[];
      }
    }
    // each value is serialised once; a request is these strings joined, and a resend reuses them
    const values = inputs.map((input) => requestJson(input.value));
    await Promise.all(this.pack(values).map((indices) => this.scoreRequest(indices, outcomes, (pending) => this.json(pending.map((i) => values[i]!)))));
    return outcomes as ScoreOutcome<Out>[];
  }

  /** A JSON array request of values already serialised. */
  private json(values: readonly string[]): RequestValue {
    return { value: `[${values.join(',')}]`, contentType: undefined };
  }

  /** Scores some of a batch's values in one request (`encode` makes it); rejected instances fail alone and the rest is sent again. */
  private async scoreRequest(indices: number[], outcomes: (ScoreOutcome<Out> | undefined)[], encode: (indices: number[]) => RequestValue): Promise<void> {
    let pending = indices;
    while (pending.length > 0) {
      const started = performance.now();
      const answer = await this.exchange(encode(pending), pending.length);
      if (!answer.ok) {
        const failure = this.failure('inference', answer.reason);
        for (const i of pending) outcomes[i] = failure;
        return;
      }
      let reply: Partial<BatchReply<Out> & CompactBatchReply<Out> & ErrorReply>;
      try {
        reply = JSON.parse(answer.value ?? '') as Partial<BatchReply<Out> & CompactBatchReply<Out> & ErrorReply>;
      } catch (error) {
        const failure = this.failure('inference', `the server's reply is not JSON: ${describeError(error)}`);
        for (const i of pending) outcomes[i] = failure;
        return;
      }
      const predictions = reply.predictions as Record<string, unknown>[] | undefined;
      if (Array.isArray(predictions) && predictions.length === pending.length) {
        const latencyMs = performance.now() - started;
        // a compact reply names its model and version once; an older server's names them in each prediction
        const { model, version } = reply;
        const compact = typeof model === 'string' && typeof version === 'string';
        for (let k = 0; k < pending.length; k++) {
          // the parsed object is ours: completed in place rather than copied
          const prediction = predictions[k]!;
          if (compact) {
            prediction.model = model;
            prediction.version = version;
          }
          prediction.latencyMs = latencyMs;
          outcomes[pending[k]!] = { ok: true, prediction: prediction as Prediction<Out> };
        }
        return;
      }
      const stage = isStage(reply.stage) ? reply.stage : 'inference';
      const message = reply.error ?? 'the server replied with neither predictions nor an error';
      const instance = reply.instance;
      if (stage !== 'inference' && typeof instance === 'number' && Number.isInteger(instance) && instance >= 0 && instance < pending.length) {
        outcomes[pending[instance]!] = this.failure(stage, message);
        pending = pending.filter((_, k) => k !== instance);
        continue;
      }
      const failure = this.failure(stage, message);
      for (const i of pending) outcomes[i] = failure;
      return;
    }
  }

  /** Sends one request until its reply comes, at most `retries` more times, its timeout apart (in the client thread). */
  private async exchange(request: RequestValue, instances: number): Promise<Answer> {
    const waitMs = this.timeoutMs + instances * this.timeoutPerRecordMs;
    const client = this.client;
    if (client === undefined) return { ok: false, reason: 'closed while waiting for a reply' };
    const answer = await client.exchange(request.value, request.contentType === undefined ? this.headers : this.columnHeaders, instances, waitMs);
    if (answer.ok) {
      if (answer.accepts?.split(',').some((type) => type.trim() === COLUMNS_CONTENT_TYPE)) this.columns = true;
      return { ok: true, value: answer.value };
    }
    if (answer.closed || this.closing !== undefined) return { ok: false, reason: 'closed while waiting for a reply' };
    const attempts = this.retries + 1;
    const budget = `${waitMs} ms (timeoutMs ${this.timeoutMs} + ${instances} record(s) × timeoutPerRecordMs ${this.timeoutPerRecordMs})`;
    return { ok: false, reason: `no reply on ${this.options.replyTopic} to ${this.options.requestTopic} within ${attempts} attempt(s) of ${budget}${answer.lastSendError === undefined ? '' : ` (last send error: ${answer.lastSendError})`}` };
  }

  /** Splits a batch's serialised values into runs of indices whose request stays under MAX_REQUEST_BYTES. */
  private pack(values: readonly string[]): number[][] {
    const runs: number[][] = [];
    let run: number[] = [];
    let bytes = 2;
    for (let i = 0; i < values.length; i++) {
      const size = Buffer.byteLength(values[i]!) + 1;
      if (run.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
        runs.push(run);
        run = [];
        bytes = 2;
      }
      run.push(i);
      bytes += size;
    }
    runs.push(run);
    return runs;
  }

  /** Fails what waits; the client thread leaves and deletes its reply consumer group and disconnects, then ends. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.client?.close();
      this.client = undefined;
    })();
    return this.closing;
  }

  private async start(): Promise<void> {
    const previous = this.client;
    this.client = undefined;
    await previous?.close();
    const client = new KafkaClientWorker(
      { name: this.name, brokers: this.options.brokers ?? defaultBrokers(), requestTopic: this.options.requestTopic, replyTopic: this.options.replyTopic, retries: this.retries },
      {
        retried: (instances) => remoteRetries.inc({ transport: 'kafka', model: this.name }, instances),
        duplicate: () => remoteDuplicates.inc({ model: this.name }),
      },
    );
    this.client = client;
    try {
      await client.started;
    } catch (error) {
      this.client = undefined;
      await client.terminate();
      throw error;
    }
  }

  private failure(stage: ScoreStage, message: string, cause?: unknown): ScoreOutcome<Out> {
    const relayed = relayedModelError(message, this.name);
    return { ok: false, stage, error: new ModelError(relayed.message, { model: this.name, version: relayed.version, stage, cause }) };
  }
}
