import type { Duration } from '../util/duration.ts';
import type { StateStore } from '../state/store.ts';

import type { Headers } from '../util/headers.ts';
import type { ModelRecord } from '../ml/model-records.ts';

export type { Headers };

/** A record flowing through a topology. Timestamps are epoch milliseconds. */
export interface StreamRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
  readonly headers: Headers;
  /** Where the record that caused this one was read (source topic, partition, offset). */
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** What a processor forwards: key and value, optionally a new timestamp and headers. */
export interface RecordInit<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp?: number;
  readonly headers?: Headers;
}

/** The two clocks a punctuator can follow. */
export type PunctuationType = 'stream-time' | 'wall-clock';

/** A scheduled punctuation, cancellable. */
export interface Cancellable {
  cancel(): void;
}

/** Where in the pipeline an error happened, as written to the dead-letter `stage` header. */
export type ErrorStage = 'deserialize' | 'timestamp' | 'process' | 'punctuate' | 'serialize' | 'validate' | 'features' | 'inference' | 'produce';

/**
 * An operator that completes records asynchronously (for example `predict`). The task counts its
 * in-flight records and calls `flush()` before a commit, so no offset is committed before the
 * records behind it have left the topology.
 */
export interface AsyncOperator {
  /** Records accepted but not yet forwarded (or dead-lettered). */
  inFlight(): number;
  /** Sends any partial batch now; resolves when everything accepted so far has been forwarded. */
  flush(): Promise<void>;
  /** True while the operator wants the task to stop pulling input (backpressure). */
  isFull?(): boolean;
}

/** How `forwardCached` sends a table update. */
export interface ForwardCachedOptions {
  /**
   * `false`: the update's `oldValue` is the stored value it replaces, which the cache needs to
   * tell a deleted row from one that never was, but children receive `null` in its place (the
   * node does not send old values: Kafka Streams' `sendOldValues` off). Default `true`.
   */
  sendOldValue?: boolean;
  /**
   * What the store held before the update, where the change's `oldValue` says something else (a
   * stream aggregate's first update of a key starts from the initializer's value, Kafka's
   * KStreamAggregate): the cache sends this one, as Kafka's caching store sends what it held.
   * `null` for a key it did not hold.
   */
  storedOldValue?: unknown;
}

/** What a processor sees of the task running it. */
export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  readonly applicationId: string;
  /** `<subtopology>_<partition>`, as Kafka Streams names tasks. */
  readonly taskId: string;
  /** The record being processed, or `null` inside a punctuator. */
  readonly currentRecord: StreamRecord<unknown, unknown> | null;
  /** Sends a record to every child node, or to the named child only. */
  forward(record: RecordInit<KOut, VOut>, childName?: string): void;
  /**
   * Forwards a table update (`value` a `Change`) through the task's record cache, as Kafka
   * Streams' store caches do: updates of one key within a commit interval merge into one, sent at
   * the commit (or when the cache is full) with the latest new value and the old value of the
   * last update sent. Without a cache (the test driver, `cacheMaxEntries: 0`), forwards at once.
   * A merged update from no row to no row (`Change(null, null)`) is not sent, as Kafka Streams'
   * caching store skips a key that is neither in the store nor in the cache.
   */
  forwardCached(record: RecordInit<KOut, VOut>, options?: ForwardCachedOptions): void;
  /** Calls `punctuator(time)` every `interval` of stream time or wall-clock time. */
  schedule(interval: Duration, type: PunctuationType, punctuator: (timestamp: number) => void): Cancellable;
  /** A store connected to this processor (named in `process(factory, ...storeNames)` or by the DSL). */
  getStateStore<S extends StateStore = StateStore>(name: string): S;
  /** The largest record timestamp this task has processed (-1 before the first record). */
  currentStreamTimeMs(): number;
  /** The wall clock (mocked in the test driver). */
  currentSystemTimeMs(): number;
  /** Counts a record the operator dropped on purpose (late, null key, ...) in `dropped-records`. */
  recordDropped(reason: string): void;
  /** Hands a record that failed to the task's error policy (dead-letter or fail). */
  reportError(record: StreamRecord<unknown, unknown>, error: unknown, stage: ErrorStage): void;
  /** Registers an asynchronous operator with the task's drain and backpressure. */
  registerAsync(operator: AsyncOperator): void;
  /**
   * Writes a record a model asked for while scoring this task's records (a drift alert, a shadow
   * comparison) to its topic, through the application running the task (`.predict` uses it).
   */
  emitModelRecord(record: ModelRecord): void;
}

/** One operator instance inside one task. */
export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void;
}

/** Creates a fresh processor per task. */
export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> =
  () => Processor<KIn, VIn, KOut, VOut>;
