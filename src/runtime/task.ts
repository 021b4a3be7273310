import { Subject } from 'rxjs';
import type { AsyncOperator, Cancellable, ErrorStage, ForwardCachedOptions, Processor, ProcessorContext, RecordInit, StreamRecord } from '../processors/api.ts';
import type { Serde } from '../serdes/serde.ts';
import type { StateStore, StoreSpec } from '../state/store.ts';
import type { ProcessorNode, SinkNode, SourceNode, SubTopology, TopologyNode } from '../topology/nodes.ts';
import { TopologyError } from '../topology/errors.ts';
import { matchesWhole } from '../topology/topology.ts';
import { tpKey, type TopicLimits } from '../transport/transport.ts';
import type { IncomingRecord, OutgoingRecord } from '../transport/types.ts';
import { toMillis, type Duration } from '../util/duration.ts';
import { withHeader, withoutHeader, type Headers } from '../util/headers.ts';
import { refusal } from './output-checks.ts';
import { errorMessage, StreamsError, type ErrorHandling } from './errors.ts';
import { PunctuationQueue } from './punctuation.ts';
import { emitModelRecord, type ModelRecord } from '../ml/model-records.ts';
import { AppliedPositions, LEGACY_POSITION_HEADER, POSITION_HEADER, PositionStamper } from './positions.ts';
import { keyId } from '../state/key-id.ts';
import { change, type Change } from '../processors/change.ts';

/** A record inside the runtime: it remembers the bytes it was read as, for the dead-letter topic. */
export interface SourcedRecord<K = unknown, V = unknown> extends StreamRecord<K, V> {
  readonly raw?: IncomingRecord;
}

/** Everything a task needs from whoever runs it. */
export interface TaskEnvironment {
  applicationId: string;
  errorHandling: ErrorHandling;
  /** The wall clock (mocked by the test driver). */
  clock(): number;
  /** Queues an output record (the transport sends and acknowledges it later). */
  send(record: OutgoingRecord): void;
  /** Table updates kept per task by the record cache (merged per key until a commit); 0 or absent: none. */
  cacheMaxEntries?: number;
  /** Outputs larger than this (key, value and headers, in bytes) are dead-lettered, stage `produce`. */
  maxRecordBytes?: number;
  /** What the output topics refuse (compacted, `max.message.bytes`, timestamp window): such a record is dead-lettered, stage `produce` (the broker would refuse its whole batch). */
  topicLimits?: ReadonlyMap<string, TopicLimits>;
  /** Partition count of a topic, when known (for custom partitioners). */
  partitionsFor(topic: string): number | undefined;
  /** Creates the task's instance of a store. */
  createStore(spec: StoreSpec, taskId: string): StateStore;
  /** Stores shared by all tasks (global tables). */
  globalStores?: ReadonlyMap<string, StateStore>;
  /** Resolves a topology topic name to the real one (internal topics get the application id). */
  resolveTopic(topic: string, internal: boolean): string;
  /** Writes a record a model asked for (a drift alert, a shadow comparison); without it they go to `onModelRecord` listeners. */
  emitModelRecord?(record: ModelRecord): void;
  /** Told of every record the error policy dead-letters (for `deadLetters$` and the per-stage metric). */
  onDeadLetter?(event: DeadLetterEvent): void;
}

/** A record the error policy wrote to the dead-letter topic, and why. */
export interface DeadLetterEvent {
  taskId: string;
  stage: ErrorStage;
  node: string;
  topic: string;
  partition: number;
  offset: number;
  reason: string;
  /** Wall-clock epoch milliseconds when it was dead-lettered. */
  at: number;
}

/** Counters a task keeps; the metrics layer reads them. */
export interface TaskMetrics {
  processed: number;
  dropped: number;
  deadLettered: number;
  punctuations: number;
  /** Records of internal topics skipped because this task had applied them before (an upstream replay). */
  duplicates: number;
  /** Times the position moved past offsets with nothing to process (transaction markers, aborted records). */
  skips: number;
}

const NO_RECORD_TOPIC = '';
/** The placeholder headers of a record `fill` completes. */
const EMPTY_HEADERS: Headers = Object.freeze({});


/** A record the cache owns until it sends it: updated in place while its key is updated again. */
type CachedRecord = { -readonly [P in keyof SourcedRecord]: SourcedRecord[P] };

/** The merged update of a key updated more than once: the cache's own, its new value replaced in place. */
interface MergedChange {
  newValue: unknown;
  readonly oldValue: unknown;
}

/** A cached update: its node, its key's id within the node, the latest record. */
interface CacheEntry {
  context: NodeContext;
  id: string;
  record: CachedRecord;
  /** Set once the key was updated again: `record.value`, which the next updates change in place. */
  merged: MergedChange | undefined;
  /** False: children get `oldValue: null` (the node does not send old values). */
  sendOldValue: boolean;
}

/**
 * Kafka Streams' record cache in front of a task's table updates: per node and key, the latest
 * update since the last flush, with the old value of the last update sent. A flush (at commit,
 * before the drain) sends them in the order their keys were first updated; past `maxEntries` the
 * oldest is sent at once.
 */
class RecordCache {
  /** Per node, key id → entry: no node-and-key string is built per update. */
  private readonly byNode = new Map<NodeContext, Map<string, CacheEntry>>();
  /** Every entry, in the order its key was first updated. */
  private readonly order = new Set<CacheEntry>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.order.size;
  }

  /**
   * Caches `update` of `context`'s node; `storedOldValue` (when defined) replaces the old value of a
   * key's first update. A key already cached is updated in place: most updates of a busy table
   * (the word count's) allocate nothing here.
   */
  put(context: NodeContext, update: RecordInit<unknown, unknown>, storedOldValue: unknown, sendOldValue: boolean): void {
    let entries = this.byNode.get(context);
    if (entries === undefined) this.byNode.set(context, (entries = new Map()));
    const id = keyId(update.key);
    const previous = entries.get(id);
    if (previous !== undefined) {
      const { newValue } = update.value as Change<unknown>;
      const record = previous.record;
      if (previous.merged !== undefined) previous.merged.newValue = newValue;
      else record.value = previous.merged = { newValue, oldValue: (record.value as Change<unknown>).oldValue };
      context.fill(record, update);
      return;
    }
    const record = context.owned(update);
    if (storedOldValue !== undefined) {
      const { newValue, isLatest } = update.value as Change<unknown>;
      record.value = change(newValue, storedOldValue, isLatest !== false);
    }
    const entry: CacheEntry = { context, id, record, merged: undefined, sendOldValue };
    entries.set(id, entry);
    this.order.add(entry);
    if (this.order.size > this.maxEntries) this.evictOldest();
  }

  flush(): void {
    // Sending may update other cached nodes downstream (a table aggregated again): until empty.
    while (this.order.size > 0) this.evictOldest();
  }

  private evictOldest(): void {
    const entry = this.order.values().next().value as CacheEntry;
    this.order.delete(entry);
    this.byNode.get(entry.context)!.delete(entry.id);
    const update = entry.record.value as Change<unknown> | null;
    if (update !== null && typeof update === 'object') {
      // Kafka Streams' CachingKeyValueStore: a key neither stored before nor present now sends nothing.
      if (update.newValue === null && update.oldValue === null) return;
      if (!entry.sendOldValue) return entry.context.forwardComplete({ ...entry.record, value: change(update.newValue, null) });
    }
    entry.context.forwardComplete(entry.record);
  }
}

class NodeContext implements ProcessorContext {
  currentRecord: SourcedRecord | null = null;
  /** Sources only: the RxJS subject the task's pipeline is fed from, one per source (DESIGN.md section 3). */
  readonly input: Subject<SourcedRecord> | undefined;
  /** The children's entry points, each called once per forwarded record (the output is multicast). */
  readonly receivers: ((record: SourcedRecord) => void)[] = [];
  readonly children = new Map<string, (record: SourcedRecord) => void>();

  constructor(
    private readonly task: StreamTask,
    readonly nodeName: string,
    private readonly storeNames: readonly string[],
    isSource: boolean,
  ) {
    this.input = isSource ? new Subject<SourcedRecord>() : undefined;
  }

  get applicationId(): string {
    return this.task.env.applicationId;
  }

  get taskId(): string {
    return this.task.id;
  }

  forward(record: RecordInit<unknown, unknown>, childName?: string): void {
    const full = this.complete(record);
    if (childName === undefined) {
      // Depth-first to each child in turn, as Kafka Streams does; a plain loop rather than a Subject
      // per node: RxJS's per-subscriber wrapping cost a quarter of a stateful pipeline's time.
      const receivers = this.receivers;
      for (let i = 0; i < receivers.length; i++) receivers[i]!(full);
      return;
    }
    const child = this.children.get(childName);
    if (!child) throw new TopologyError(`'${this.nodeName}' has no child named '${childName}'`);
    child(full);
  }

  /**
   * False when this node's output reaches a repartition topic: the positions that make such records
   * replay-safe (positions.ts) follow input order, which a cache flush does not keep.
   */
  cacheable = true;

  forwardCached(record: RecordInit<unknown, unknown>, options?: ForwardCachedOptions): void {
    const sendOldValue = options?.sendOldValue !== false;
    const cache = this.task.cache;
    if (cache !== undefined && this.cacheable) return cache.put(this, record, options?.storedOldValue, sendOldValue);
    if (sendOldValue) return this.forward(record);
    const { newValue, isLatest } = record.value as Change<unknown>;
    this.forward({ ...record, value: change(newValue, null, isLatest !== false) });
  }

  /** Sends a complete record to every child (the record cache's flush). */
  forwardComplete(record: SourcedRecord): void {
    const receivers = this.receivers;
    for (let i = 0; i < receivers.length; i++) receivers[i]!(record);
  }

  private complete(record: RecordInit<unknown, unknown>): SourcedRecord {
    const given = record as Partial<SourcedRecord>;
    if (given.topic !== undefined && given.timestamp !== undefined && given.headers !== undefined) return record as SourcedRecord;
    return this.owned(record);
  }

  /** `record` completed (as `complete` does) into a new object, which the caller may change. */
  owned(record: RecordInit<unknown, unknown>): CachedRecord {
    // One object literal of one shape (no spread): the hot path of every stateful operator; `fill`
    // says what the record does not, from the record being processed.
    const target: CachedRecord = { key: record.key, value: record.value, timestamp: 0, headers: EMPTY_HEADERS, topic: NO_RECORD_TOPIC, partition: 0, offset: -1, raw: undefined };
    this.fill(target, record);
    return target;
  }

  /** Overwrites every field of `target` but its value with `record` completed: what it does not say comes from the record being processed (or, between records, the stream time and this task's partition). */
  fill(target: CachedRecord, record: RecordInit<unknown, unknown>): void {
    const given = record as Partial<SourcedRecord>;
    target.key = record.key;
    if (given.topic !== undefined && given.timestamp !== undefined && given.headers !== undefined) {
      target.timestamp = given.timestamp;
      target.headers = given.headers;
      target.topic = given.topic;
      target.partition = given.partition!;
      target.offset = given.offset!;
      target.raw = given.raw;
      return;
    }
    const current = this.currentRecord;
    if (current === null) {
      target.timestamp = record.timestamp ?? this.task.streamTime;
      target.headers = record.headers ?? {};
      target.topic = NO_RECORD_TOPIC;
      target.partition = this.task.partition;
      target.offset = -1;
      target.raw = undefined;
      return;
    }
    target.timestamp = record.timestamp ?? current.timestamp;
    target.headers = record.headers ?? current.headers;
    target.topic = current.topic;
    target.partition = current.partition;
    target.offset = current.offset;
    target.raw = current.raw;
  }

  schedule(interval: Duration, type: 'stream-time' | 'wall-clock', punctuator: (timestamp: number) => void): Cancellable {
    return this.task.schedule(this, toMillis(interval, 'punctuation interval'), type, punctuator);
  }

  getStateStore<S extends StateStore = StateStore>(name: string): S {
    if (!this.storeNames.includes(name)) {
      throw new TopologyError(`processor '${this.nodeName}' is not connected to store '${name}': name it in process(factory, '${name}')`);
    }
    return this.task.store(name) as S;
  }

  currentStreamTimeMs(): number {
    return this.task.streamTime;
  }

  currentSystemTimeMs(): number {
    return this.task.env.clock();
  }

  recordDropped(): void {
    this.task.metrics.dropped++;
  }

  reportError(record: StreamRecord<unknown, unknown>, error: unknown, stage: ErrorStage): void {
    this.task.handleError(record as SourcedRecord, error, stage, this.nodeName);
  }

  registerAsync(operator: AsyncOperator): void {
    this.task.registerAsync(operator);
  }

  emitModelRecord(record: ModelRecord): void {
    const env = this.task.env;
    if (env.emitModelRecord !== undefined) env.emitModelRecord(record);
    else emitModelRecord(record);
  }
}

interface SourceRuntime {
  node: SourceNode;
  context: NodeContext;
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
  /** `topic:partition` per partition read, the key of `consumedOffsets` (built once, not per record). */
  offsetKeys: string[];
  /** An internal topic: its records carry positions (see positions.ts). */
  internal: boolean;
}

/**
 * One sub-topology on one partition: a pipeline fed by one RxJS `Subject` per source, through which
 * records run depth-first, record by record; each node's output is multicast to its children (a
 * node with two children runs once per record). Also its stores, its stream time, its punctuators
 * and its source offsets. Every processor call is guarded: an error goes to the error
 * policy and never travels down the pipe.
 */
export class StreamTask {
  readonly id: string;
  streamTime = -1;
  readonly metrics: TaskMetrics = { processed: 0, dropped: 0, deadLettered: 0, punctuations: 0, duplicates: 0, skips: 0 };
  /** The positions of internal-topic records applied so far; committed with the state and offsets. */
  readonly applied = new AppliedPositions();
  private readonly stamper: PositionStamper;
  /** The record cache of table updates, when the environment asks for one. */
  readonly cache: RecordCache | undefined;
  /** Per source topic-partition: the offset of the next record to read (what a commit stores). */
  readonly consumedOffsets = new Map<string, number>();
  private readonly contexts = new Map<string, NodeContext>();
  private readonly processors = new Map<string, Processor>();
  private readonly sources = new Map<string, SourceRuntime>();
  /** Sources that read every topic matching a pattern, not yet resolved to topics (the test driver). */
  private readonly patternSources: SourceRuntime[] = [];
  private readonly stores = new Map<string, StateStore>();
  private readonly streamPunctuation = new PunctuationQueue('stream-time');
  private readonly wallPunctuation = new PunctuationQueue('wall-clock');
  private readonly asyncOperators: AsyncOperator[] = [];
  private failure: StreamsError | null = null;
  private closed = false;

  constructor(
    readonly subTopology: SubTopology,
    readonly partition: number,
    readonly env: TaskEnvironment,
    storeSpecs: ReadonlyMap<string, StoreSpec>,
  ) {
    this.id = `${subTopology.id}_${partition}`;
    this.stamper = new PositionStamper(this.id);
    this.cache = env.cacheMaxEntries ? new RecordCache(env.cacheMaxEntries) : undefined;
    for (const name of subTopology.stores) {
      const spec = storeSpecs.get(name);
      if (!spec) throw new TopologyError(`store '${name}' is used but not declared`);
      this.stores.set(name, env.createStore(spec, this.id));
    }
    this.wire(subTopology.nodes);
    // Refuses, before anything is written, source topics whose position ids would clash.
    for (const topic of this.sources.keys()) this.stamper.register(topic);
  }

  private wire(nodes: TopologyNode[]): void {
    for (const node of nodes) {
      const storeNames = node.kind === 'processor' ? node.stores : [];
      this.contexts.set(node.name, new NodeContext(this, node.name, storeNames, node.kind === 'source'));
    }
    // Nodes upstream of an internal sink (walking parents from each such sink) forward at once.
    const byName = new Map(nodes.map((node) => [node.name, node]));
    const pending = nodes.filter((node) => node.kind === 'sink' && node.internal).map((node) => node.name);
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      const context = this.contexts.get(name);
      if (!context || !context.cacheable) continue;
      context.cacheable = false;
      const node = byName.get(name);
      if (node && node.kind !== 'source') pending.push(...node.parents);
    }
    for (const node of nodes) {
      const context = this.contexts.get(node.name)!;
      if (node.kind === 'source') {
        if (node.pattern && node.topics.length === 0) {
          this.patternSources.push({ node, context, keySerde: node.keySerde!, valueSerde: node.valueSerde!, offsetKeys: [], internal: false });
        }
        for (const topic of node.topics) {
          this.sources.set(this.env.resolveTopic(topic, node.internal), {
            node,
            context,
            keySerde: node.keySerde!,
            valueSerde: node.valueSerde!,
            offsetKeys: [],
            internal: node.internal,
          });
        }
        continue;
      }
      const processor = node.kind === 'processor' ? this.createProcessor(node) : this.createSink(node);
      this.processors.set(node.name, processor);
      const receive = (record: SourcedRecord): void => {
        if (this.failure) return;
        const previous = context.currentRecord;
        context.currentRecord = record;
        try {
          processor.process(record);
        } catch (error) {
          this.handleError(record, error, 'process', node.name);
        } finally {
          context.currentRecord = previous;
        }
      };
      for (const parent of node.parents) {
        const parentContext = this.contexts.get(parent)!;
        if (parentContext.input) parentContext.input.subscribe(receive);
        else parentContext.receivers.push(receive);
        parentContext.children.set(node.name, receive);
      }
    }
    for (const node of nodes) {
      if (node.kind !== 'processor') continue;
      const processor = this.processors.get(node.name)!;
      const context = this.contexts.get(node.name)!;
      processor.init?.(context);
    }
  }

  private createProcessor(node: ProcessorNode): Processor {
    return node.supplier();
  }

  private createSink(node: SinkNode): Processor {
    const keySerde = node.keySerde!;
    const valueSerde = node.valueSerde!;
    const fixedTopic = typeof node.topic === 'string' ? this.env.resolveTopic(node.topic, node.internal) : undefined;
    return {
      process: (record: StreamRecord<unknown, unknown>) => {
        const topic = fixedTopic ?? (node.topic as Exclude<SinkNode['topic'], string>)(record.key, record.value, record);
        let key: Buffer | null;
        let value: Buffer | null;
        try {
          key = keySerde.serialize(record.key, topic);
          value = valueSerde.serialize(record.value, topic);
        } catch (error) {
          this.handleError(record as SourcedRecord, error, 'serialize', node.name);
          return;
        }
        let partition: number | undefined;
        if (node.partitioner) {
          const count = this.env.partitionsFor(topic);
          if (count !== undefined) partition = node.partitioner(record.key, record.value, count);
        }
        const headers = node.internal ? this.positioned(record as SourcedRecord) : record.headers;
        // One object per output, checked and then sent; `partition: undefined` leaves it to the transport.
        const output: OutgoingRecord = { topic, partition, key, value, timestamp: record.timestamp, headers };
        const refused = refusal(output, this.env.topicLimits?.get(topic), this.env.maxRecordBytes, this.clock);
        if (refused) {
          this.handleError(record as SourcedRecord, refused, 'produce', node.name);
          return;
        }
        this.env.send(output);
      },
    };
  }

  /** The environment's wall clock, read only by the output checks that need it. */
  private readonly clock = (): number => this.env.clock();

  private lastSource = { topic: '', partition: -1, writer: '' };
  /** The position writer of a record's source partition, built once per run of records from one partition. */
  private writer(topic: string, partition: number): string {
    const last = this.lastSource;
    if (last.topic !== topic || last.partition !== partition) this.lastSource = { topic, partition, writer: this.stamper.writer(topic, partition) };
    return this.lastSource.writer;
  }

  /**
   * A record's headers with its replay-stable position added (for an internal topic). Without a
   * position, a position header the record already carries (its own, or an upstream app's) is
   * dropped, so that the reader never takes it for this task's.
   */
  private positioned(record: SourcedRecord): Headers {
    const position = record.topic === NO_RECORD_TOPIC ? undefined : this.stamper.stamp(this.writer(record.topic, record.partition), record.offset);
    if (position !== undefined) return withHeader(record.headers, POSITION_HEADER, position);
    const headers = record.headers;
    if (headers[POSITION_HEADER] !== undefined) return withoutHeader(headers, POSITION_HEADER);
    return headers[LEGACY_POSITION_HEADER] !== undefined ? withoutHeader(headers, LEGACY_POSITION_HEADER) : headers;
  }

  /** The resolved topics this task reads. */
  sourceTopics(): string[] {
    return [...this.sources.keys()];
  }

  /** Whether this task reads `topic`, a fixed source topic or one a pattern source matches (which it then reads from now on). */
  readsTopic(topic: string): boolean {
    if (this.sources.has(topic)) return true;
    const source = this.patternSources.find((s) => matchesWhole(s.node.pattern!, topic));
    if (source === undefined) return false;
    this.stamper.register(topic);
    this.sources.set(topic, { ...source, offsetKeys: [] });
    return true;
  }

  store(name: string): StateStore {
    const store = this.stores.get(name) ?? this.env.globalStores?.get(name);
    if (!store) throw new TopologyError(`store '${name}' does not exist in task ${this.id}`);
    return store;
  }

  /** The stores this task owns, by name. */
  ownStores(): ReadonlyMap<string, StateStore> {
    return this.stores;
  }

  /** Moves the position in `offsetKey` (`topic:partition`) past offsets that hold nothing to process. */
  skipTo(offsetKey: string, next: number): void {
    if ((this.consumedOffsets.get(offsetKey) ?? -1) >= next) return;
    this.consumedOffsets.set(offsetKey, next);
    this.metrics.skips++;
  }

  /** Processes one record synchronously through the sub-topology (asynchronous operators may keep it in flight). */
  process(raw: IncomingRecord): void {
    if (this.closed) throw new Error(`task ${this.id} is closed`);
    this.throwIfFailed();
    const source = this.sources.get(raw.topic) ?? (this.readsTopic(raw.topic) ? this.sources.get(raw.topic) : undefined);
    if (!source) throw new Error(`task ${this.id} does not read topic '${raw.topic}'`);
    const offsetKey = (source.offsetKeys[raw.partition] ??= tpKey(raw.topic, raw.partition));
    this.consumedOffsets.set(offsetKey, raw.offset + 1);
    this.metrics.processed++;
    let headers = raw.headers;
    if (source.internal) {
      const position = headers[POSITION_HEADER];
      if (position !== undefined) {
        if (!this.applied.firstTime(offsetKey, String(position))) {
          this.metrics.duplicates++;
          return;
        }
        headers = withoutHeader(headers, POSITION_HEADER);
      } else {
        // written before an upgrade, by a version that named the header and the writer in full
        const legacy = headers[LEGACY_POSITION_HEADER];
        if (legacy !== undefined) {
          if (!this.applied.firstTimeLegacy(offsetKey, String(legacy))) {
            this.metrics.duplicates++;
            return;
          }
          headers = withoutHeader(headers, LEGACY_POSITION_HEADER);
        }
      }
    }
    let key: unknown;
    let value: unknown;
    try {
      key = source.keySerde.deserialize(raw.key, raw.topic);
      value = source.valueSerde.deserialize(raw.value, raw.topic);
    } catch (error) {
      this.handleError(null, error, 'deserialize', source.node.name, raw);
      this.throwIfFailed();
      return;
    }
    let record: SourcedRecord = { key, value, timestamp: raw.timestamp, headers, topic: raw.topic, partition: raw.partition, offset: raw.offset, raw };
    if (source.node.timestampExtractor) {
      let timestamp: number;
      try {
        timestamp = source.node.timestampExtractor(record, this.streamTime);
      } catch (error) {
        this.handleError(record, error, 'timestamp', source.node.name);
        this.throwIfFailed();
        return;
      }
      record = { ...record, timestamp };
    }
    if (!(record.timestamp >= 0)) {
      this.metrics.dropped++;
      return;
    }
    if (record.timestamp > this.streamTime) this.streamTime = record.timestamp;
    source.context.currentRecord = record;
    source.context.input!.next(record);
    source.context.currentRecord = null;
    this.punctuateStreamTime();
    this.throwIfFailed();
  }

  schedule(owner: NodeContext, interval: number, type: 'stream-time' | 'wall-clock', punctuator: (timestamp: number) => void): Cancellable {
    const guarded = (timestamp: number): void => {
      const previous = owner.currentRecord;
      owner.currentRecord = null;
      try {
        punctuator(timestamp);
      } catch (error) {
        this.handleError(null, error, 'punctuate', owner.nodeName);
      } finally {
        owner.currentRecord = previous;
      }
    };
    return type === 'stream-time'
      ? this.streamPunctuation.schedule(0, interval, guarded, owner.nodeName)
      : this.wallPunctuation.schedule(this.env.clock() + interval, interval, guarded, owner.nodeName);
  }

  /** Fires stream-time punctuators that are due. */
  punctuateStreamTime(): void {
    if (this.streamTime < 0 || this.streamPunctuation.size === 0) return;
    this.streamPunctuation.mayPunctuate(this.streamTime, (_, fire) => {
      this.metrics.punctuations++;
      fire();
    });
  }

  /** Fires wall-clock punctuators that are due at `now`. */
  punctuateWallClock(now: number): void {
    if (this.wallPunctuation.size === 0) return;
    this.wallPunctuation.mayPunctuate(now, (_, fire) => {
      this.metrics.punctuations++;
      fire();
    });
    this.throwIfFailed();
  }

  registerAsync(operator: AsyncOperator): void {
    this.asyncOperators.push(operator);
  }

  /** Records accepted by asynchronous operators and not yet out of the topology. */
  inFlight(): number {
    let total = 0;
    for (const op of this.asyncOperators) total += op.inFlight();
    return total;
  }

  /** True while an asynchronous operator asks the task to stop pulling input. */
  isBackpressured(): boolean {
    // Asked before every record the runtime hands over: a plain loop, no closure per call.
    const operators = this.asyncOperators;
    for (let i = 0; i < operators.length; i++) if (operators[i]!.isFull?.() === true) return true;
    return false;
  }

  /** Flushes every asynchronous operator until nothing is in flight (records they forward may start more work). */
  async drain(): Promise<void> {
    // Cached updates go out first (they may feed asynchronous operators), and asynchronous
    // results may update cached tables again: until both are empty.
    for (;;) {
      this.cache?.flush();
      if (this.inFlight() === 0) break;
      await Promise.all(this.asyncOperators.map((op) => op.flush()));
      this.throwIfFailed();
    }
    this.throwIfFailed();
  }

  /** Applies the error policy to a record that failed at `stage` in node `nodeName`. */
  handleError(record: SourcedRecord | null, error: unknown, stage: ErrorStage, nodeName: string, rawRecord?: IncomingRecord): void {
    const raw = rawRecord ?? record?.raw;
    const topic = raw?.topic ?? record?.topic ?? '';
    const partition = raw?.partition ?? record?.partition ?? this.partition;
    const offset = raw?.offset ?? record?.offset ?? -1;
    const reason = errorMessage(error);
    if (this.env.errorHandling === 'fail') {
      this.failure ??= new StreamsError(
        `task ${this.id} failed at ${stage} in '${nodeName}' on topic ${topic}, partition ${partition}, offset ${offset}: ${reason}`,
        stage, topic, partition, offset, { cause: error },
      );
      return;
    }
    this.metrics.deadLettered++;
    const headers: Headers = {
      ...(raw?.headers ?? record?.headers ?? {}),
      error: reason,
      topic,
      partition: String(partition),
      offset: String(offset),
      stage,
      node: nodeName,
    };
    const value = raw ? raw.value : record ? Buffer.from(safeJson(record.value)) : null;
    const key = raw ? raw.key : record && record.key != null ? Buffer.from(String(record.key)) : null;
    const dlq = this.env.resolveTopic('dlq', true);
    const now = this.env.clock();
    const original = record?.timestamp ?? raw?.timestamp ?? now;
    // A record whose timestamp the dead-letter topic refuses (it was dead-lettered for that) goes there stamped now.
    const timestamp = refusal({ topic: dlq, key: null, value: null, headers: {}, timestamp: original }, this.env.topicLimits?.get(dlq), undefined, () => now) ? now : original;
    this.env.send({ topic: dlq, key, value, timestamp, headers });
    this.env.onDeadLetter?.({ taskId: this.id, stage, node: nodeName, topic, partition, offset, reason, at: now });
  }

  /** The error that stopped this task, if any. */
  get error(): StreamsError | null {
    return this.failure;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const processor of this.processors.values()) {
      try {
        processor.close?.();
      } catch {
        // closing must reach every processor
      }
    }
    for (const context of this.contexts.values()) context.input?.complete();
    for (const store of this.stores.values()) store.close?.();
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}
