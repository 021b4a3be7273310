import '../transport/kafkajs-patches.ts';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type IHeaders, type Message, type Producer } from 'kafkajs';
import { ModelError, describeError, relayedModelError, type Model, type Prediction, type ScoreInput, type ScoreOutcome, type ScoreStage } from '../ml/model.ts';
import { createTopicsAndWait } from '../transport/create-topics.ts';
import { defaultBrokers } from './kafka-server.ts';
import { kafkaLogCreator } from './kafka-log.ts';
import { remoteDuplicates, remoteRetries } from './metrics.ts';
import { headerText, ServingHeaders, type BatchReply, type CompactBatchReply, type ErrorReply } from './protocol.ts';
import { COLUMNS_CONTENT_TYPE, decodeColumns, encodeColumns } from './column-batch.ts';
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

/** One request record in flight: its correlation id and, once it came, the reply's value. */
interface Exchange {
  id: string;
  replied: boolean;
  reply: Reply;
  answered: () => void;
}

/** A reply's value, and for a column reply (`reply-format: columns`) the model and version of its headers. */
interface Reply {
  value: Buffer | null;
  columns?: { model: string; version: string };
}

/** What a request got: the reply, or why none came. */
type Answer = { ok: true; reply: Reply } | { ok: false; reason: string };

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

/** A comma-separated header's values, trimmed. */
function listHeader(headers: IHeaders | undefined, name: string): string[] {
  return headerText(headers, name)?.split(',').map((item) => item.trim()) ?? [];
}

/** A reply's value as the JSON reply it stands for: a column reply becomes the compact reply of its predictions. */
type ParsedReply<Out> = Partial<BatchReply<Out> & CompactBatchReply<Out> & ErrorReply>;

function parseReply<Out>(reply: Reply): ParsedReply<Out> {
  const value = reply.value ?? Buffer.alloc(0);
  if (reply.columns === undefined) return JSON.parse(value.toString('utf8')) as ParsedReply<Out>;
  return { ...reply.columns, predictions: decodeColumns(value) } as ParsedReply<Out>;
}

const isStage = (stage: unknown): stage is ScoreStage => stage === 'validate' || stage === 'features' || stage === 'inference';

/**
 * A model behind a Kafka-native model server: one request record per micro-batch with a unique
 * `correlation-id`, keyed by that id so its retries land on the same partition, and a `reply-to`
 * header. The value is a JSON array of the batch's values (split when it would exceed 512 KiB)
 * until a reply's `accepts` header says the server reads column batches; then a column batch
 * (column-batch.ts) when the values share their keys and it fits in 512 KiB. Requests ask for
 * `reply-format: compact`, or `columns` (the predictions as a column batch) once a reply's
 * `reply-formats` header names it; a reply is read as JSON unless its `content-type` says
 * column batch. Replies are read
 * by a consumer of a unique group from the reply topic's latest offset. A request
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
  /** The server said (a `reply-formats` header on a reply) that it writes column replies: requests ask for them. */
  private columnReplies = false;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly groupId = `tributary-remote-${randomUUID()}`;
  private readonly waiting = new Map<string, Exchange>();
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
    this.kafka = new Kafka({ clientId: `tributary-remote-${this.name}`, brokers: options.brokers ?? defaultBrokers(), logLevel: logLevel.ERROR, logCreator: kafkaLogCreator((line) => console.error(`tributary remoteModel(${this.name}): ${line}`)) });
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 3, initialRetryTime: 100 } });
    this.consumer = this.kafka.consumer({ groupId: this.groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 50 });
    this.admin = this.kafka.admin();
  }

  /** Connects, creates the reply topic when missing and starts reading replies from its current end. */
  ready(): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new ModelError('is closed', { model: this.name }));
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
      let reply: ParsedReply<Out>;
      try {
        reply = parseReply(answer.reply);
      } catch (error) {
        const failure = this.failure('inference', `the server's reply ${answer.reply.columns === undefined ? 'is not JSON' : 'is not a column batch'}: ${describeError(error)}`);
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

  /** Sends one request until its reply comes, at most `retries` more times, its timeout apart. */
  private async exchange(request: RequestValue, instances: number): Promise<Answer> {
    const waitMs = this.timeoutMs + instances * this.timeoutPerRecordMs;
    let answered!: () => void;
    const done = new Promise<void>((resolve) => (answered = resolve));
    const exchange: Exchange = { id: randomUUID(), replied: false, reply: { value: null }, answered };
    this.waiting.set(exchange.id, exchange);
    const headers: IHeaders = { ...(request.contentType === undefined ? this.headers : this.columnHeaders), [ServingHeaders.correlationId]: exchange.id, [ServingHeaders.replyTo]: this.options.replyTopic };
    if (this.columnReplies) headers[ServingHeaders.replyFormat] = 'columns';
    const value = typeof request.value === 'string' ? request.value : Buffer.from(request.value.buffer, request.value.byteOffset, request.value.byteLength);
    const message: Message = { key: exchange.id, value, headers };
    let lastError: unknown;
    try {
      for (let attempt = 0; attempt <= this.retries && this.closing === undefined && !exchange.replied; attempt++) {
        if (attempt > 0) remoteRetries.inc({ transport: 'kafka', model: this.name }, instances);
        try {
          await this.producer.send({ topic: this.options.requestTopic, acks: -1, messages: [message] });
        } catch (error) {
          lastError = error;
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
        clearTimeout(timer);
      }
    } finally {
      this.waiting.delete(exchange.id);
    }
    if (exchange.replied) return { ok: true, reply: exchange.reply };
    if (this.closing !== undefined) return { ok: false, reason: 'closed while waiting for a reply' };
    const attempts = this.retries + 1;
    const budget = `${waitMs} ms (timeoutMs ${this.timeoutMs} + ${instances} record(s) × timeoutPerRecordMs ${this.timeoutPerRecordMs})`;
    return { ok: false, reason: `no reply on ${this.options.replyTopic} to ${this.options.requestTopic} within ${attempts} attempt(s) of ${budget}${lastError === undefined ? '' : ` (last send error: ${describeError(lastError)})`}` };
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

  /** Fails what waits, leaves and deletes its reply consumer group, disconnects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const waiter of this.waiting.values()) waiter.answered();
      await this.starting?.catch(() => undefined);
      if (this.starting === undefined) return;
      await this.consumer.disconnect();
      await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
      await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
    })();
    return this.closing;
  }

  private async start(): Promise<void> {
    const { replyTopic } = this.options;
    await Promise.all([this.admin.connect(), this.producer.connect(), this.consumer.connect()]);
    if (!(await this.admin.listTopics()).includes(replyTopic)) {
      await createTopicsAndWait(this.admin, [{ topic: replyTopic, numPartitions: 1 }]);
    }
    // Replies to our requests land after these offsets: seeking there on join closes the gap
    // between joining the group and kafkajs resolving "latest" on its first fetch.
    const ends = await this.admin.fetchTopicOffsets(replyTopic);
    let seeked = false;
    const joined = new Promise<void>((resolve) => {
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        if (!seeked) for (const { partition, high } of ends) this.consumer.seek({ topic: replyTopic, partition, offset: high });
        seeked = true;
        resolve();
      });
    });
    await this.consumer.subscribe({ topics: [replyTopic], fromBeginning: false });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const raw = message.headers?.[ServingHeaders.correlationId];
        const id = (Array.isArray(raw) ? raw[0] : raw)?.toString();
        const exchange = id === undefined ? undefined : this.waiting.get(id);
        if (exchange === undefined || exchange.replied) {
          if (id !== undefined) remoteDuplicates.inc({ model: this.name });
          return;
        }
        const headers = message.headers;
        if (!this.columns && listHeader(headers, ServingHeaders.accepts).includes(COLUMNS_CONTENT_TYPE)) this.columns = true;
        if (!this.columnReplies && listHeader(headers, ServingHeaders.replyFormats).includes('columns')) this.columnReplies = true;
        exchange.replied = true;
        exchange.reply = { value: message.value };
        if (headerText(headers, ServingHeaders.contentType) === COLUMNS_CONTENT_TYPE) {
          exchange.reply.columns = { model: headerText(headers, ServingHeaders.model) ?? this.name, version: headerText(headers, ServingHeaders.version) ?? '' };
        }
        this.waiting.delete(exchange.id);
        exchange.answered();
      },
    });
    await joined;
  }

  private failure(stage: ScoreStage, message: string, cause?: unknown): ScoreOutcome<Out> {
    const relayed = relayedModelError(message, this.name);
    return { ok: false, stage, error: new ModelError(relayed.message, { model: this.name, version: relayed.version, stage, cause }) };
  }
}
