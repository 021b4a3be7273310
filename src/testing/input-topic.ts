import type { Serde } from '../serdes/serde.ts';
import type { Headers } from '../util/headers.ts';
import type { TestRecordInit } from './test-record.ts';

const SETTLED: Promise<void> = Promise.resolve();

/** What an input topic needs from its driver. */
export interface InputSink {
  pipe(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): void;
  /** Processes what was piped; a promise only while asynchronous operators hold records. */
  settle(): Promise<void> | undefined;
  /** Throws the error a task stopped with (`errorHandling: 'fail'`), without waiting for asynchronous operators. */
  check(): void;
}

/** Options of `createInputTopic`. */
export interface InputTopicOptions {
  /** The topic time of the first record piped without a timestamp (default: the driver's start time). */
  startTimestamp?: number;
  /** How far topic time moves after each record piped without a timestamp (default 0). */
  autoAdvanceMs?: number;
}

/**
 * Pipes records into one topic of a `TopologyTestDriver`. Each call processes its records through
 * the whole topology before it resolves.
 */
export class TestInputTopic<K, V> {
  private currentTime: number;
  private readonly advance: number;

  constructor(
    private readonly sink: InputSink,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    startTime: number,
    options: InputTopicOptions = {},
  ) {
    this.currentTime = options.startTimestamp ?? startTime;
    this.advance = options.autoAdvanceMs ?? 0;
  }

  /**
   * Pipes one record; without a timestamp it gets the topic's current time. When nothing in the
   * topology is asynchronous the record is fully processed when this returns (the promise is
   * already settled), so a long loop of pipes does not pay for a promise per record.
   */
  pipeInput(key: K, value: V, timestamp?: number, headers: Headers = {}): Promise<void> {
    try {
      this.write(key, value, timestamp, headers);
      return this.sink.settle() ?? SETTLED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Pipes one record with a `null` key. */
  async pipeValue(value: V, timestamp?: number, headers: Headers = {}): Promise<void> {
    await this.pipeInput(null as K, value, timestamp, headers);
  }

  /**
   * Pipes records in order; `[key, value]` pairs or `{ key, value, timestamp?, headers? }` objects.
   * Each record goes through the synchronous operators as it is piped; asynchronous ones
   * (`predict`) receive the whole list before the driver waits for them, so they form real
   * micro-batches (up to `maxBatchSize`), as they do on a broker, instead of batches of one.
   */
  async pipeKeyValueList(records: ReadonlyArray<readonly [K, V] | TestRecordInit<K, V>>, startTimestamp?: number, advanceMs = 0): Promise<void> {
    let time = startTimestamp;
    try {
      for (const entry of records) {
        const init: TestRecordInit<K, V> = Array.isArray(entry) ? { key: entry[0], value: entry[1] } : (entry as TestRecordInit<K, V>);
        const timestamp = init.timestamp ?? time;
        this.write(init.key, init.value, timestamp, init.headers ?? {});
        if (time !== undefined) time += advanceMs;
        this.sink.check();
      }
    } catch (error) {
      await this.sink.settle()?.catch(() => undefined);
      throw error;
    }
    const pending = this.sink.settle();
    if (pending) await pending;
  }

  /** Pipes values with `null` keys. */
  async pipeValueList(values: readonly V[], startTimestamp?: number, advanceMs = 0): Promise<void> {
    await this.pipeKeyValueList(values.map((value) => ({ key: null as K, value })), startTimestamp, advanceMs);
  }

  /** Pipes records given as objects (alias of `pipeKeyValueList` for `TestRecord`s). */
  async pipeRecordList(records: ReadonlyArray<TestRecordInit<K, V>>): Promise<void> {
    await this.pipeKeyValueList(records);
  }

  /** Moves this topic's time (not stream time, not the wall clock). */
  advanceTime(ms: number): void {
    this.currentTime += ms;
  }

  private write(key: K, value: V, timestamp: number | undefined, headers: Headers): void {
    const ts = timestamp ?? this.currentTime;
    if (timestamp === undefined) this.currentTime += this.advance;
    this.sink.pipe(this.topic, this.keySerde.serialize(key, this.topic), this.valueSerde.serialize(value, this.topic), ts, headers);
  }
}
