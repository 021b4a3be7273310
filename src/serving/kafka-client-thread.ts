/**
 * The Kafka client of a remote model, on its own worker thread (started by remote-kafka.ts): it
 * sends the request records, reads the reply topic, matches replies to requests by correlation id,
 * sends a request again after its timeout and drops duplicate replies. Producing, fetching and
 * decoding replies cost the stream's thread most of its time per record when they ran there
 * (docs/deployment-modes.md, "Where a request waits"); here they overlap with its processing.
 */
import '../transport/kafkajs-patches.ts';
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type IHeaders, type Message, type Producer } from 'kafkajs';
import { describeError } from '../ml/model.ts';
import { createTopicsAndWait } from '../transport/create-topics.ts';
import { kafkaLogCreator } from './kafka-log.ts';
import type { FromClientThread, KafkaClientSettings, ToClientThread } from './kafka-client-messages.ts';
import { ServingHeaders } from './protocol.ts';

/** One request record in flight: its correlation id and, once it came, the reply's value. */
interface Exchange {
  id: string;
  replied: boolean;
  reply: Buffer | null;
  /** The reply's `accepts` header. */
  accepts: string | undefined;
  answered: () => void;
}

class KafkaClientThread {
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly groupId = `tributary-remote-${randomUUID()}`;
  private readonly waiting = new Map<string, Exchange>();
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly settings: KafkaClientSettings, private readonly post: (message: FromClientThread) => void) {
    const kafka = new Kafka({ clientId: `tributary-remote-${settings.name}`, brokers: settings.brokers, logLevel: logLevel.ERROR, logCreator: kafkaLogCreator((line) => console.error(`tributary remoteModel(${settings.name}): ${line}`)) });
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 3, initialRetryTime: 100 } });
    this.consumer = kafka.consumer({ groupId: this.groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 50 });
    this.admin = kafka.admin();
  }

  /** Connects, creates the reply topic when missing and starts reading replies from its current end. */
  async start(): Promise<void> {
    const { replyTopic } = this.settings;
    this.started = true;
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
          if (id !== undefined) this.post({ op: 'duplicate' });
          return;
        }
        exchange.replied = true;
        exchange.reply = message.value;
        const accepts = message.headers?.[ServingHeaders.accepts];
        exchange.accepts = (Array.isArray(accepts) ? accepts[0] : accepts)?.toString();
        this.waiting.delete(exchange.id);
        exchange.answered();
      },
    });
    await joined;
  }

  /** Sends one request until its reply comes, at most `retries` more times, `waitMs` apart, and posts the answer. */
  async exchange(request: Extract<ToClientThread, { op: 'exchange' }>): Promise<void> {
    let answered!: () => void;
    const done = new Promise<void>((resolve) => (answered = resolve));
    const exchange: Exchange = { id: randomUUID(), replied: false, reply: null, accepts: undefined, answered };
    this.waiting.set(exchange.id, exchange);
    const headers: IHeaders = { ...request.headers, [ServingHeaders.correlationId]: exchange.id, [ServingHeaders.replyTo]: this.settings.replyTopic };
    const value = typeof request.value === 'string' ? request.value : Buffer.from(request.value.buffer, request.value.byteOffset, request.value.byteLength);
    const message: Message = { key: exchange.id, value, headers };
    let lastError: unknown;
    try {
      for (let attempt = 0; attempt <= this.settings.retries && this.closing === undefined && !exchange.replied; attempt++) {
        if (attempt > 0) this.post({ op: 'retried', instances: request.instances });
        try {
          await this.producer.send({ topic: this.settings.requestTopic, acks: -1, messages: [message] });
        } catch (error) {
          lastError = error;
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, request.waitMs)))]);
        clearTimeout(timer);
      }
    } finally {
      this.waiting.delete(exchange.id);
    }
    if (exchange.replied) this.post({ op: 'answer', id: request.id, ok: true, value: exchange.reply?.toString('utf8') ?? null, accepts: exchange.accepts });
    else this.post({ op: 'answer', id: request.id, ok: false, closed: this.closing !== undefined, lastSendError: lastError === undefined ? undefined : describeError(lastError) });
  }

  /** Fails what waits, leaves and deletes its reply consumer group, disconnects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const waiter of this.waiting.values()) waiter.answered();
      if (!this.started) return;
      await this.consumer.disconnect();
      await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
      await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
    })();
    return this.closing;
  }
}

const port = parentPort!;
const client = new KafkaClientThread(workerData as KafkaClientSettings, (message) => port.postMessage(message));
const starting = client.start().then(
  () => port.postMessage({ op: 'started' } satisfies FromClientThread),
  (error: unknown) => port.postMessage({ op: 'failed', message: describeError(error) } satisfies FromClientThread),
);
port.on('message', (message: ToClientThread) => {
  if (message.op === 'exchange') void starting.then(() => client.exchange(message));
  else
    void starting
      .then(() => client.close())
      .catch((error: unknown) => console.error(`tributary remoteModel(${(workerData as KafkaClientSettings).name}): closing its Kafka client failed: ${describeError(error)}`))
      .finally(() => port.postMessage({ op: 'closed' } satisfies FromClientThread));
});
