import type { KeyValueStore, ValueAndTimestamp } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change, isLatestChange, type Change } from './change.ts';

/** Kafka Streams' `ValueTransformerWithKey`: a new value per key and value, with the task's stores through `init`'s context. */
export interface ValueTransformerWithKey<K, V, VR> {
  init?(context: Omit<ProcessorContext<K, VR>, 'forward' | 'forwardCached'>): void;
  /** The new value of the row; `value` is `null` for a deleted row (a tombstone), as in Kafka Streams. */
  transform(readOnlyKey: K, value: V | null): VR | null;
  close?(): void;
}

/** Creates a fresh transformer per task. */
export type ValueTransformerWithKeySupplier<K, V, VR> = () => ValueTransformerWithKey<K, V, VR>;

/**
 * `KTable.transformValues`: each change's new value goes through the transformer; the result is
 * stored and forwarded with the old one. Below an unmaterialized versioned table (`versioned`), an
 * out-of-order update is transformed and passed on with `isLatest: false`, its store left alone
 * (Kafka Streams' KTableTransformValues, KIP-914).
 */
export function tableTransformValuesProcessor<K, V, VR>(storeName: string, supplier: ValueTransformerWithKeySupplier<K, V, VR>, versioned = false): ProcessorSupplier {
  return () => {
    const transformer = supplier();
    let ctx: ProcessorContext;
    let store: KeyValueStore<K, ValueAndTimestamp<VR>>;
    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(storeName);
        transformer.init?.(context as unknown as ProcessorContext<K, VR>);
      },
      process(record: StreamRecord<K, Change<V>>) {
        const newValue = transformer.transform(record.key, record.value.newValue) ?? null;
        const old = store.get(record.key)?.value ?? null;
        if (versioned && !isLatestChange(record.value)) {
          ctx.forward({ key: record.key, value: change(newValue, old, false) });
          return;
        }
        store.put(record.key, newValue === null ? null : { value: newValue, timestamp: record.timestamp });
        ctx.forward({ key: record.key, value: change(newValue, old) });
      },
      close() {
        transformer.close?.();
      },
    };
  };
}
