import type { ProcessorContext } from './api.ts';
import type { ValueTransformerWithKeySupplier } from './table-transform-values.ts';

/** One task's view of a versioned source value through the derived tables (`null`: no row). */
export type VersionedView<K, V> = (key: K, sourceValue: unknown) => V | null;

/** A view opened for one task, closed with the processor that reads through it. */
export interface OpenedView<K, V> {
  readonly read: VersionedView<K, V>;
  close(): void;
}

/**
 * How a table that keeps no history of its own answers as-of reads (Kafka Streams'
 * `KTableValueGetter.get(key, asOfTimestamp)` on an unmaterialized `filter`/`mapValues`/
 * `transformValues`): by reading the versioned source table's store as of the time and applying
 * the derived tables' filters, mappers and transformers to that historical value.
 */
export interface VersionedReadThrough<K, V> {
  /** The versioned store of the source table the reads go to. */
  readonly storeName: string;
  /** Stores the view needs besides that one (a transformer's), connected to the reading processor. */
  readonly storeNames: readonly string[];
  /** The view for one task of the reading processor (a transformer gets its own instance, as Kafka's getter does). */
  open(context: ProcessorContext): OpenedView<K, V>;
}

/** The read-through of a versioned source table itself: its own store, values as they are. */
export function versionedSource<K, V>(storeName: string): VersionedReadThrough<K, V> {
  return { storeName, storeNames: [], open: () => ({ read: (_key, value) => (value ?? null) as V | null, close: () => undefined }) };
}

/** The read-through of a table derived by `step` (a filter or mapper applied to the parent's value; `null` in, `null` out). */
export function derivedReadThrough<K, V, V2>(parent: VersionedReadThrough<K, V>, step: (key: K, value: V) => V2 | null | undefined): VersionedReadThrough<K, V2> {
  return {
    storeName: parent.storeName,
    storeNames: parent.storeNames,
    open(context) {
      const parentView = parent.open(context);
      return {
        read: (key, sourceValue) => {
          const value = parentView.read(key, sourceValue);
          return value === null ? null : (step(key, value) ?? null);
        },
        close: () => parentView.close(),
      };
    },
  };
}

/**
 * The read-through of an unmaterialized `transformValues`: a transformer of its own per task,
 * initialized with the reading processor's context, transforms the parent's value as of the time,
 * a missing row included (`null`), as Kafka Streams' KTableTransformValuesGetter does.
 */
export function transformedReadThrough<K, V, V2>(parent: VersionedReadThrough<K, V>, supplier: ValueTransformerWithKeySupplier<K, V, V2>, storeNames: readonly string[]): VersionedReadThrough<K, V2> {
  return {
    storeName: parent.storeName,
    storeNames: [...parent.storeNames, ...storeNames],
    open(context) {
      const parentView = parent.open(context);
      const transformer = supplier();
      transformer.init?.(context as unknown as ProcessorContext<K, V2>);
      return {
        read: (key, sourceValue) => transformer.transform(key, parentView.read(key, sourceValue)) ?? null,
        close: () => {
          parentView.close();
          transformer.close?.();
        },
      };
    },
  };
}
