import './kafkajs-patches.ts';
import {
  Kafka,
  type ConfigResourceTypes,
  Partitioners,
  logLevel as LogLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type logCreator,
  type Message,
  type TopicMessages,
} from 'kafkajs';
import type { Headers } from '../util/headers.ts';
import { BATCH_OVERHEAD_BYTES, chunkEnd, type ChunkLimits } from './chunks.ts';
import { copartitionedAssigner } from './copartitioned-assigner.ts';
import { createTopicsAndWait } from './create-topics.ts';
import { KafkaTransactionalProducer, readCommitted } from './kafka-transactional.ts';
import { laneOf, ProducerLane, topicSpread, type LaneShared, type PlacedRecord } from './producer-lanes.ts';
import { partitionForKey } from './partitioner.ts';
import type { ConsumerHandlers, SubscribeOptions, TopicLimits, TopicPartition, TopicPartitionOffset, TopicSpec, TransactionalProducer, Transport } from './transport.ts';
import { tpKey } from './transport.ts';
import type { IncomingRecord, OutgoingRecord } from './types.ts';

/** Options of the kafkajs transport. */
export interface KafkaTransportOptions {
  brokers: string[];
  clientId?: string;
  /** kafkajs log level (default WARN, printed one line each on stderr). */
  logLevel?: LogLevel;
  /** How long `connect` tries before giving up (default 8000 ms). */
  connectTimeoutMs?: number;
  /**
   * Longest a fetch waits for new records; also how soon a resumed partition is fetched again
   * (default 100 ms: at 500 ms, each pause for backpressure cost up to half a second of latency).
   */
  maxWaitTimeMs?: number;
  /** Upper bound of the bytes sent in one produce request (default 512 KiB). */
  maxBatchBytes?: number;
  /**
   * Idempotent producers, each owning a fixed share of the partitions (default 2): kafkajs lets
   * one have a single produce request in flight, so with several one request's wait for its
   * acknowledgement no longer holds up every other partition's records.
   */
  producerLanes?: number;
}

/** Kafka could not be reached at `connect`. */
export class KafkaUnreachableError extends Error {
  constructor(
    readonly brokers: string[],
    cause: unknown,
  ) {
    super(
      `cannot reach Kafka at ${brokers.join(',')}: ${cause instanceof Error ? cause.message : String(cause)}; ` +
        'start it with `tributary services up` or pass --brokers',
      { cause },
    );
    this.name = 'KafkaUnreachableError';
  }
}

/**
 * kafkajs's ConfigResourceTypes.TOPIC. The enum is not imported as a value: Node cannot see it among
 * the named exports of kafkajs (CommonJS) when this file runs compiled.
 */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

const MAX_BATCH_RECORDS = 10_000;
const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;
const DEFAULT_PRODUCER_LANES = 2;
/** Messages about normal operation (a rebalance), not a problem. */
const ROUTINE_MESSAGES = ['The group is rebalancing, re-joining'];

const compactLogger: logCreator =
  () =>
  ({ namespace, label, log }) => {
    if (ROUTINE_MESSAGES.some((m) => log.message.startsWith(m))) return;
    // An error response is also thrown to its caller, which retries it or reports it: no need to print it twice.
    if (namespace === 'Connection' && log.message.startsWith('Response ')) return;
    const error = typeof log.error === 'string' ? `: ${log.error}` : '';
    console.error(`kafkajs ${label} [${namespace}] ${log.message}${error}`);
  };

/**
 * A `Transport` on a Kafka cluster through kafkajs: idempotent producers that batch in the
 * background (see `ProducerLane`), a consumer group member with the co-partitioning assignor, and the admin client.
 */
export class KafkaTransport implements Transport {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly lanes: ProducerLane[];
  private readonly laneShared: LaneShared;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private signalClosed!: (value: 'closed') => void;
  private readonly closedSignal = new Promise<'closed'>((resolve) => (this.signalClosed = resolve));

  private readonly partitionCache = new Map<string, number>();
  /** `max.message.bytes` of the topics `topicLimits` described: a request keeps each topic's records under it. */
  private readonly maxMessageBytes = new Map<string, number>();
  private readonly roundRobin = new Map<string, number>();
  /** Records of topics whose partition count is not known yet, in the order sent (all later ones wait behind them). */
  private unplaced: OutgoingRecord[] = [];
  private placing: Promise<void> | undefined;
  /** `topicSpread` per topic, computed once (it is read for every record sent). */
  private readonly spreads = new Map<string, number>();

  private consumer: Consumer | undefined;
  private handlers: ConsumerHandlers | undefined;
  private heartbeatIntervalMs = 3_000;
  private assigned = new Set<string>();
  private assignedList: TopicPartition[] = [];
  private readonly paused = new Map<string, TopicPartition>();
  private readonly pendingSeeks = new Map<string, TopicPartitionOffset>();
  /** Rebalance callbacks run one after the other on this chain; batches wait for it to be idle. */
  private gate: Promise<void> = Promise.resolve();
  private gatePending = 0;
  private crashed = false;

  constructor(private readonly options: KafkaTransportOptions) {
    this.kafka = new Kafka({
      brokers: options.brokers,
      clientId: options.clientId ?? 'tributary',
      logLevel: options.logLevel ?? LogLevel.WARN,
      logCreator: compactLogger,
    });
    this.admin = this.kafka.admin();
    this.laneShared = {
      failure: undefined,
      chunkLimits: () => this.chunkLimits(),
      topicMessages: (chunk) => this.placedTopicMessages(chunk),
    };
    const lanes = options.producerLanes ?? DEFAULT_PRODUCER_LANES;
    if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`producerLanes must be an integer >= 1, got ${lanes}`);
    this.lanes = Array.from(
      { length: lanes },
      () =>
        new ProducerLane(
          this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner }),
          this.laneShared,
        ),
    );
  }

  connect(): Promise<void> {
    this.connecting ??= this.connectClients().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  async topicNames(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const wanted = new Set(topics);
    const counts = new Map<string, number>();
    if (wanted.size === 0) return counts;
    // Asking for all topics: asking for a missing one makes kafkajs retry for half a minute.
    const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics: [] });
    for (const { name, partitions } of metadata) {
      if (!wanted.has(name)) continue;
      counts.set(name, partitions.length);
      this.partitionCache.set(name, partitions.length);
    }
    return counts;
  }

  async topicLimits(topics: string[]): Promise<Map<string, TopicLimits>> {
    const limits = new Map<string, TopicLimits>();
    if (topics.length === 0) return limits;
    const { resources } = await this.admin.describeConfigs({
      resources: topics.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: [...LIMIT_CONFIGS] })),
      includeSynonyms: false,
    });
    for (const { resourceName, configEntries, errorCode } of resources) {
      if (errorCode !== 0) continue;
      const config = new Map(configEntries.map((entry) => [entry.configName, entry.configValue ?? '']));
      const topicLimits = parseTopicLimits(config);
      limits.set(resourceName, topicLimits);
      if (topicLimits.maxMessageBytes !== undefined) this.maxMessageBytes.set(resourceName, topicLimits.maxMessageBytes);
    }
    return limits;
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    if (topics.length === 0) return;
    await createTopicsAndWait(
      this.admin,
      topics.map(({ topic, partitions, configs }) => ({
        topic,
        numPartitions: partitions,
        ...(configs ? { configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) } : {}),
      })),
    );
  }

  async subscribe(options: SubscribeOptions, handlers: ConsumerHandlers): Promise<void> {
    if (this.closed) throw new Error('the Kafka transport is closed');
    if (this.consumer) throw new Error('already subscribed: one transport joins one group');
    this.handlers = handlers;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000;
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      partitionAssigners: [copartitionedAssigner({ copartitionGroups: options.copartitionGroups, ownedPartitions: () => this.assignedList })],
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 100,
      ...(options.sessionTimeoutMs !== undefined ? { sessionTimeout: options.sessionTimeoutMs } : {}),
      ...(options.heartbeatIntervalMs !== undefined ? { heartbeatInterval: options.heartbeatIntervalMs } : {}),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.joined(payload.memberAssignment));
    consumer.on(consumer.events.REBALANCING, () => this.enqueue(async () => handlers.onRebalancing?.()));
    // Batches of only markers or aborted records never reach eachBatch; kafkajs reports them here.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0 || payload.firstOffset === null) return;
      handlers.onSkipped?.({ topic: payload.topic, partition: payload.partition }, Number(payload.firstOffset), Number(payload.lastOffset) + 1);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.crash(payload.error);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: options.topics, fromBeginning: options.autoOffsetReset !== 'latest' });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch: (payload) => this.eachBatch(payload) });
    } catch (error) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  seek(position: TopicPartitionOffset): void {
    const key = tpKey(position.topic, position.partition);
    if (!this.assigned.has(key) || !this.trySeek(position)) this.pendingSeeks.set(key, { ...position });
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.set(tpKey(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition });
    this.tryConsumer((consumer) => consumer.pause(byTopic(partitions)));
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(tpKey(tp.topic, tp.partition));
    this.tryConsumer((consumer) => consumer.resume(byTopic(partitions)));
  }

  async committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<Map<string, number>> {
    const wanted = new Set(partitions.map(({ topic, partition }) => tpKey(topic, partition)));
    const committed = new Map<string, number>();
    if (wanted.size === 0) return committed;
    const topics = [...new Set(partitions.map((tp) => tp.topic))];
    for (const { topic, partitions: offsets } of await this.admin.fetchOffsets({ groupId, topics })) {
      for (const { partition, offset } of offsets) {
        const key = tpKey(topic, partition);
        if (wanted.has(key) && Number(offset) >= 0) committed.set(key, Number(offset));
      }
    }
    return committed;
  }

  async offsetRange(topics: string[]): Promise<Map<string, { low: number; high: number }>> {
    const ranges = new Map<string, { low: number; high: number }>();
    for (const topic of new Set(topics)) {
      for (const { partition, low, high } of await this.admin.fetchTopicOffsets(topic)) {
        ranges.set(tpKey(topic, partition), { low: Number(low), high: Number(high) });
      }
    }
    return ranges;
  }

  send(record: OutgoingRecord): void {
    if (this.closed) throw new Error(`cannot send to '${record.topic}': the Kafka transport is closed`);
    if (this.unplaced.length > 0 || (record.partition === undefined && !this.partitionCache.has(record.topic))) {
      this.unplaced.push(record);
      this.placing ??= this.placeWaiting().finally(() => (this.placing = undefined));
      return;
    }
    this.place(record);
  }

  async flush(): Promise<void> {
    while (this.placing) await this.placing;
    if (this.laneShared.failure) throw this.laneShared.failure;
    await Promise.all(this.lanes.map((lane) => lane.flush()));
  }

  /** Gives the record its partition (kept on the record) and queues it on that partition's lane. */
  private place(record: OutgoingRecord): void {
    const partition = (record.partition ??= this.partitionOf(record));
    let spread = this.spreads.get(record.topic);
    if (spread === undefined) this.spreads.set(record.topic, (spread = topicSpread(record.topic)));
    this.lanes[laneOf(spread, partition, this.lanes.length)]!.send(record as PlacedRecord);
  }

  /** Learns the partition counts the waiting records need, then places them in the order they were sent. */
  private async placeWaiting(): Promise<void> {
    const asked = new Set<string>();
    while (this.unplaced.length > 0) {
      const unknown = [...new Set(this.unplaced.filter((r) => r.partition === undefined && !this.partitionCache.has(r.topic)).map((r) => r.topic))];
      try {
        if (unknown.length > 0) await this.partitionCounts(unknown);
      } catch (error) {
        this.laneShared.failure ??= new Error(`sending records to Kafka failed: ${errorText(error)}`, { cause: error });
      }
      for (const topic of unknown) asked.add(topic);
      let next = 0;
      for (; next < this.unplaced.length; next++) {
        const record = this.unplaced[next]!;
        if (record.partition === undefined && !this.partitionCache.has(record.topic)) {
          // Sent while the counts were asked for: ask again. Asked and still unknown: it does not exist.
          if (!asked.has(record.topic)) break;
          this.laneShared.failure ??= new Error(`sending records to Kafka failed: topic '${record.topic}' does not exist`);
        }
        if (!this.laneShared.failure) this.place(record);
      }
      this.unplaced = this.unplaced.slice(next);
    }
  }

  async commitOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    if (!this.consumer) throw new Error('commitOffsets needs a group: call subscribe first');
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })));
  }

  async deleteRecords(offsets: TopicPartitionOffset[]): Promise<void> {
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const { topic, partition, offset } of offsets) {
      const partitions = byTopic.get(topic) ?? [];
      partitions.push({ partition, offset: String(offset) });
      byTopic.set(topic, partitions);
    }
    for (const [topic, partitions] of byTopic) await this.admin.deleteTopicRecords({ topic, partitions });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    if (this.closed) return Promise.reject(new Error('the Kafka transport is closed'));
    return KafkaTransactionalProducer.create(this.kafka, transactionalId, (records) => this.topicMessages(records), () => this.chunkLimits());
  }

  async readCommitted(from: TopicPartitionOffset[], onRecords: (records: IncomingRecord[]) => void, timeoutMs = 120_000): Promise<void> {
    const ranges = await this.offsetRange(from.map((tp) => tp.topic));
    const ends = new Map([...ranges].map(([key, { high }]) => [key, high]));
    await readCommitted(this.kafka, ends, from, onRecords, timeoutMs);
  }

  private async connectClients(): Promise<void> {
    const timeout = this.options.connectTimeoutMs ?? 8_000;
    // A throwaway client with few retries answers "is Kafka there?" quickly; the real clients keep
    // kafkajs's patient retries for the rest of their life.
    const probe = new Kafka({
      brokers: this.options.brokers,
      clientId: `${this.options.clientId ?? 'tributary'}-probe`,
      logLevel: LogLevel.NOTHING,
      connectionTimeout: Math.min(3_000, timeout),
      requestTimeout: timeout,
      retry: { retries: 2, initialRetryTime: 250, maxRetryTime: timeout / 3 },
    }).admin();
    try {
      await probe.connect();
    } catch (error) {
      throw new KafkaUnreachableError(this.options.brokers, error);
    } finally {
      await probe.disconnect().catch(() => undefined);
    }
    await this.admin.connect();
    await Promise.all(this.lanes.map((lane) => lane.producer.connect()));
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.signalClosed('closed');
    const errors: unknown[] = [];
    const attempt = async (step: () => Promise<void>): Promise<void> => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    if (this.consumer) await attempt(() => this.consumer!.disconnect());
    // Records queued before close still go out (the caller normally flushed already).
    if (this.placing || this.lanes.some((lane) => lane.pending > 0)) await attempt(() => this.flush());
    for (const lane of this.lanes) await attempt(() => lane.producer.disconnect());
    await attempt(() => this.admin.disconnect());
    if (errors.length > 0) throw errors[0];
  }

  // --- consumer ---

  /** GROUP_JOIN: kafkajs fetches nothing until this returns, and batches then wait for `onAssignment`. */
  private joined(memberAssignment: { [topic: string]: number[] }): void {
    const partitions = Object.entries(memberAssignment)
      .flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    this.assignedList = partitions;
    this.assigned = new Set(partitions.map(({ topic, partition }) => tpKey(topic, partition)));
    // After a crash kafkajs restarts with a fresh consumer that forgot pauses and seeks: apply ours again.
    if (this.paused.size > 0) this.tryConsumer((consumer) => consumer.pause(byTopic([...this.paused.values()])));
    // Seeks made while the partition was not assigned apply to this assignment or are dropped.
    for (const [key, position] of this.pendingSeeks) if (this.assigned.has(key)) this.trySeek(position);
    this.pendingSeeks.clear();
    const handlers = this.handlers!;
    this.enqueue(() => handlers.onAssignment(partitions.map((tp) => ({ ...tp }))));
  }

  private enqueue(step: () => Promise<void>): void {
    this.gatePending++;
    this.gate = this.gate
      .then(step)
      .catch((error: unknown) => this.crash(error))
      .finally(() => this.gatePending--);
  }

  private async eachBatch({ batch, heartbeat, isStale, isRunning }: EachBatchPayload): Promise<void> {
    await this.waitForGate(heartbeat);
    // A seek made meanwhile (typically by onAssignment) makes the batch stale: kafkajs refetches.
    if (this.closed || this.crashed || !isRunning() || isStale()) return;
    const { topic, partition } = batch;
    const first = batch.messages[0];
    if (!first) return;
    if (this.paused.has(tpKey(topic, partition))) {
      // Paused while the batch waited: rewind so that nothing is skipped when it resumes.
      this.trySeek({ topic, partition, offset: Number(first.offset) });
      return;
    }
    const messages = batch.messages;
    const records = new Array<IncomingRecord>(messages.length);
    // Records of one input line share their timestamp: its text is parsed once per run, not per record.
    let timestampText: string | undefined;
    let timestamp = 0;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (message.timestamp !== timestampText) {
        timestampText = message.timestamp;
        timestamp = Number(timestampText);
      }
      records[i] = {
        topic,
        partition,
        offset: Number(message.offset),
        key: message.key ?? null,
        value: message.value ?? null,
        timestamp,
        headers: fromKafkaHeaders(message.headers),
      };
    }
    try {
      this.handlers!.onRecords(records);
      // A batch may end with a transaction marker after its last record.
      const next = Number(batch.lastOffset()) + 1;
      const after = records[records.length - 1]!.offset + 1;
      if (next > after) this.handlers!.onSkipped?.({ topic, partition }, after, next);
    } catch (error) {
      this.crash(error);
    }
  }

  private async waitForGate(heartbeat: () => Promise<void>): Promise<void> {
    while (this.gatePending > 0 && !this.closed) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(resolve, this.heartbeatIntervalMs, 'tick')));
      const outcome = await Promise.race([this.gate.then(() => 'idle' as const), tick, this.closedSignal]);
      clearTimeout(timer);
      // Long restores must not cost the membership: keep heartbeating (this throws when a rebalance started).
      if (outcome === 'tick') await heartbeat();
    }
  }

  private crash(error: unknown): void {
    if (this.crashed || this.closed) return;
    this.crashed = true;
    this.tryConsumer((consumer) => consumer.pause(byTopic(this.assignedList)));
    this.handlers?.onCrash?.(error instanceof Error ? error : new Error(String(error)));
  }

  private trySeek(position: TopicPartitionOffset): boolean {
    return this.tryConsumer((consumer) => consumer.seek({ topic: position.topic, partition: position.partition, offset: String(position.offset) }));
  }

  /** Runs `action` when kafkajs has a running consumer (between a crash and its restart it has none). */
  private tryConsumer(action: (consumer: Consumer) => void): boolean {
    if (!this.consumer) return false;
    try {
      action(this.consumer);
      return true;
    } catch {
      return false;
    }
  }

  // --- producer ---

  private chunkLimits(): ChunkLimits {
    const maxBytes = this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    return {
      maxRecords: MAX_BATCH_RECORDS,
      maxBytes,
      topicBytes: (topic) => {
        const max = this.maxMessageBytes.get(topic);
        return max === undefined ? maxBytes : Math.min(maxBytes, max - BATCH_OVERHEAD_BYTES);
      },
    };
  }

  /** Records as kafkajs messages by topic, each placed in its partition (learning partition counts it does not know). */
  private async topicMessages(chunk: OutgoingRecord[]): Promise<TopicMessages[]> {
    const unknown = new Set(chunk.filter((r) => r.partition === undefined && !this.partitionCache.has(r.topic)).map((r) => r.topic));
    if (unknown.size > 0) await this.partitionCounts([...unknown]);
    return this.placedTopicMessages(chunk);
  }

  /** Records as kafkajs messages by topic; a record without a partition gets it from its key (the count must be known). */
  private placedTopicMessages(chunk: OutgoingRecord[]): TopicMessages[] {
    const byTopic: TopicMessages[] = [];
    // Records of one topic come in runs (a task's sink writes them together): a topic's list is looked up once per run.
    let topic: string | undefined;
    let messages: Message[] = [];
    for (const record of chunk) {
      if (record.topic !== topic) {
        topic = record.topic;
        const known = byTopic.find((entry) => entry.topic === topic);
        if (known !== undefined) messages = known.messages;
        else byTopic.push({ topic, messages: (messages = []) });
      }
      messages.push({
        key: record.key,
        value: record.value,
        partition: record.partition ?? this.partitionOf(record),
        timestamp: String(record.timestamp),
        headers: toKafkaHeaders(record.headers),
      });
    }
    return byTopic;
  }

  private partitionOf(record: OutgoingRecord): number {
    const count = this.partitionCache.get(record.topic);
    if (count === undefined) throw new Error(`topic '${record.topic}' does not exist`);
    if (record.key) return partitionForKey(record.key, count);
    const next = this.roundRobin.get(record.topic) ?? 0;
    this.roundRobin.set(record.topic, next + 1);
    return next % count;
  }
}

function byTopic(partitions: TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) grouped.set(topic, [...(grouped.get(topic) ?? []), partition]);
  return [...grouped].map(([topic, ps]) => ({ topic, partitions: ps }));
}

/** The topic configs `topicLimits` reads. */
const LIMIT_CONFIGS = ['cleanup.policy', 'retention.ms', 'max.message.bytes', 'message.timestamp.type', 'message.timestamp.before.max.ms', 'message.timestamp.after.max.ms'] as const;

/** A topic's limits from its configs; a bound of Long.MAX_VALUE (or anything past 2^53) is no bound. */
export function parseTopicLimits(config: ReadonlyMap<string, string>): TopicLimits {
  const bound = (name: string): number | undefined => {
    const value = Number(config.get(name));
    return Number.isFinite(value) && value >= 0 && value < Number.MAX_SAFE_INTEGER ? value : undefined;
  };
  const limits: TopicLimits = { compacted: (config.get('cleanup.policy') ?? '').includes('compact') };
  const retentionMs = bound('retention.ms');
  if (retentionMs !== undefined) limits.retentionMs = retentionMs;
  const maxMessageBytes = bound('max.message.bytes');
  if (maxMessageBytes !== undefined) limits.maxMessageBytes = maxMessageBytes;
  if ((config.get('message.timestamp.type') ?? 'CreateTime') === 'CreateTime') {
    const beforeMaxMs = bound('message.timestamp.before.max.ms');
    const afterMaxMs = bound('message.timestamp.after.max.ms');
    limits.timestamps = { ...(beforeMaxMs !== undefined ? { beforeMaxMs } : {}), ...(afterMaxMs !== undefined ? { afterMaxMs } : {}) };
  }
  return limits;
}

/** Our headers to kafkajs's: strings and buffers pass as they are, undefined values are left out (the object itself when it has none). */
export function toKafkaHeaders(headers: Headers): IHeaders {
  let clean = true;
  for (const name in headers) {
    if (headers[name] === undefined || !Object.hasOwn(headers, name)) {
      clean = false;
      break;
    }
  }
  if (clean) return headers;
  const out: IHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && Object.hasOwn(headers, name)) out[name] = value;
  }
  return out;
}

/** kafkajs's headers (buffers) to ours (UTF-8 strings); of a repeated header the last one wins, as Kafka's `lastHeader`. */
export function fromKafkaHeaders(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  if (headers === undefined) return out;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name];
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined) continue;
    out[name] = Buffer.isBuffer(last) ? last.toString() : last; // UTF-8, toString's own default and fastest call
  }
  return out;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
