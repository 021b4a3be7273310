import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import type { Registry } from 'prom-client';
import { RuntimeMetrics } from '../metrics/runtime-metrics.ts';
import type { ModelRecord } from '../ml/model-records.ts';
import type { StateBackend } from '../state/backend.ts';
import { createInMemoryStore } from '../state/memory-stores.ts';
import { RedisStateBackend } from '../state/redis-backend.ts';
import type { ReadOnlyKeyValueStore, ReadOnlySessionStore, ReadOnlyVersionedKeyValueStore, ReadOnlyWindowStore, StateStore } from '../state/store.ts';
import { TopologyError } from '../topology/errors.ts';
import type { SubTopology } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';
import { KafkaTransport } from '../transport/kafka-transport.ts';
import { readCommittedFilterFixed } from '../transport/kafkajs-patches.ts';
import { InMemoryBroker } from '../transport/memory-broker.ts';
import { InMemoryTransport } from '../transport/memory-transport.ts';
import { parseTpKey, tpKey, type TopicLimits, type TopicPartition, type Transport } from '../transport/transport.ts';
import type { IncomingRecord, OutgoingRecord } from '../transport/types.ts';
import { errorMessage, StreamsError } from './errors.ts';
import { changelogTopics, ExactlyOnceTask } from './exactly-once.ts';
import { loadGlobalTables } from './global-tasks.ts';
import { Mutex } from './mutex.ts';
import { prepareTopics, timeRetentionWarning } from './topics.ts';
import { StallDetector } from './stall-detector.ts';
import { nextQueue, PartitionQueue } from './partition-queue.ts';
import { keyValueView, sessionView, versionedView, windowView } from './store-views.ts';
import type { KafkaStreamsConfig, RuntimeSnapshot, StallReport, StreamsState } from './streams-config.ts';
import { applySkip, type RunningTask } from './running-task.ts';
import { DEFAULT_REPARTITION_PURGE_INTERVAL_MS, RepartitionPurger } from './repartition-purge.ts';
import { TaskCommitter } from './task-commit.ts';
import { TaskRestorer } from './task-restore.ts';
import { StreamTask, type DeadLetterEvent, type TaskEnvironment } from './task.ts';
import { checkAdvertisedUrl, InstanceRegistry, type KeyQueryMetadata, type StreamsMetadata } from './streams-metadata.ts';
import { partitionForKey } from '../transport/partitioner.ts';
import { ShutdownMarker, type StreamsUncaughtExceptionHandler } from './uncaught-handler.ts';

export type { KeyQueryMetadata, StreamsMetadata } from './streams-metadata.ts';
export type { StreamsUncaughtExceptionHandler, StreamsUncaughtExceptionResponse } from './uncaught-handler.ts';
export type { KafkaStreamsConfig, RuntimeSnapshot, StallReport, StreamsState, WatchdogOptions } from './streams-config.ts';
export type { DeadLetterEvent } from './task.ts';

/** What `store(name)` returns: the view that fits the store's type. */
export type QueryableStore = ReadOnlyKeyValueStore<unknown, unknown> | ReadOnlyWindowStore<unknown, unknown> | ReadOnlySessionStore<unknown, unknown>;


/** The broker's default `message.max.bytes` (1 048 588), less room for the record batch's and the record's own overhead. */
const DEFAULT_MAX_RECORD_BYTES = 1_048_588 - 512;
const DEFAULT_COMMIT_INTERVAL_MS = 1_000;
const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
const RECORDS_PER_TASK_PER_ROUND = 1_000;
const IDLE_WAIT_MS = 50;

/**
 * Runs a topology: on Kafka (consumer group, co-partitioned assignment, idempotent producer) with
 * state in Redis checkpointed atomically with offsets, or embedded on an in-memory broker with
 * in-memory state. One task per sub-topology × partition; each task picks its next record from
 * its partition queues by smallest timestamp.
 */
export class KafkaStreams {
  readonly applicationId: string;
  readonly metrics: RuntimeMetrics;
  /** The embedded broker (embedded mode only). */
  readonly broker: InMemoryBroker | undefined;
  private readonly transport: Transport;
  private readonly backend: StateBackend | undefined;
  private readonly stateSubject = new BehaviorSubject<StreamsState>('CREATED');
  private readonly metricsSubject = new Subject<RuntimeSnapshot>();
  private readonly stallSubject = new Subject<StallReport>();
  private readonly deadLetterSubject = new Subject<DeadLetterEvent>();
  private readonly tasks = new Map<string, RunningTask>();
  /** `topic:partition` → the queue of the task that owns it. */
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly partitionCounts = new Map<string, number>();
  private readonly produced = new Map<string, number>();
  private readonly stalls = new StallDetector();
  /** What `syncMetrics` has reported so far, per task and per topic. */
  private readonly reported = new Map<string, { processed: number; deadLettered: number; duplicates: number }>();
  private readonly reportedProduced = new Map<string, number>();
  private readonly lock = new Mutex();
  private readonly env: TaskEnvironment;
  private readonly commitIntervalMs: number;
  private readonly maxQueued: number;
  private readonly maxTaskIdleMs: number;
  private externalTopics: Set<string>;
  private readonly log: (message: string) => void;
  /** Kafka transactions per task (exactly-once on Kafka). */
  private readonly exactlyOnce: boolean;
  /** Transactional producers of retired tasks, closing. */
  private readonly producerCloses = new Set<Promise<void>>();
  private globalTask: StreamTask | undefined;
  private globalTransport: Transport | undefined;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private nextCommitAt = 0;
  private failure: Error | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastLag = 0;
  private retiredProcessed = 0;
  private retiredInput = 0;
  private retiredDeadLettered = 0;
  private lastSnapshot = { at: Date.now(), processed: 0 };
  private closing: Promise<void> | undefined;
  /** Topics models write to (drift alerts, shadow comparisons) known to exist or being created, so that such records never fail the producer. */
  private readonly modelTopics = new Map<string, Promise<void>>();
  private readonly committer: TaskCommitter;
  private readonly purger: RepartitionPurger;
  private readonly restorer: TaskRestorer;
  private readonly registry_: InstanceRegistry | undefined;
  private paused = false;
  private uncaughtHandler: StreamsUncaughtExceptionHandler | undefined;
  private readonly shutdownMarker: ShutdownMarker | undefined;
  private lastAssignment: TopicPartition[] = [];
  /** Times the tasks were replaced after an error (`REPLACE_THREAD`). */
  replacedTasks = 0;

  constructor(
    /** The topology run; at `start()` its pattern sources are resolved to the topics they match. */
    public topology: Topology,
    readonly config: KafkaStreamsConfig,
  ) {
    if (!config.applicationId || !/^[A-Za-z0-9._-]+$/.test(config.applicationId)) {
      throw new TopologyError(`applicationId must be letters, digits, '.', '_' or '-' (it names topics and the consumer group), got '${config.applicationId}'`);
    }
    this.applicationId = config.applicationId;
    this.metrics = new RuntimeMetrics(this.applicationId);
    this.commitIntervalMs = config.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    this.maxQueued = config.maxQueuedRecordsPerPartition ?? 2_000;
    this.maxTaskIdleMs = config.maxTaskIdleMs ?? 2_000;
    this.log = config.log ?? ((message) => console.warn(`tributary: ${message}`));
    const brokers = typeof config.brokers === 'string' ? config.brokers.split(',').map((b) => b.trim()).filter(Boolean) : config.brokers;
    if (config.transport) {
      this.transport = config.transport;
    } else if (brokers && brokers.length > 0) {
      this.transport = new KafkaTransport({ brokers, clientId: this.applicationId, ...(config.producerLanes !== undefined ? { producerLanes: config.producerLanes } : {}) });
    } else {
      this.broker = config.broker ?? new InMemoryBroker({ defaultPartitions: config.embeddedPartitions ?? 1 });
      this.transport = new InMemoryTransport(this.broker);
    }
    this.exactlyOnce = config.processingGuarantee === 'exactly-once' && !this.broker;
    if (this.exactlyOnce && (!this.transport.transactionalProducer || !this.transport.readCommitted)) {
      throw new TopologyError("processingGuarantee 'exactly-once' needs a transport with transactions (the Kafka transport); this one has none: use 'at-least-once'");
    }
    if (this.exactlyOnce && this.transport instanceof KafkaTransport && !readCommittedFilterFixed()) {
      throw new TopologyError(
        "processingGuarantee 'exactly-once' needs Tributary's fix to kafkajs's read_committed filter (kafkajs 2.2.4 delivers some aborted records), and it could not be installed because kafkajs was loaded before tributary: import 'tributary' before 'kafkajs' in your program",
      );
    }
    this.backend =
      config.stateBackend ??
      (config.redis
        ? new RedisStateBackend(config.redis, this.applicationId, {
            log: this.log,
            ...(config.redisOutageTimeoutMs !== undefined ? { outageTimeoutMs: config.redisOutageTimeoutMs } : {}),
          })
        : undefined);
    this.externalTopics = new Set(topology.sourceTopics());
    this.env = {
      applicationId: this.applicationId,
      errorHandling: config.errorHandling ?? 'dead-letter',
      cacheMaxEntries: config.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
      ...(config.maxRecordBytes !== undefined || !this.broker ? { maxRecordBytes: config.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES } : {}),
      clock: Date.now,
      send: (record) => this.send(record),
      partitionsFor: (topic) => this.partitionCounts.get(topic),
      createStore: (spec) => createInMemoryStore(spec),
      resolveTopic: (topic, internal) => (internal ? `${this.applicationId}-${topic}` : topic),
      emitModelRecord: (record) => this.writeModelRecord(record),
      onDeadLetter: (event) => {
        this.metrics.deadLetteredByStage.inc({ stage: event.stage });
        this.deadLetterSubject.next(event);
      },
    };
    const log = (message: string): void => this.log(message);
    const retireTask = (rt: RunningTask): void => this.retireTask(rt);
    const common = { applicationId: this.applicationId, transport: this.transport, metrics: this.metrics, exactlyOnce: this.exactlyOnce, log, retireTask };
    const repartitionTopics = new Set(topology.internalTopics().map(({ topic }) => this.env.resolveTopic(topic, true)));
    this.purger = new RepartitionPurger(this.transport, repartitionTopics, config.repartitionPurgeIntervalMs ?? DEFAULT_REPARTITION_PURGE_INTERVAL_MS, log);
    this.committer = new TaskCommitter({ ...common, hasBackend: this.backend !== undefined, isCurrent: (rt) => this.tasks.get(rt.task.id) === rt, purger: this.purger });
    this.restorer = new TaskRestorer({ ...common, onRestoreProgress: config.onRestoreProgress });
    this.shutdownMarker = config.redis && !this.broker ? new ShutdownMarker(config.redis, this.applicationId) : undefined;
    if (config.advertisedUrl !== undefined) {
      const url = checkAdvertisedUrl(config.advertisedUrl);
      if (!config.redis || this.broker) throw new TopologyError('advertisedUrl needs redis and brokers: instances find each other through Redis (trib:{<applicationId>}:instances) and share tasks through the Kafka group');
      this.registry_ = new InstanceRegistry(config.redis, this.applicationId, url, Math.max(3_000, config.sessionTimeoutMs ?? 30_000), this.log);
    }
  }

  /** The lifecycle: CREATED → REBALANCING ⇄ RUNNING → PENDING_SHUTDOWN → NOT_RUNNING, or ERROR. */
  get state$(): Observable<StreamsState> {
    return this.stateSubject.asObservable();
  }

  get state(): StreamsState {
    return this.stateSubject.value;
  }

  /** Counters about once a second while running. */
  get metrics$(): Observable<RuntimeSnapshot> {
    return this.metricsSubject.asObservable();
  }

  /** Stalled partitions, as the watchdog finds them. */
  get stalls$(): Observable<StallReport> {
    return this.stallSubject.asObservable();
  }

  /** Every record the error policy dead-letters, with its stage and reason, as it happens. */
  get deadLetters$(): Observable<DeadLetterEvent> {
    return this.deadLetterSubject.asObservable();
  }

  /** The error that moved the application to ERROR, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** The Prometheus registry of this application (merge with `modelMetrics` to serve both). */
  get registry(): Registry {
    return this.metrics.registry;
  }

  /** The dead-letter topic. */
  get deadLetterTopic(): string {
    return `${this.applicationId}-dlq`;
  }

  /**
   * Connects, checks the topics (fails fast on a missing topic or a non-co-partitioned join),
   * creates internal topics, loads global tables and joins the group. Resolves once joined;
   * `state$` shows RUNNING once the first assignment is restored.
   */
  async start(): Promise<void> {
    if (this.state !== 'CREATED') throw new Error(`start() was already called (state ${this.state})`);
    this.setState('REBALANCING');
    try {
      await this.transport.connect();
      await this.backend?.connect();
      if (this.topology.sourcePatterns().length > 0) {
        this.topology = this.topology.withPatternsResolved(await this.transport.topicNames());
        this.externalTopics = new Set(this.topology.sourceTopics());
      }
      await this.registry_?.connect();
      await this.shutdownMarker?.watch((reason) => void this.fail(new Error(`another instance shut the whole application down (SHUTDOWN_APPLICATION): ${reason}`)));
      await this.prepareTopics();
      await loadGlobalTables({
        topology: this.topology,
        applicationId: this.applicationId,
        env: this.env,
        transport: this.transport,
        newTransport: () => (this.broker ? new InMemoryTransport(this.broker) : new KafkaTransport({ brokers: this.brokerList(), clientId: `${this.applicationId}-global` })),
        own: (task, transport) => {
          this.globalTask = task;
          this.globalTransport = transport;
        },
        onCrash: (error) => void this.fail(error),
      });
      const topics = this.streamSourceTopics();
      this.running = true;
      this.nextCommitAt = Date.now() + this.commitIntervalMs;
      this.loopDone = this.loop();
      await this.transport.subscribe(
        {
          groupId: this.applicationId,
          topics,
          copartitionGroups: this.topology.subTopologies.map((sub) => this.resolvedSources(sub)),
          autoOffsetReset: this.config.autoOffsetReset ?? 'earliest',
          ...(this.config.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: this.config.sessionTimeoutMs } : {}),
          ...(this.config.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: this.config.heartbeatIntervalMs } : {}),
        },
        {
          onAssignment: (partitions) => this.onAssignment(partitions),
          onRebalancing: () => this.onRebalancing(),
          onRecords: (records) => this.onRecords(records),
          onSkipped: (tp, from, next) => this.onSkipped(tp, from, next),
          onCrash: (error) => void this.fail(error),
        },
      );
    } catch (error) {
      await this.fail(error instanceof Error ? error : new Error(String(error)));
      throw this.failure;
    }
    this.timers.push(setInterval(() => this.emitSnapshot(), 1_000));
    if (this.config.watchdog !== false) {
      const interval = this.config.watchdog?.intervalMs ?? 10_000;
      this.timers.push(setInterval(() => void this.checkLag().catch((error: unknown) => this.log(`lag check failed: ${errorMessage(error)}`)), interval));
    }
    for (const timer of this.timers) timer.unref();
  }

  /** Stops gracefully: drains every task, commits, leaves the group, disconnects. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Resolves when the application has stopped (NOT_RUNNING); rejects with its error if it moved to ERROR. */
  whenStopped(): Promise<void> {
    return new Promise((resolve, reject) => {
      const subscription = this.stateSubject.subscribe((state) => {
        if (state === 'NOT_RUNNING') resolve();
        if (state === 'ERROR') reject(this.failure ?? new Error('the application failed'));
        if (state === 'NOT_RUNNING' || state === 'ERROR') queueMicrotask(() => subscription?.unsubscribe());
      });
    });
  }

  /** Resolves when the application reaches `state` (or rejects if it fails first). */
  waitForState(state: StreamsState, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        subscription.unsubscribe();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for state ${state} (state is ${this.state})`));
      }, timeoutMs);
      const subscription = this.stateSubject.subscribe((current) => {
        if (current === state || (current === 'ERROR' && state !== 'ERROR')) {
          clearTimeout(timer);
          queueMicrotask(() => subscription.unsubscribe());
          if (current === state) resolve();
          else reject(this.failure ?? new Error('the application failed'));
        }
      });
    });
  }

  /** The ids of the tasks this instance runs. */
  taskIds(): string[] {
    return [...this.tasks.keys()].sort();
  }

  /** Counters now. */
  snapshot(): RuntimeSnapshot {
    let processed = this.retiredProcessed;
    let processedInput = this.retiredInput;
    let deadLettered = this.retiredDeadLettered;
    for (const rt of this.tasks.values()) {
      processed += rt.task.metrics.processed;
      deadLettered += rt.task.metrics.deadLettered;
      processedInput += this.inputProcessed(rt);
    }
    const now = Date.now();
    const elapsed = Math.max(1, now - this.lastSnapshot.at);
    return {
      state: this.state,
      tasks: this.taskIds(),
      processed,
      processedInput,
      deadLettered,
      produced: Object.fromEntries(this.produced),
      lag: this.lastLag,
      recordsPerSecond: Math.round(((processed - this.lastSnapshot.processed) * 1000) / elapsed),
      commits: this.committer.count,
    };
  }

  /**
   * Records left to process per assigned source partition (`topic:partition` → lag): the end of
   * the partition minus the position this instance has processed up to.
   */
  async lag(): Promise<Map<string, number>> {
    const lags = new Map<string, number>();
    const topics = [...new Set([...this.queues.values()].map((q) => q.topic))];
    if (topics.length === 0) return lags;
    const ranges = await this.transport.offsetRange(topics);
    for (const [key, queue] of this.queues) {
      const high = ranges.get(key)?.high;
      if (high === undefined) continue;
      lags.set(key, Math.max(0, high - this.position(key, queue)));
    }
    this.lastLag = [...lags.values()].reduce((a, b) => a + b, 0);
    return lags;
  }

  /** Records still queued or in flight on this instance. */
  pendingRecords(): number {
    let pending = 0;
    for (const queue of this.queues.values()) pending += queue.size;
    for (const rt of this.tasks.values()) pending += rt.task.inFlight();
    return pending;
  }

  /** A read-only view over this instance's tasks of a key-value store (interactive query). */
  store<K = unknown, V = unknown>(name: string): ReadOnlyKeyValueStore<K, V> {
    // API.md's `app.store(name)` names any store: a window or session store gives its window or
    // session view at run time (`windowStore`/`sessionStore` give the same, typed).
    const type = this.topology.stores.get(name)?.type;
    if (type === 'window' || type === 'session') {
      const view: QueryableStore = type === 'window' ? this.windowStore(name) : this.sessionStore(name);
      return view as unknown as ReadOnlyKeyValueStore<K, V>;
    }
    const spec = this.storeSpec(name, 'key-value');
    return keyValueView<K, V>(() => this.localStores(name), spec.timestamped ?? false);
  }

  /** A read-only view over this instance's tasks of a window store (interactive query). */
  windowStore<K = unknown, V = unknown>(name: string): ReadOnlyWindowStore<K, V> {
    const spec = this.storeSpec(name, 'window');
    return windowView<K, V>(() => this.localStores(name), spec.timestamped ?? false);
  }

  /**
   * A read-only view over this instance's tasks of a versioned store (Kafka Streams'
   * `VersionedKeyQuery` and `MultiVersionedKeyQuery`): `get(key)`, `get(key, asOfTimestamp)` and
   * `getVersions(key, { fromTime, toTime, order })`.
   */
  versionedStore<K = unknown, V = unknown>(name: string): ReadOnlyVersionedKeyValueStore<K, V> {
    const spec = this.storeSpec(name, 'key-value');
    if (!spec.versioned) throw new TopologyError(`store '${name}' keeps no history: query it with store('${name}'), or create the table with { versioned: { historyRetention } }`);
    return versionedView<K, V>(() => this.localStores(name));
  }

  /** A read-only view over this instance's tasks of a session store (interactive query). */
  sessionStore<K = unknown, V = unknown>(name: string): ReadOnlySessionStore<K, V> {
    this.storeSpec(name, 'session');
    return sessionView<K, V>(() => this.localStores(name));
  }

  /** This instance's advertised URL (`advertisedUrl`), if any. */
  get advertisedUrl(): string | undefined {
    return this.registry_?.advertisedUrl;
  }

  /**
   * Kafka Streams' `metadataForAllStreamsClients()`: every live instance of the application with
   * its tasks, source partitions and stores, from what the instances publish in Redis. Without
   * `advertisedUrl`: this instance alone (host `'local'`).
   */
  async streamsMetadata(): Promise<StreamsMetadata[]> {
    if (!this.registry_) return [{ ...this.localMetadata(), host: 'local' }];
    return this.registry_.instances();
  }

  /**
   * Kafka Streams' `queryMetadataForKey(store, key, serializer)`: the instance whose task holds
   * `key` in `store`: the partition is murmur2 of the key serialized with the store's key serde
   * (as the producer placed it), over the store's source topic's partition count.
   */
  async queryMetadataForKey(storeName: string, key: unknown): Promise<KeyQueryMetadata> {
    const spec = this.topology.stores.get(storeName);
    if (!spec) throw new TopologyError(`no store named '${storeName}' in this topology (stores: ${[...this.topology.stores.keys()].join(', ') || 'none'})`);
    const sub = this.topology.subTopologies.find((s) => s.stores.includes(storeName));
    if (!sub || spec.global) throw new TopologyError(`store '${storeName}' is a global store: every instance holds all of it, query any`);
    const topic = this.resolvedSources(sub)[0]!;
    const count = this.partitionCounts.get(topic);
    if (count === undefined) throw new Error(`queryMetadataForKey needs the partition count of '${topic}': call it after start()`);
    const bytes = (spec.keySerde ?? this.sourceKeySerde(sub))?.serialize(key, topic);
    if (!bytes) throw new TopologyError(`store '${storeName}' has no key serde to place key ${JSON.stringify(key)} with`);
    const partition = partitionForKey(bytes, count);
    const taskId = `${sub.id}_${partition}`;
    const instances = await this.streamsMetadata();
    return { activeHost: instances.find((i) => i.tasks.includes(taskId))?.host, standbyHosts: [], partition, taskId };
  }

  /**
   * Kafka Streams' `setUncaughtExceptionHandler`: what to do when processing or a commit throws
   * (error policy `'fail'`, a fenced commit, a Redis outage past its timeout). Without one: `'SHUTDOWN_CLIENT'`.
   */
  setUncaughtExceptionHandler(handler: StreamsUncaughtExceptionHandler): void {
    if (this.state !== 'CREATED') throw new Error(`setUncaughtExceptionHandler() must be called before start() (state is ${this.state})`);
    this.uncaughtHandler = handler;
  }

  /** REPLACE_THREAD: drops every task without committing and reopens them from their checkpoints. */
  private async replaceTasks(): Promise<void> {
    this.replacedTasks++;
    await this.lock.run(async () => {
      for (const rt of [...this.tasks.values()]) this.retireTask(rt);
    });
    await this.onAssignment(this.lastAssignment);
    // A partition with neither checkpoint nor committed offset restarts where a new consumer
    // would (Kafka Streams' new thread): at the beginning with autoOffsetReset 'earliest'.
    if ((this.config.autoOffsetReset ?? 'earliest') !== 'earliest') return;
    const unpositioned = [...this.tasks.values()].flatMap((rt) => rt.queues.filter((q) => !rt.startPositions.has(tpKey(q.topic, q.partition))).map((queue) => ({ rt, queue })));
    if (unpositioned.length === 0) return;
    const ranges = await this.transport.offsetRange([...new Set(unpositioned.map(({ queue }) => queue.topic))]);
    await this.lock.run(async () => {
      for (const { rt, queue } of unpositioned) {
        const key = tpKey(queue.topic, queue.partition);
        const low = ranges.get(key)?.low ?? 0;
        if (this.tasks.get(rt.task.id) !== rt) continue;
        queue.reset(low);
        rt.startPositions.set(key, low);
        this.transport.seek({ topic: queue.topic, partition: queue.partition, offset: low });
      }
    });
  }

  /** Whether this instance hosts (runs, restored) the task of `taskId`. */
  hostsTask(taskId: string): boolean {
    return this.tasks.get(taskId)?.ready === true;
  }

  /**
   * Kafka Streams' `pause()`: stops fetching and processing on every task while staying in the
   * group (heartbeats go on, so no rebalance); commits go on for what was processed. `resume()` undoes it.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.transport.pause([...this.queues.values()].map((q) => ({ topic: q.topic, partition: q.partition })));
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.transport.resume([...this.queues.values()].filter((q) => !q.paused).map((q) => ({ topic: q.topic, partition: q.partition })));
    this.wake();
  }

  isPaused(): boolean {
    return this.paused;
  }

  /**
   * Kafka Streams' `cleanUp()`: deletes this application's state in Redis: every key under
   * `trib:{<applicationId>:*` (every task's stores, checkpoints and epochs, of ALL instances, since
   * they share Redis), the instance registry and the shutdown marker. Kafka topics and committed group offsets are kept,
   * so the next run restores nothing and replays its inputs from the committed offsets (or from
   * `autoOffsetReset` where none). Only before `start()` or after the application stopped. Returns the number of keys deleted.
   */
  async cleanUp(): Promise<number> {
    if (this.state !== 'CREATED' && this.state !== 'NOT_RUNNING' && this.state !== 'ERROR') {
      throw new Error(`cleanUp() deletes the state in Redis: call it before start() or after close() (state is ${this.state})`);
    }
    if (!this.config.redis) return 0;
    return RedisStateBackend.reset(this.config.redis, this.applicationId, { extraKeys: [`trib:{${this.applicationId}}:instances`, `trib:{${this.applicationId}}:shutdown`] });
  }

  private localMetadata(partitions?: TopicPartition[]): StreamsMetadata {
    const tasks = this.taskIds();
    const stores = new Set<string>();
    for (const sub of this.topology.subTopologies) if (tasks.some((t) => t.startsWith(`${sub.id}_`))) for (const name of sub.stores) stores.add(name);
    const topicPartitions = partitions ?? [...this.queues.values()].map((q) => ({ topic: q.topic, partition: q.partition }));
    return { host: this.registry_?.advertisedUrl ?? 'local', tasks, topicPartitions, stateStoreNames: [...stores].sort() };
  }

  private sourceKeySerde(sub: SubTopology) {
    for (const node of sub.nodes) if (node.kind === 'source' && node.keySerde) return node.keySerde as import('../serdes/serde.ts').Serde<unknown>;
    return undefined;
  }

  // ---------------------------------------------------------------- start-up

  private resolvedSources(sub: SubTopology): string[] {
    const internal = new Set(sub.internalSourceTopics);
    return sub.sourceTopics.map((topic) => this.env.resolveTopic(topic, internal.has(topic)));
  }

  private streamSourceTopics(): string[] {
    return [...new Set(this.topology.subTopologies.flatMap((sub) => this.resolvedSources(sub)))];
  }

  /** Checks external topics, validates co-partitioning and creates the internal, dead-letter and changelog topics. */
  private async prepareTopics(): Promise<void> {
    const counts = await prepareTopics(this.transport, this.topology, {
      resolveInternal: (topic) => this.env.resolveTopic(topic, true),
      deadLetterTopic: this.deadLetterTopic,
      createMissing: this.broker !== undefined || this.config.createTopics === true,
      // Embedded: the configured count. On Kafka (--create-topics): an output gets the inputs'
      // count, so that keys keep their partition; a missing input the broker's default.
      partitionsOf: (topic, inputs) => this.config.topics?.[topic]?.partitions ?? (this.broker ? (this.config.embeddedPartitions ?? 1) : (inputs ?? -1)),
      changelogs: this.exactlyOnce
        ? (known) => changelogTopics(this.topology.subTopologies, this.applicationId, (sub) => Math.max(1, ...this.resolvedSources(sub).map((t) => known.get(t) ?? 1)))
        : undefined,
    });
    for (const [topic, count] of counts) this.partitionCounts.set(topic, count);
    if (this.transport.topicLimits) {
      // What the broker refuses, checked before sending; without the right to describe configs,
      // the broker's refusal stays the only check.
      const written = [...this.topology.sinkTopics(), ...this.topology.internalTopics().map(({ topic }) => this.env.resolveTopic(topic, true)), this.deadLetterTopic];
      const described = [...new Set(written)].filter((topic) => counts.has(topic));
      this.env.topicLimits = await this.transport.topicLimits(described).catch((error: unknown) => {
        this.log(`could not read the output topics' configs (${errorMessage(error)}); records they refuse will fail the producer instead of going to the dead-letter topic`);
        return new Map<string, TopicLimits>();
      });
      const warning = timeRetentionWarning(this.env.topicLimits, this.purger.topics);
      if (warning) this.log(warning);
    }
  }

  private brokerList(): string[] {
    const brokers = this.config.brokers;
    return typeof brokers === 'string' ? brokers.split(',').map((b) => b.trim()) : (brokers ?? []);
  }

  // ---------------------------------------------------------------- assignment

  private async onAssignment(partitions: TopicPartition[]): Promise<void> {
    await this.lock.run(async () => {
      if (!this.running) return;
      this.lastAssignment = partitions;
      this.setState('REBALANCING');
      const wanted = new Map<string, { sub: SubTopology; partition: number }>();
      const assigned = new Set(partitions.map((p) => tpKey(p.topic, p.partition)));
      for (const sub of this.topology.subTopologies) {
        const topics = this.resolvedSources(sub);
        const numbers = new Set(partitions.filter((p) => topics.includes(p.topic)).map((p) => p.partition));
        for (const partition of numbers) wanted.set(`${sub.id}_${partition}`, { sub, partition });
      }
      const lost = [...this.tasks.entries()].filter(([id]) => !wanted.has(id)).map(([, rt]) => rt);
      if (lost.length > 0) {
        await this.committer.commit(lost).catch((error: unknown) => this.log(`commit of revoked tasks failed (the new owner replays from the last checkpoint): ${errorMessage(error)}`));
        for (const rt of lost) this.retireTask(rt);
      }
      const opened: RunningTask[] = [];
      for (const [id, { sub, partition }] of wanted) {
        if (this.tasks.has(id)) continue;
        opened.push(this.openTask(sub, partition, assigned));
      }
      await this.restorer.restore(opened);
      this.metrics.tasks.set(this.tasks.size);
      if (this.paused) this.transport.pause([...this.queues.values()].map((q) => ({ topic: q.topic, partition: q.partition })));
      await this.registry_?.assigned(this.localMetadata(partitions)).catch((error: unknown) => this.log(`could not publish this instance's tasks: ${errorMessage(error)}`));
      if (this.running) this.setState('RUNNING');
    });
    this.wake();
  }

  private openTask(sub: SubTopology, partition: number, assigned: ReadonlySet<string>): RunningTask {
    const eos = this.exactlyOnce ? new ExactlyOnceTask(this.applicationId) : undefined;
    const task = new StreamTask(sub, partition, eos ? eos.environment(this.env, (record) => this.countProduced(record)) : this.env, this.topology.stores);
    eos?.bind(task, this.topology.stores);
    const queues: PartitionQueue[] = [];
    for (const topic of this.resolvedSources(sub)) {
      const key = tpKey(topic, partition);
      if (!assigned.has(key)) continue;
      const queue = new PartitionQueue(topic, partition);
      queues.push(queue);
      this.queues.set(key, queue);
    }
    const backend = this.backend?.forTask(task.id, task.ownStores(), this.topology.stores);
    const rt: RunningTask = { task, queues, backend, ready: false, committedWork: 0, groupCommitted: new Map(), startPositions: new Map(), eos };
    this.tasks.set(task.id, rt);
    return rt;
  }

  private async onRebalancing(): Promise<void> {
    await this.lock.run(async () => {
      if (!this.running) return;
      this.setState('REBALANCING');
      await this.committer.commit([...this.tasks.values()]).catch((error: unknown) => {
        // Exactly-once: the aborted transaction's outputs are gone while the task's state kept its changes.
        if (this.exactlyOnce) void this.fail(error instanceof Error ? error : new Error(String(error)));
        else this.log(`commit before rebalance failed: ${errorMessage(error)}`);
      });
    });
  }

  private retireTask(rt: RunningTask): void {
    this.syncMetrics();
    this.reported.delete(rt.task.id);
    this.retiredProcessed += rt.task.metrics.processed;
    this.retiredDeadLettered += rt.task.metrics.deadLettered;
    this.retiredInput += this.inputProcessed(rt);
    rt.task.close();
    if (rt.eos) {
      const closing = rt.eos.close().catch((error: unknown) => this.log(`closing the producer of task ${rt.task.id} failed: ${errorMessage(error)}`));
      this.producerCloses.add(closing);
      void closing.finally(() => this.producerCloses.delete(closing));
    }
    for (const queue of rt.queues) {
      const key = tpKey(queue.topic, queue.partition);
      if (this.queues.get(key) === queue) this.queues.delete(key);
      this.stalls.forget(key);
      this.metrics.lag.remove({ topic: queue.topic, partition: String(queue.partition) });
    }
    this.tasks.delete(rt.task.id);
  }

  private onRecords(records: IncomingRecord[]): void {
    const first = records[0];
    if (!first) return;
    const key = tpKey(first.topic, first.partition);
    const queue = this.queues.get(key);
    if (!queue) return;
    queue.push(records);
    if (!queue.paused && queue.size >= this.maxQueued) {
      queue.paused = true;
      this.transport.pause([{ topic: queue.topic, partition: queue.partition }]);
    }
    this.wake();
  }

  private onSkipped(tp: TopicPartition, from: number, next: number): void {
    const key = tpKey(tp.topic, tp.partition);
    const queue = this.queues.get(key);
    if (!queue) return;
    queue.skip(from, next);
    const rt = [...this.tasks.values()].find((t) => t.queues.includes(queue));
    if (rt) applySkip(rt, queue);
  }

  // ---------------------------------------------------------------- processing

  private async loop(): Promise<void> {
    while (this.running) {
      let worked = 0;
      try {
        await this.lock.run(async () => {
          if (!this.running) return;
          worked = this.processRound();
          if (Date.now() >= this.nextCommitAt) {
            await this.committer.commit([...this.tasks.values()]);
            this.nextCommitAt = Date.now() + this.commitIntervalMs;
          }
        });
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        const response = this.uncaughtHandler?.(error) ?? 'SHUTDOWN_CLIENT';
        if (response === 'REPLACE_THREAD' && this.running) {
          this.log(`replacing this instance's tasks after an error (REPLACE_THREAD): ${error.message}`);
          await this.replaceTasks();
          continue;
        }
        if (response === 'SHUTDOWN_APPLICATION') {
          await this.shutdownMarker?.signal(`${this.advertisedUrl ?? 'an instance'}: ${error.message}`).catch((e: unknown) => this.log(`could not write the shutdown marker to Redis: ${errorMessage(e)}`));
        }
        void this.fail(error);
        return;
      }
      if (worked === 0) await this.idle();
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private processRound(): number {
    let processed = 0;
    const now = Date.now();
    if (this.paused) return 0;
    for (const rt of this.tasks.values()) {
      if (!rt.ready) continue;
      const task = rt.task;
      task.punctuateWallClock(now);
      for (let n = 0; n < RECORDS_PER_TASK_PER_ROUND; n++) {
        if (task.isBackpressured()) break;
        const queue = nextQueue(rt.queues, now, this.maxTaskIdleMs);
        if (!queue) break;
        task.process(queue.shift()!);
        processed++;
      }
      for (const queue of rt.queues) {
        if (queue.skippedTo >= 0) applySkip(rt, queue);
        if (queue.paused && queue.size < this.maxQueued / 2) {
          queue.paused = false;
          this.transport.resume([{ topic: queue.topic, partition: queue.partition }]);
        }
      }
    }
    return processed;
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.min(IDLE_WAIT_MS, Math.max(1, this.nextCommitAt - Date.now())));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  private send(record: OutgoingRecord): void {
    this.transport.send(record);
    this.countProduced(record);
  }

  private countProduced(record: OutgoingRecord): void {
    this.produced.set(record.topic, (this.produced.get(record.topic) ?? 0) + 1);
  }

  /** Writes a record a model asked for (a drift alert, a shadow comparison) to its topic, creating the topic first. */
  private writeModelRecord(record: ModelRecord): void {
    const topic = record.topic;
    if (!this.running) return;
    let ready = this.modelTopics.get(topic);
    if (!ready) {
      ready = this.transport.createTopics([{ topic, partitions: 1 }]);
      this.modelTopics.set(topic, ready);
    }
    ready.then(
      () => {
        if (!this.running) return;
        this.send(record);
      },
      (error: unknown) => this.log(`could not create the model topic '${topic}': ${errorMessage(error)}`),
    );
  }

  // ---------------------------------------------------------------- watchdog and metrics

  private position(key: string, queue: PartitionQueue): number {
    const rt = [...this.tasks.values()].find((t) => t.queues.includes(queue));
    return rt?.task.consumedOffsets.get(key) ?? rt?.startPositions.get(key) ?? Math.max(0, queue.nextOffset - queue.size);
  }

  private async checkLag(): Promise<void> {
    if (this.state !== 'RUNNING') return;
    const lags = await this.lag();
    const now = Date.now();
    for (const [key, lag] of lags) {
      const queue = this.queues.get(key);
      if (!queue) continue;
      const position = this.position(key, queue);
      this.metrics.lag.set({ topic: queue.topic, partition: String(queue.partition) }, lag);
      const verdict = this.stalls.observe(key, position, lag, now);
      this.metrics.stalled.set({ topic: queue.topic, partition: String(queue.partition) }, verdict.stalled ? 1 : 0);
      if (!verdict.stalled || !verdict.first) continue;
      const taskId = [...this.tasks.values()].find((t) => t.queues.includes(queue))?.task.id ?? '?';
      const report: StallReport = { topic: queue.topic, partition: queue.partition, taskId, position, lag, previousLag: verdict.previousLag, stalledForMs: verdict.stalledForMs };
      this.stallSubject.next(report);
      this.log(`partition ${key} (task ${taskId}) is stalled: position ${position} has not moved for ${report.stalledForMs} ms while its lag grew from ${verdict.previousLag} to ${lag}`);
      if (this.config.watchdog && this.config.watchdog.failOnStall) {
        void this.fail(new Error(`partition ${key} (task ${taskId}) stalled at offset ${position} with lag ${lag}; failing as the watchdog's failOnStall asks`));
      }
    }
  }

  /** Moves the tasks' counters into the Prometheus metrics (once a second: no label lookups per record). */
  private syncMetrics(): void {
    for (const rt of this.tasks.values()) {
      const id = rt.task.id;
      const seen = this.reported.get(id) ?? { processed: 0, deadLettered: 0, duplicates: 0 };
      const { processed, deadLettered, duplicates } = rt.task.metrics;
      if (processed > seen.processed) this.metrics.processed.inc({ task: id }, processed - seen.processed);
      if (deadLettered > seen.deadLettered) this.metrics.deadLettered.inc({ task: id }, deadLettered - seen.deadLettered);
      if (duplicates > seen.duplicates) this.metrics.replaysSkipped.inc({ task: id }, duplicates - seen.duplicates);
      this.reported.set(id, { processed, deadLettered, duplicates });
    }
    for (const [topic, count] of this.produced) {
      const seen = this.reportedProduced.get(topic) ?? 0;
      if (count > seen) this.metrics.produced.inc({ topic }, count - seen);
      this.reportedProduced.set(topic, count);
    }
  }

  private emitSnapshot(): void {
    this.syncMetrics();
    const snapshot = this.snapshot();
    this.lastSnapshot = { at: Date.now(), processed: snapshot.processed };
    this.metricsSubject.next(snapshot);
  }

  private inputProcessed(rt: RunningTask): number {
    let total = 0;
    for (const [key, offset] of rt.task.consumedOffsets) {
      if (!this.externalTopics.has(parseTpKey(key).topic)) continue;
      total += offset - (rt.startPositions.get(key) ?? 0);
    }
    return total;
  }

  // ---------------------------------------------------------------- lifecycle

  private storeSpec(name: string, type: 'key-value' | 'window' | 'session') {
    const spec = this.topology.stores.get(name);
    if (!spec) throw new TopologyError(`no store named '${name}' in this topology (stores: ${[...this.topology.stores.keys()].join(', ') || 'none'})`);
    if (spec.type !== type) {
      const method = spec.type === 'window' ? 'windowStore' : spec.type === 'session' ? 'sessionStore' : 'store';
      throw new TopologyError(`store '${name}' is a ${spec.type} store: query it with ${method}('${name}')`);
    }
    return spec;
  }

  private localStores(name: string): StateStore[] {
    const stores: StateStore[] = [];
    for (const rt of this.tasks.values()) {
      const store = rt.task.ownStores().get(name);
      if (store && rt.ready) stores.push(store);
    }
    const global = this.globalTask?.ownStores().get(name);
    if (global) stores.push(global);
    return stores;
  }

  private setState(state: StreamsState): void {
    const previous = this.stateSubject.value;
    if (previous === state || previous === 'ERROR' || previous === 'NOT_RUNNING') return;
    this.metrics.state.set({ state: previous }, 0);
    this.metrics.state.set({ state }, 1);
    this.stateSubject.next(state);
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'NOT_RUNNING' || this.state === 'ERROR') return;
    const wasRunning = this.running;
    this.setState('PENDING_SHUTDOWN');
    this.running = false;
    this.wake();
    await this.loopDone;
    let error: unknown;
    if (wasRunning) {
      await this.lock.run(() => this.committer.commit([...this.tasks.values()])).catch((e: unknown) => (error = e));
    }
    await this.release();
    if (error !== undefined) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.stateSubject.next('ERROR');
      throw this.failure;
    }
    this.setState('NOT_RUNNING');
  }

  /** Moves to ERROR: stops processing, closes tasks without committing (the checkpoint replays), disconnects. */
  private async fail(error: Error): Promise<void> {
    if (this.state === 'ERROR' || this.state === 'NOT_RUNNING') return;
    this.failure = error instanceof StreamsError || error instanceof TopologyError ? error : error;
    this.running = false;
    this.wake();
    this.setState('PENDING_SHUTDOWN');
    await this.release();
    this.metrics.state.set({ state: 'ERROR' }, 1);
    this.stateSubject.next('ERROR');
  }

  private async release(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const rt of [...this.tasks.values()]) this.retireTask(rt);
    this.globalTask?.close();
    await Promise.allSettled([...this.producerCloses, this.purger.settle()]);
    await Promise.allSettled([this.transport.close(), this.globalTransport?.close(), this.backend?.close(), this.registry_?.close(), this.shutdownMarker?.close()]);
    this.metricsSubject.complete();
    this.stallSubject.complete();
  }
}

