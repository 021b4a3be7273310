import '../transport/kafkajs-patches.ts';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Batch, type Consumer, type IHeaders, type KafkaMessage, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { describeError } from '../ml/model.ts';
import type { ModelRegistry } from '../ml/registry.ts';
import type { Prediction } from '../ml/model.ts';
import type { RecordValue, RegistryOutput } from '../ml/registry-mapping.ts';
import { createTopicsAndWait } from '../transport/create-topics.ts';
import { COLUMNS_CONTENT_TYPE, decodeColumns, encodeColumns } from './column-batch.ts';
import { kafkaLogCreator } from './kafka-log.ts';
import { servingDeadLetters, servingRequests } from './metrics.ts';
import { ModelPool, predictionsOf, type BatchingOptions } from './model-pool.ts';
import { PartitionLane } from './partition-lane.ts';
import { headerText, ServingError, ServingHeaders, type CompactBatchReply, type ErrorReply } from './protocol.ts';

export interface ModelKafkaServerOptions extends BatchingOptions {
  /** Default: `KAFKA_BROKERS` (comma-separated) or `localhost:9092`. */
  brokers?: string[];
  /** The consumer group shared by all servers that split the load (default `tributary-model-server`). */
  groupId?: string;
  /** The request topic of each model (default `<model>-requests`). */
  requestTopic?: (model: string) => string;
  /** Models that get their own request topic (default: every model in the registry at start). */
  models?: string[];
  /** One more request topic where the `model` header names the model. */
  sharedTopic?: string;
  /** Partitions of the request topics this server creates when they do not exist (default 3). */
  partitions?: number;
  /** Partitions scored at once (default 4); their instances still share the micro-batches. */
  partitionsConsumedConcurrently?: number;
  /** Names this server on its replies' `server` header (default `<host>-<pid>-<random>`). */
  id?: string;
  /** Where problems are reported (default: stderr). */
  log?: (line: string) => void;
}

/** The `reply-format` values this server writes besides the full reply (the `reply-formats` header of its replies). */
const REPLY_FORMATS = 'compact,columns';

/** Requests scored and replied to together within one fetched batch. */
const CHUNK = 1024;
/**
 * Request bytes answered at once; above it the consumer stops handing over batches. Enough to keep
 * the micro-batcher full (about 100 requests of 256 payments as column batches); a deeper queue only
 * waits: with 32 MiB a backlog's 100 000 queued instances cost 16.4 µs of CPU per record (most of
 * it garbage collection) against 11.5 (bench/model-server.ts).
 */
const MAX_IN_FLIGHT_BYTES = 2 * 1024 * 1024;

/** What a prediction says besides the model's output: a column reply leaves it out (the model and version are its headers). */
const PREDICTION_META: ReadonlySet<string> = new Set(['model', 'version', 'latencyMs']);

/** Whether one model version scored every prediction. */
function oneScorer(predictions: readonly Prediction<RegistryOutput>[]): boolean {
  const { model, version } = predictions[0]!;
  for (let i = 1; i < predictions.length; i++) if (predictions[i]!.model !== model || predictions[i]!.version !== version) return false;
  return true;
}

/** The predictions as a CompactBatchReply, or undefined when they were not all scored by one model version. */
function compactReply(predictions: readonly Prediction<RegistryOutput>[]): CompactBatchReply<RegistryOutput> | undefined {
  const { model, version } = predictions[0]!;
  const out = new Array<RegistryOutput>(predictions.length);
  for (let i = 0; i < predictions.length; i++) {
    const { model: m, version: v, latencyMs: _latency, ...rest } = predictions[i]!;
    if (m !== model || v !== version) return undefined;
    out[i] = rest;
  }
  return { model, version, predictions: out };
}

/** The bytes of replies in one produce request: a partition's replies travel as one record batch, which the broker's default `message.max.bytes` (1 MiB) bounds. */
const MAX_SEND_BYTES = 512 * 1024;

/** An upper bound of what a reply adds to a record batch beyond its value: key, headers, framing. */
const REPLY_OVERHEAD_BYTES = 512;

/** A key's or value's bytes. */
function byteLength(data: string | Buffer | null | undefined): number {
  return data === null || data === undefined ? 0 : typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/**
 * The replies of a chunk (by target topic) as produce requests of at most MAX_SEND_BYTES each
 * (a reply larger than that goes alone). One request for a backlog's 1 024 replies of 30 KB
 * would be refused by the broker as too large, and answered again, forever.
 */
function replySends(out: ReadonlyMap<string, Message[]>): TopicMessages[][] {
  const sends: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  const close = (): void => {
    if (current.size > 0) sends.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const [topic, messages] of out) {
    for (const message of messages) {
      const size = REPLY_OVERHEAD_BYTES + byteLength(message.value) + byteLength(message.key);
      if (bytes > 0 && bytes + size > MAX_SEND_BYTES) close();
      let list = current.get(topic);
      if (list === undefined) current.set(topic, (list = []));
      list.push(message);
      bytes += size;
    }
  }
  close();
  return sends;
}

/** Brokers from `KAFKA_BROKERS`, else `localhost:9092`. */
export function defaultBrokers(): string[] {
  const list = (process.env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  return list.length > 0 ? list : ['localhost:9092'];
}

/**
 * A Kafka-native model server: a consumer group on request topics (one per model, and optionally
 * one shared topic with a `model` header), micro-batched scoring, replies to each request's
 * `reply-to` topic with its `correlation-id`. Fetching does not wait for the replies of the batch
 * before (up to 2 MiB of requests are in flight); an offset is committed only after the replies up
 * to it are acknowledged (at-least-once: a client may see a reply twice). More servers in the same group
 * split the partitions. A request that cannot be scored gets an error reply; one without a
 * `reply-to` header goes to `<groupId>-dlq`.
 *
 * @example
 * const server = await ModelKafkaServer.start(await ModelRegistry.open('models'), { brokers: ['localhost:9092'] });
 */
export class ModelKafkaServer {
  readonly groupId: string;
  readonly id: string;
  readonly deadLetterTopic: string;
  /** topic → model served on it (undefined for the shared topic). */
  readonly topics = new Map<string, string | undefined>();
  private readonly pool: ModelPool;
  private readonly ownsPool: boolean;
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly log: (line: string) => void;
  private assigned: Record<string, number[]> = {};
  /** The eachBatch handlers running now. */
  private readonly handling = new Set<Promise<void>>();
  /** Per `topic:partition`, the chunks being answered; replaced on a (re)join and after a failed chunk. */
  private lanes = new Map<string, PartitionLane>();
  /** Lanes replaced while chunks were still in them: close() waits for these too. */
  private readonly retired = new Set<PartitionLane>();
  /** Bytes of request values being answered; the consumer waits above MAX_IN_FLIGHT_BYTES. */
  private inFlightBytes = 0;
  private readonly roomWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(source: ModelRegistry | ModelPool, private readonly options: ModelKafkaServerOptions = {}) {
    this.ownsPool = !(source instanceof ModelPool);
    this.pool = source instanceof ModelPool ? source : new ModelPool(source, options);
    this.groupId = options.groupId ?? 'tributary-model-server';
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.deadLetterTopic = `${this.groupId}-dlq`;
    this.log = options.log ?? ((line) => console.error(`tributary serve: ${line}`));
    const topicOf = options.requestTopic ?? ((model: string) => `${model}-requests`);
    for (const model of options.models ?? this.pool.names()) this.topics.set(topicOf(model), model);
    if (options.sharedTopic !== undefined) this.topics.set(options.sharedTopic, undefined);
    if (this.topics.size === 0) throw new ServingError('no request topic: the registry has no model and no sharedTopic was given', 500);
    this.kafka = new Kafka({ clientId: `tributary-model-server-${this.id}`, brokers: options.brokers ?? defaultBrokers(), logLevel: logLevel.ERROR, logCreator: kafkaLogCreator(this.log) });
    this.consumer = this.kafka.consumer({ groupId: this.groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100 });
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    this.admin = this.kafka.admin();
  }

  /** Creates a server, starts it and waits until it joined its group. */
  static async start(source: ModelRegistry | ModelPool, options: ModelKafkaServerOptions = {}): Promise<ModelKafkaServer> {
    const server = new ModelKafkaServer(source, options);
    await server.start();
    return server;
  }

  /** Partitions this member consumes now, by topic. */
  get assignment(): Record<string, number[]> {
    return this.assigned;
  }

  /** Creates missing request and dead-letter topics, joins the group and starts answering; resolves after the first join. */
  async start(): Promise<void> {
    await Promise.all([this.admin.connect(), this.producer.connect(), this.consumer.connect()]);
    const existing = new Set(await this.admin.listTopics());
    const missing = [...this.topics.keys(), this.deadLetterTopic].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await createTopicsAndWait(
        this.admin,
        missing.map((topic) => ({ topic, numPartitions: topic === this.deadLetterTopic ? 1 : this.options.partitions ?? 3 })),
      );
    }
    const joined = new Promise<void>((resolve) => {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
        this.assigned = event.payload.memberAssignment;
        // fetching restarts from the committed offsets: the lanes restart with it
        this.retireLanes();
        resolve();
      });
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.assigned = {};
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => this.log(`the consumer crashed: ${describeError(event.payload.error)}`));
    await this.consumer.subscribe({ topics: [...this.topics.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const handled = this.answerBatch(batch, resolveOffset, heartbeat, () => isRunning() && !isStale() && this.closing === undefined);
        this.handling.add(handled);
        try {
          await handled;
        } finally {
          this.handling.delete(handled);
        }
      },
    });
    await joined;
  }

  /** Leaves the group (finishing the batch in hand), then disconnects and ends the models it opened. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // no new chunk starts now; the ones in hand are answered and their offsets committed while
      // this member still owns its partitions, so the next owner starts after them
      await Promise.all([...this.handling]);
      await Promise.all([...this.lanes.values(), ...this.retired].map((lane) => lane.settled()));
      await this.consumer.disconnect();
      await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
      if (this.ownsPool) await this.pool.close();
    })();
    return this.closing;
  }

  /**
   * Hands a fetched batch's chunks to their partition's lane and returns without waiting for the
   * replies, so the consumer fetches the next requests while these are scored; it waits only while
   * MAX_IN_FLIGHT_BYTES are in flight. Offsets are resolved at once (the fetch position moves on)
   * but committed by the lane, after the replies are acknowledged.
   */
  private async answerBatch(batch: Batch, resolveOffset: (offset: string) => void, heartbeat: () => Promise<void>, active: () => boolean): Promise<void> {
    const { topic, partition } = batch;
    for (let from = 0; from < batch.messages.length; from += CHUNK) {
      while (this.inFlightBytes >= MAX_IN_FLIGHT_BYTES && active()) {
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        await heartbeat();
      }
      if (!active()) return;
      const chunk = batch.messages.slice(from, from + CHUNK);
      let bytes = 0;
      for (const message of chunk) bytes += message.value?.length ?? 0;
      this.inFlightBytes += bytes;
      const answered = this.answerAll(topic, chunk).finally(() => {
        this.inFlightBytes -= bytes;
        for (const wake of this.roomWaiters.splice(0)) wake();
      });
      const last = chunk[chunk.length - 1]!.offset;
      this.lane(topic, partition).add(chunk[0]!.offset, String(Number(last) + 1), answered);
      resolveOffset(last);
    }
    await heartbeat();
  }

  private lane(topic: string, partition: number): PartitionLane {
    const key = `${topic}:${partition}`;
    let lane = this.lanes.get(key);
    if (lane !== undefined) return lane;
    lane = new PartitionLane(
      (offset) =>
        this.consumer.commitOffsets([{ topic, partition, offset }]).catch((error: unknown) => {
          // a rebalance took the partition: its next owner answers these requests again
          this.log(`committing ${topic}/${partition} at ${offset} failed: ${describeError(error)}`);
        }),
      (first, error) => {
        this.log(`replies to ${topic}/${partition} from offset ${first} failed (${describeError(error)}); answering them again`);
        this.retire(key, lane!);
        if (this.closing === undefined) this.consumer.seek({ topic, partition, offset: first });
      },
    );
    this.lanes.set(key, lane);
    return lane;
  }

  private retireLanes(): void {
    for (const [key, lane] of this.lanes) this.retire(key, lane);
  }

  private retire(key: string, lane: PartitionLane): void {
    if (this.lanes.get(key) === lane) this.lanes.delete(key);
    this.retired.add(lane);
    void lane.settled().then(() => this.retired.delete(lane));
  }

  /** Scores a chunk of requests and produces every reply (and dead letter) before returning. */
  private async answerAll(topic: string, messages: KafkaMessage[]): Promise<void> {
    const out = new Map<string, Message[]>();
    const add = (target: string, message: Message): void => {
      let list = out.get(target);
      if (list === undefined) out.set(target, (list = []));
      list.push(message);
    };
    await Promise.all(
      messages.map(async (message) => {
        const replyTo = headerText(message.headers, ServingHeaders.replyTo);
        const correlationId = headerText(message.headers, ServingHeaders.correlationId);
        const model = headerText(message.headers, ServingHeaders.model) ?? this.topics.get(topic);
        if (replyTo === undefined || replyTo === '') {
          const reason = `request at ${topic}/${message.offset} has no ${ServingHeaders.replyTo} header`;
          this.log(`${reason}; written to ${this.deadLetterTopic}`);
          servingDeadLetters.inc();
          add(this.deadLetterTopic, { key: message.key, value: message.value, headers: { ...message.headers, [ServingHeaders.error]: reason } });
          return;
        }
        const { value, version, columns } = await this.reply(message, model);
        servingRequests.inc({ transport: 'kafka', model: this.pool.label(model), outcome: columns !== undefined || !('error' in value) ? 'ok' : 'error' });
        const headers: IHeaders = { [ServingHeaders.server]: this.id, [ServingHeaders.accepts]: COLUMNS_CONTENT_TYPE, [ServingHeaders.replyFormats]: REPLY_FORMATS };
        if (correlationId !== undefined) headers[ServingHeaders.correlationId] = correlationId;
        if (model !== undefined) headers[ServingHeaders.model] = model;
        if (version !== undefined) headers[ServingHeaders.version] = version;
        if (columns !== undefined) {
          // the value holds only the predictions: the model and version that scored them are headers
          headers[ServingHeaders.contentType] = COLUMNS_CONTENT_TYPE;
          headers[ServingHeaders.model] = (value as CompactBatchReply<RegistryOutput>).model;
        }
        const body = columns === undefined ? JSON.stringify(value) : Buffer.from(columns.buffer, columns.byteOffset, columns.byteLength);
        add(replyTo, { key: message.key, value: body, headers });
      }),
    );
    await Promise.all(replySends(out).map((topicMessages) => this.producer.sendBatch({ topicMessages, acks: -1 })));
  }

  /** The reply to one request: a JSON value, or (`reply-format: columns`) the predictions as a column batch. */
  private async reply(message: KafkaMessage, model: string | undefined): Promise<{ value: object; version: string | undefined; columns?: Uint8Array }> {
    const pinned = headerText(message.headers, ServingHeaders.version);
    try {
      if (model === undefined) throw new ServingError(`no ${ServingHeaders.model} header: requests on a shared topic must name their model`, 400);
      let instance: unknown;
      const contentType = headerText(message.headers, ServingHeaders.contentType);
      if (contentType === COLUMNS_CONTENT_TYPE) {
        try {
          instance = decodeColumns(message.value ?? new Uint8Array(0));
        } catch (error) {
          throw new ServingError(`the request value is not a column batch: ${describeError(error)}`, 400);
        }
      } else {
        try {
          instance = JSON.parse(message.value?.toString('utf8') ?? '');
        } catch (error) {
          throw new ServingError(`the request value is not JSON: ${describeError(error)}`, 400);
        }
      }
      const key = message.key?.toString('utf8') ?? null;
      const batch = Array.isArray(instance);
      const values = (batch ? instance : [instance]) as RecordValue[];
      if (values.length === 0) throw new ServingError('the request holds an empty batch', 400);
      const predictions = predictionsOf(await this.pool.score(model, pinned, values.map((value) => ({ key, value }))), batch);
      const version = predictions[0]!.version;
      if (!batch) return { value: { prediction: predictions[0]! }, version };
      const format = headerText(message.headers, ServingHeaders.replyFormat);
      if (format === 'columns' && oneScorer(predictions)) {
        // outputs of different shapes (a model's outputs vary per record) go as the compact JSON reply
        const columns = encodeColumns(predictions, { arrays: true, omit: PREDICTION_META });
        if (columns !== undefined) return { value: { model: predictions[0]!.model, version, predictions: [] }, version, columns };
      }
      if (format === 'compact' || format === 'columns') {
        const compact = compactReply(predictions);
        if (compact !== undefined) return { value: compact, version };
      }
      return { value: { predictions }, version };
    } catch (error) {
      const failure: ErrorReply = error instanceof ServingError ? error.toReply() : { error: describeError(error), stage: 'inference' };
      return { value: failure, version: pinned };
    }
  }
}
