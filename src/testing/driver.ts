import type { Serde } from '../serdes/serde.ts';
import type { ErrorHandling } from '../runtime/errors.ts';
import { globalSubTopology } from '../runtime/global-tasks.ts';
import { StreamTask, type TaskEnvironment, type TaskMetrics } from '../runtime/task.ts';
import { createInMemoryStore } from '../state/memory-stores.ts';
import { isVersionedStore, valueOnlyView, type KeyValueStore, type ReadOnlyKeyValueStore, type ReadOnlySessionStore, type ReadOnlyVersionedKeyValueStore, type ReadOnlyWindowStore, type SessionStore, type StateStore, type ValueAndTimestamp, type WindowStore } from '../state/store.ts';
import { readOnlyWindowView, valueOnlyWindowView } from '../state/window-views.ts';
import { versionedView } from '../runtime/store-views.ts';
import type { TopologyDefinition } from '../dsl/topology-file.ts';
import { Topology } from '../topology/topology.ts';
import { InMemoryBroker } from '../transport/memory-broker.ts';
import type { IncomingRecord, OutgoingRecord } from '../transport/types.ts';
import type { Headers } from '../util/headers.ts';
import { TestInputTopic, type InputTopicOptions } from './input-topic.ts';
import { TestOutputTopic } from './output-topic.ts';

/** Options of the test driver. */
export interface TopologyTestDriverOptions {
  /** Names internal topics and the dead-letter topic (`<applicationId>-dlq`). Default: the topology file's, or `test-app`. */
  applicationId?: string;
  /** The mocked wall clock at start (epoch ms). Default 0. */
  startTimeMs?: number;
  /** What to do with a record that fails: `'fail'` (default) rejects the pipe call; `'dead-letter'` writes it to the DLQ. */
  errorHandling?: ErrorHandling;
  /**
   * The record cache of the runner (`cacheMaxEntries`), off by default (every update is output).
   * With it, the driver flushes the cache whenever it settles, after each piped record, as Kafka
   * Streams' driver commits after each record (after the whole list for `pipeKeyValueList` and
   * `pipeRecordList`, whose updates are merged as within one commit interval); a custom
   * processor's `forwardCached` is then tested with the caching path.
   */
  cacheMaxEntries?: number;
}

interface Reader {
  task: StreamTask;
  topic: string;
  position: number;
}

/**
 * Runs a topology in memory, deterministically: one partition per topic, one task per
 * sub-topology, no broker and no timers. Time moves only when records are piped or
 * `advanceWallClockTime` is called. It runs the production tasks, processors and stores.
 * It takes a built `Topology` or a topology file's definition (`new TopologyTestDriver(wordCount)`),
 * which it builds, taking its `applicationId`.
 */
export class TopologyTestDriver {
  readonly applicationId: string;
  readonly topology: Topology;
  private readonly broker = new InMemoryBroker({ defaultPartitions: 1 });
  private readonly tasks: StreamTask[] = [];
  private readonly globalTask: StreamTask | undefined;
  private readonly readers: Reader[] = [];
  private readonly produced = new Set<string>();
  /** Topics the topology itself may write (fixed sinks, internal topics); `null` when a sink picks topics per record. */
  private readonly writable: Set<string> | null;
  /** Next offset of input topics piped straight to their tasks (not kept in the broker). */
  private readonly inputOffsets = new Map<string, number>();
  private wallClock: number;
  private closed = false;

  constructor(topologyOrDefinition: Topology | TopologyDefinition, options: TopologyTestDriverOptions = {}) {
    const topology = topologyOrDefinition instanceof Topology ? topologyOrDefinition : topologyOrDefinition.build();
    this.topology = topology;
    this.applicationId = options.applicationId ?? (topologyOrDefinition instanceof Topology ? 'test-app' : topologyOrDefinition.config.applicationId);
    this.wallClock = options.startTimeMs ?? 0;
    const env: TaskEnvironment = {
      applicationId: this.applicationId,
      errorHandling: options.errorHandling ?? 'fail',
      ...(options.cacheMaxEntries ? { cacheMaxEntries: options.cacheMaxEntries } : {}),
      clock: () => this.wallClock,
      send: (record) => this.send(record),
      partitionsFor: () => 1,
      createStore: (spec) => createInMemoryStore(spec),
      resolveTopic: (topic, internal) => (internal ? `${this.applicationId}-${topic}` : topic),
      // records models ask for (drift alerts, shadow comparisons) go to their topics, as the runner writes them
      emitModelRecord: (record) => {
        if (!this.closed) this.send(record);
      },
    };
    const dynamicSink = topology.nodes.some((n) => n.kind === 'sink' && typeof n.topic !== 'string');
    this.writable = dynamicSink
      ? null
      : new Set(topology.nodes.flatMap((n) => (n.kind === 'sink' ? [env.resolveTopic(n.topic as string, n.internal)] : n.kind === 'source' && n.internal ? n.topics.map((t) => env.resolveTopic(t, true)) : [])));
    const global = globalSubTopology(topology);
    if (global) {
      this.globalTask = new StreamTask(global, 0, env, topology.stores);
      env.globalStores = this.globalTask.ownStores();
      for (const topic of this.globalTask.sourceTopics()) this.readers.push({ task: this.globalTask, topic, position: 0 });
    }
    for (const sub of topology.subTopologies) {
      const task = new StreamTask(sub, 0, env, topology.stores);
      this.tasks.push(task);
      for (const topic of task.sourceTopics()) this.readers.push({ task, topic, position: 0 });
    }
  }

  /** An input topic; records piped into it are serialized with these serdes. */
  createInputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>, options?: InputTopicOptions): TestInputTopic<K, V> {
    return new TestInputTopic<K, V>(
      { pipe: (t, k, v, ts, h) => this.pipe(t, k, v, ts, h), settle: () => this.settle(), check: () => this.throwTaskErrors() },
      topic, keySerde, valueSerde, this.wallClock, options,
    );
  }

  /** An output topic (any topic the topology writes, internal ones and `<applicationId>-dlq` included). */
  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic<K, V>(
      { read: (t, from) => this.broker.read(t, 0, from), wasWritten: (t) => this.produced.has(t) },
      topic, keySerde, valueSerde,
    );
  }

  /** Moves the mocked wall clock, fires due wall-clock punctuators, then processes what they caused. */
  async advanceWallClockTime(ms: number): Promise<void> {
    this.wallClock += ms;
    for (const task of this.tasks) task.punctuateWallClock(this.wallClock);
    await this.settle();
  }

  /** The mocked wall clock. */
  get wallClockTimeMs(): number {
    return this.wallClock;
  }

  /** Topics the topology has written to, internal ones included. */
  producedTopicNames(): string[] {
    return [...this.produced];
  }

  /** A key-value store by name (global stores included), or `undefined`; the DSL's stores show values only. */
  getKeyValueStore<K = unknown, V = unknown>(name: string): ReadOnlyKeyValueStore<K, V> | undefined {
    const store = this.getStateStore(name);
    if (store?.type !== 'key-value') return undefined;
    const spec = this.topology.stores.get(name);
    return spec?.timestamped || spec?.versioned
      ? valueOnlyView(store as unknown as ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>>)
      : (store as KeyValueStore<K, V>);
  }

  /**
   * A versioned store by name (a versioned table's, or one added with `Stores.versionedKeyValueStoreBuilder`),
   * read-only (`get(key)`, `get(key, asOf)`, `getVersions(key, { fromTime, toTime, order })`), or `undefined`.
   */
  getVersionedKeyValueStore<K = unknown, V = unknown>(name: string): ReadOnlyVersionedKeyValueStore<K, V> | undefined {
    const store = this.getStateStore(name);
    if (!isVersionedStore(store)) return undefined;
    return versionedView<K, V>(() => [store]);
  }

  /** A DSL key-value store with each value's timestamp, or `undefined`. */
  getTimestampedKeyValueStore<K = unknown, V = unknown>(name: string): ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>> | undefined {
    const store = this.getStateStore(name);
    return store?.type === 'key-value' && this.topology.stores.get(name)?.timestamped ? (store as KeyValueStore<K, ValueAndTimestamp<V>>) : undefined;
  }

  /** A window store by name, or `undefined`, read-only; the DSL's windowed aggregations show values only. */
  getWindowStore<K = unknown, V = unknown>(name: string): ReadOnlyWindowStore<K, V> | undefined {
    const store = this.getStateStore(name);
    if (store?.type !== 'window') return undefined;
    return this.topology.stores.get(name)?.timestamped
      ? valueOnlyWindowView(store as WindowStore<K, ValueAndTimestamp<V>>)
      : readOnlyWindowView(store as WindowStore<K, V>);
  }

  /** A DSL window store with each window's timestamp (the largest record timestamp in it), or `undefined`. */
  getTimestampedWindowStore<K = unknown, V = unknown>(name: string): ReadOnlyWindowStore<K, ValueAndTimestamp<V>> | undefined {
    const store = this.getStateStore(name);
    return store?.type === 'window' && this.topology.stores.get(name)?.timestamped ? readOnlyWindowView(store as WindowStore<K, ValueAndTimestamp<V>>) : undefined;
  }

  /** A session store by name, or `undefined`, read-only. */
  getSessionStore<K = unknown, V = unknown>(name: string): ReadOnlySessionStore<K, V> | undefined {
    const store = this.getStateStore(name);
    if (store?.type !== 'session') return undefined;
    const sessions = store as SessionStore<K, V>;
    return {
      fetch: (key) => sessions.fetch(key),
      findSessions: (key, earliestEnd, latestStart) => sessions.findSessions(key, earliestEnd, latestStart),
      fetchSession: (key, start, end) => sessions.fetchSession(key, start, end),
      all: () => sessions.all(),
    };
  }

  /** Any store by name, or `undefined`. */
  getStateStore(name: string): StateStore | undefined {
    for (const task of [...this.tasks, ...(this.globalTask ? [this.globalTask] : [])]) {
      const store = task.ownStores().get(name);
      if (store) return store;
    }
    return undefined;
  }

  /** Every store by name. */
  getAllStateStores(): Map<string, StateStore> {
    const all = new Map<string, StateStore>();
    for (const task of [...this.tasks, ...(this.globalTask ? [this.globalTask] : [])]) for (const [n, s] of task.ownStores()) all.set(n, s);
    return all;
  }

  /**
   * Counters of the driver's tasks: processed, dropped (null keys, late records, expired windows),
   * dead-lettered records and punctuations, summed, and per task id in `byTask`.
   */
  metrics(): { processed: number; dropped: number; deadLettered: number; punctuations: number; byTask: Record<string, TaskMetrics> } {
    const total = { processed: 0, dropped: 0, deadLettered: 0, punctuations: 0, byTask: {} as Record<string, TaskMetrics> };
    for (const task of this.tasks) {
      total.processed += task.metrics.processed;
      total.dropped += task.metrics.dropped;
      total.deadLettered += task.metrics.deadLettered;
      total.punctuations += task.metrics.punctuations;
      total.byTask[task.id] = { ...task.metrics };
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const task of this.tasks) task.close();
    this.globalTask?.close();
  }

  private pipe(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): void {
    if (this.closed) throw new Error('the driver is closed');
    if (this.writable === null || this.writable.has(topic) || this.broker.hasTopic(topic)) {
      this.broker.append({ topic, partition: 0, key, value, timestamp, headers });
      this.processAvailable();
      return;
    }
    // A pure input topic: hand the record to its readers at once instead of keeping it (as Kafka
    // Streams' driver does), so long tests and benchmarks do not hold every input in memory.
    if (!this.readers.some((r) => r.topic === topic)) {
      for (const task of this.tasks) if (task.readsTopic(topic)) this.readers.push({ task, topic, position: 0 });
    }
    const offset = this.inputOffsets.get(topic) ?? 0;
    this.inputOffsets.set(topic, offset + 1);
    const record: IncomingRecord = { topic, partition: 0, offset, key, value, timestamp, headers };
    for (const reader of this.readers) {
      if (reader.topic !== topic) continue;
      reader.position = offset + 1;
      reader.task.process(record);
    }
    this.processAvailable();
  }

  private send(record: OutgoingRecord): void {
    this.produced.add(record.topic);
    record.partition = 0; // the sink built this record for us alone: no copy on the hot path
    this.broker.adopt(record as OutgoingRecord & { partition: number });
  }

  /** Processes every unread record of every task's topics until nothing is left (repartition topics loop back). */
  private processAvailable(): void {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const reader of this.readers) {
        let record: IncomingRecord | undefined;
        while ((record = this.broker.at(reader.topic, 0, reader.position)) !== undefined) {
          reader.position++;
          progressed = true;
          reader.task.process(record);
        }
      }
    }
  }

  /**
   * Processes what is pending; when asynchronous operators hold records, returns a promise that
   * waits for them (and what they forward). Synchronous topologies settle without a promise.
   */
  private settle(): Promise<void> | undefined {
    this.processAvailable();
    this.flushCaches();
    if (!this.anyInFlight()) {
      this.throwTaskErrors();
      return undefined;
    }
    return this.settleAsync();
  }

  private async settleAsync(): Promise<void> {
    while (this.anyInFlight()) {
      await Promise.all(this.tasks.filter((t) => t.inFlight() > 0).map((t) => t.drain()));
      this.processAvailable();
      this.flushCaches();
    }
    this.throwTaskErrors();
  }

  /** With `cacheMaxEntries`: what the record caches merged goes out, as at a runner's commit. */
  private flushCaches(): void {
    while (this.tasks.some((t) => (t.cache?.size ?? 0) > 0)) {
      for (const task of this.tasks) task.cache?.flush();
      this.processAvailable();
    }
  }

  private anyInFlight(): boolean {
    for (const task of this.tasks) if (task.inFlight() > 0) return true;
    return false;
  }

  private throwTaskErrors(): void {
    for (const task of this.tasks) if (task.error) throw task.error;
  }
}

