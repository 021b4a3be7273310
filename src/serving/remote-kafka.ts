import '../transport/kafkajs-patches.ts';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type IHeaders, type Message, type Producer } from 'kafkajs';
import { ModelError, describeError, relayedModelError, type Model, type Prediction, type ScoreInput, type ScoreOutcome, type ScoreStage } from '../ml/model.ts';
import { recordKey } from '../ml/model-records.ts';
import { createTopicsAndWait } from '../transport/create-topics.ts';
import { defaultBrokers } from './kafka-server.ts';
import { kafkaLogCreator } from './kafka-log.ts';
import { remoteDuplicates, remoteRetries } from './metrics.ts';
import { ServingHeaders, type ErrorReply, type PredictionReply } from './protocol.ts';

/** `remoteModel({ kafka })`: a Kafka-native model server reached through a request and a reply topic. */
export interface RemoteKafkaOptions {
  /** Default: `KAFKA_BROKERS` (comma-separated) or `localhost:9092`. */
  brokers?: string[];
  /** Where requests go, e.g. `fraud-requests`. */
  requestTopic: string;
  /** Where the server replies (the `reply-to` header); created when missing. */
  replyTopic: string;
  /** How long to wait for the replies of one send before sending the unanswered requests again (default 5000 ms). */
  timeoutMs?: number;
  /** Sends after the first (default 3); then the record fails with stage `inference`. */
  retries?: number;
  /** Sets the `model` header (needed on a server's shared topic). */
  model?: string;
  /** Sets the `version` header: pins a version instead of the server's newest. */
  version?: string;
}

interface Waiter<Out> {
  id: string;
  outcome: ScoreOutcome<Out> | undefined;
  started: number;
  answered: () => void;
  done: Promise<void>;
}

const isStage = (stage: unknown): stage is ScoreStage => stage === 'validate' || stage === 'features' || stage === 'inference';

/**
 * A model behind a Kafka-native model server: one request record per input with a unique
 * `correlation-id` and a `reply-to` header, replies read by its own consumer (a unique group, from
 * the latest offset) and matched by correlation id. Requests unanswered after `timeoutMs` are sent
 * again (same correlation id) up to `retries` times; duplicate replies are ignored.
 */
export class KafkaRemoteModel<In, Out> implements Model<In, Out> {
  readonly name: string;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly groupId = `tributary-remote-${randomUUID()}`;
  private readonly waiting = new Map<string, Waiter<Out>>();
  private readonly timeoutMs: number;
  private readonly retries: number;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RemoteKafkaOptions, name?: string) {
    this.name = name ?? options.model ?? options.requestTopic.replace(/-requests$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retries = options.retries ?? 3;
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
    const waiters = inputs.map(() => this.waiter());
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries && this.closing === undefined; attempt++) {
      const open = waiters.flatMap((w, i) => (w.outcome === undefined ? [i] : []));
      if (open.length === 0) break;
      if (attempt > 0) remoteRetries.inc({ transport: 'kafka', model: this.name }, open.length);
      try {
        await this.producer.send({ topic: this.options.requestTopic, acks: -1, messages: open.map((i) => this.request(waiters[i]!, inputs[i]!)) });
      } catch (error) {
        lastError = error;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(open.map((i) => waiters[i]!.done)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    const attempts = this.retries + 1;
    const reason = `no reply on ${this.options.replyTopic} to ${this.options.requestTopic} within ${attempts} attempt(s) of ${this.timeoutMs} ms${lastError === undefined ? '' : ` (last send error: ${describeError(lastError)})`}`;
    return waiters.map((w) => {
      this.waiting.delete(w.id);
      return w.outcome ?? this.failure('inference', this.closing === undefined ? reason : 'closed while waiting for a reply');
    });
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
        const waiter = id === undefined ? undefined : this.waiting.get(id);
        if (waiter === undefined || waiter.outcome !== undefined) {
          if (id !== undefined) remoteDuplicates.inc({ model: this.name });
          return;
        }
        waiter.outcome = this.outcomeOf(message.value, waiter.started);
        this.waiting.delete(waiter.id);
        waiter.answered();
      },
    });
    await joined;
  }

  private waiter(): Waiter<Out> {
    let answered!: () => void;
    const done = new Promise<void>((resolve) => (answered = resolve));
    const waiter: Waiter<Out> = { id: randomUUID(), outcome: undefined, started: performance.now(), answered, done };
    this.waiting.set(waiter.id, waiter);
    return waiter;
  }

  private request(waiter: Waiter<Out>, input: ScoreInput<In>): Message {
    const headers: IHeaders = { [ServingHeaders.correlationId]: waiter.id, [ServingHeaders.replyTo]: this.options.replyTopic };
    if (this.options.model !== undefined) headers[ServingHeaders.model] = this.options.model;
    if (this.options.version !== undefined) headers[ServingHeaders.version] = this.options.version;
    return { key: recordKey(input.key), value: JSON.stringify(input.value), headers };
  }

  private outcomeOf(value: Buffer | null, started: number): ScoreOutcome<Out> {
    let reply: Partial<PredictionReply<Out> & ErrorReply>;
    try {
      reply = JSON.parse(value?.toString('utf8') ?? '') as Partial<PredictionReply<Out> & ErrorReply>;
    } catch (error) {
      return this.failure('inference', `the server's reply is not JSON: ${describeError(error)}`);
    }
    if (reply.prediction !== undefined) {
      const prediction: Prediction<Out> = { ...reply.prediction, latencyMs: performance.now() - started };
      return { ok: true, prediction };
    }
    return this.failure(isStage(reply.stage) ? reply.stage : 'inference', reply.error ?? 'the server replied with neither a prediction nor an error');
  }

  private failure(stage: ScoreStage, message: string, cause?: unknown): ScoreOutcome<Out> {
    const relayed = relayedModelError(message, this.name);
    return { ok: false, stage, error: new ModelError(relayed.message, { model: this.name, version: relayed.version, stage, cause }) };
  }
}
