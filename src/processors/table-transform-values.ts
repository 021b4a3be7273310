import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import type { Change } from './change.ts';
import type { OldValues } from './old-values.ts';
import { tableRowWriter, type TableRowWriter } from './table-row-writer.ts';

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
 * stored and forwarded with the old one, as {@link tableRowWriter} does: in a versioned store of its
 * own at the record's timestamp, or, below an unmaterialized versioned table (`passOutOfOrder`),
 * out-of-order updates passed on with `isLatest: false` (Kafka Streams' KTableTransformValues, KIP-914).
 */
export function tableTransformValuesProcessor<K, V, VR>(storeName: string, supplier: ValueTransformerWithKeySupplier<K, V, VR>, passOutOfOrder = false, oldValues?: OldValues): ProcessorSupplier {
  return () => {
    const transformer = supplier();
    let write: TableRowWriter<K, VR>;
    return {
      init(context) {
        write = tableRowWriter<K, VR>(context, storeName, passOutOfOrder, oldValues);
        transformer.init?.(context as unknown as ProcessorContext<K, VR>);
      },
      process(record: StreamRecord<K, Change<V>>) {
        write(record, transformer.transform(record.key, record.value.newValue) ?? null);
      },
      close() {
        transformer.close?.();
      },
    };
  };
}
