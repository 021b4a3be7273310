import type { Headers } from '../util/headers.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';

const created = Symbol('FixedKeyRecord');

/**
 * A record whose key a processor cannot change (Kafka Streams' `FixedKeyRecord`): `processValues`
 * hands one to its processor, which forwards `record.withValue(v)`. There is no other way to make
 * one, so the key of every record it forwards is the key of a record it received.
 */
export class FixedKeyRecord<K, V> implements StreamRecord<K, V> {
  private constructor(
    readonly key: K,
    readonly value: V,
    readonly timestamp: number,
    readonly headers: Headers,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    token: typeof created,
  ) {
    if (token !== created) throw new TypeError('a FixedKeyRecord is made only from a received record: use record.withValue(...)');
  }

  /** @internal The fixed-key view of a record a processor received. */
  static of<K, V>(record: StreamRecord<K, V>): FixedKeyRecord<K, V> {
    return new FixedKeyRecord(record.key, record.value, record.timestamp, record.headers, record.topic, record.partition, record.offset, created);
  }

  /** The same record (key, timestamp, headers) with another value. */
  withValue<V2>(value: V2): FixedKeyRecord<K, V2> {
    return new FixedKeyRecord(this.key, value, this.timestamp, this.headers, this.topic, this.partition, this.offset, created);
  }

  /** The same record with another timestamp. */
  withTimestamp(timestamp: number): FixedKeyRecord<K, V> {
    return new FixedKeyRecord(this.key, this.value, timestamp, this.headers, this.topic, this.partition, this.offset, created);
  }

  /** The same record with other headers. */
  withHeaders(headers: Headers): FixedKeyRecord<K, V> {
    return new FixedKeyRecord(this.key, this.value, this.timestamp, headers, this.topic, this.partition, this.offset, created);
  }
}

/** What a fixed-key processor sees of its task: a `ProcessorContext` whose `forward` takes only `FixedKeyRecord`s. */
export interface FixedKeyProcessorContext<K, VOut> extends Omit<ProcessorContext<K, VOut>, 'forward' | 'forwardCached'> {
  /** Sends a record (made with `record.withValue(...)`) to every child node, or to the named child only. */
  forward(record: FixedKeyRecord<K, VOut>, childName?: string): void;
}

/** A processor that may change values, timestamps and headers but never keys (Kafka Streams' `FixedKeyProcessor`). */
export interface FixedKeyProcessor<K, VIn, VOut> {
  init?(context: FixedKeyProcessorContext<K, VOut>): void;
  process(record: FixedKeyRecord<K, VIn>): void;
  close?(): void;
}

/** Creates a fresh fixed-key processor per task. */
export type FixedKeyProcessorSupplier<K, VIn, VOut> = () => FixedKeyProcessor<K, VIn, VOut>;

/** Runs a fixed-key processor as a processor: records are handed over as `FixedKeyRecord`s and forwarded with their own key. */
export function fixedKeyProcessor<K, VIn, VOut>(supplier: FixedKeyProcessorSupplier<K, VIn, VOut>): ProcessorSupplier {
  return () => {
    const inner = supplier();
    return {
      init(context: ProcessorContext) {
        const fixed: FixedKeyProcessorContext<K, VOut> = {
          get applicationId() { return context.applicationId; },
          get taskId() { return context.taskId; },
          get currentRecord() { return context.currentRecord; },
          forward: (record, childName) => {
            if (!(record instanceof FixedKeyRecord)) throw new TypeError('processValues forwards FixedKeyRecords only: forward record.withValue(...) so the key stays the same');
            context.forward({ key: record.key, value: record.value, timestamp: record.timestamp, headers: record.headers }, childName);
          },
          schedule: (interval, type, punctuator) => context.schedule(interval, type, punctuator),
          getStateStore: (name) => context.getStateStore(name),
          currentStreamTimeMs: () => context.currentStreamTimeMs(),
          currentSystemTimeMs: () => context.currentSystemTimeMs(),
          recordDropped: (reason) => context.recordDropped(reason),
          reportError: (record, error, stage) => context.reportError(record, error, stage),
          registerAsync: (operator) => context.registerAsync(operator),
          emitModelRecord: (record) => context.emitModelRecord(record),
        };
        inner.init?.(fixed);
      },
      process(record: StreamRecord<K, VIn>) {
        inner.process(FixedKeyRecord.of(record));
      },
      close() {
        inner.close?.();
      },
    };
  };
}
