import type { GraceBufferedRecord } from '../serdes/grace-buffer.ts';
import { compareKeys } from '../state/key-id.ts';
import { isVersionedStore, type KeyValueStore, type ValueAndTimestamp, type VersionedKeyValueStore, type WindowStore } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import type { OpenedView } from './versioned-read-through.ts';

/** Combines a stream value with the table value of its key (`null` when a left join finds none). */
export type StreamTableJoiner<K, V, TV, VR> = (value: V, tableValue: TV | null, key: K) => VR;

/** Kafka Streams' `Joined.withGracePeriod`: how long stream records wait, and the window store they wait in. */
export interface StreamTableGrace {
  graceMs: number;
  bufferStoreName: string;
}

/** The message Kafka Streams gives, with what to change. */
export const GRACE_NEEDS_VERSIONED_TABLE = 'KTable must be versioned to use a grace period in a stream table join.';

/**
 * The KStream-KTable join: each stream record looks up its key in the table's store, as the table
 * is at that moment, or, for a versioned table, as it was at the record's timestamp. Only stream
 * records trigger output; table updates never do. The result keeps the stream record's key,
 * timestamp and headers.
 *
 * ```ts
 * orders.join(customers, (order, customer) => ({ ...order, country: customer.country }));
 * ```
 *
 * A stream record with a `null` value is dropped. A `null` key is dropped by the inner join; the
 * left join emits `joiner(value, null)` for it. The inner join emits nothing when the key is not in
 * the table; the left join emits `joiner(value, null)`.
 *
 * `openView` reads a filtered, mapped or transformed table of a versioned table through the
 * source's store: the source value as of the record's time (`null` when none), filtered, mapped
 * and transformed by a view opened per task (Kafka Streams' value getters).
 *
 * With a grace period (versioned tables only) records wait in a buffer until stream time (the
 * largest timestamp buffered) has passed them by the grace period, then join in timestamp order;
 * a record already older than that joins at once. As Kafka Streams' buffer, it is never flushed
 * early: records wait for later ones.
 */
export function streamTableJoinProcessor<K, V, TV, VR>(tableStoreName: string, joiner: StreamTableJoiner<K, V, TV, VR>, leftJoin: boolean, grace?: StreamTableGrace, openView?: (context: ProcessorContext) => OpenedView<K, TV>): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let lookup: (key: K, timestamp: number) => TV | null;
    let buffer: WindowStore<K, GraceBufferedRecord> | undefined;
    let view: OpenedView<K, TV> | undefined;
    /** The buffer's stream time: the largest timestamp buffered, as Kafka's time-ordered buffer keeps it. */
    const bufferTime = (): number => (buffer as unknown as { observedStreamTime?: number }).observedStreamTime ?? -1;

    const join = (key: K, value: V, timestamp: number, headers: StreamRecord<K, V>['headers']): void => {
      const tableValue = lookup(key, timestamp);
      if (tableValue === null && !leftJoin) return;
      ctx.forward({ key, value: joiner(value, tableValue, key), timestamp, headers });
    };

    return {
      init(context) {
        ctx = context;
        const store = context.getStateStore(tableStoreName);
        if (isVersionedStore(store)) {
          const versioned = store as VersionedKeyValueStore<K, unknown>;
          view = openView?.(context);
          const read = view?.read;
          lookup = read
            ? (key, timestamp) => read(key, versioned.get(key, timestamp)?.value ?? null)
            : (key, timestamp) => (versioned.get(key, timestamp)?.value as TV | undefined) ?? null;
        } else {
          if (grace) throw new TypeError(`${GRACE_NEEDS_VERSIONED_TABLE} Store '${tableStoreName}' is not versioned: materialize the table with { versioned: { historyRetention } }`);
          const table = store as KeyValueStore<K, ValueAndTimestamp<TV>>;
          lookup = (key) => table.get(key)?.value ?? null;
        }
        if (grace) buffer = context.getStateStore<WindowStore<K, GraceBufferedRecord>>(grace.bufferStoreName);
      },
      process(record: StreamRecord<K, V>) {
        if (record.value == null) {
          ctx.recordDropped('null value');
          return;
        }
        if (record.key == null) {
          if (leftJoin) ctx.forward({ key: record.key, value: joiner(record.value, null, record.key) });
          else ctx.recordDropped('null key');
          return;
        }
        if (!buffer || !grace) {
          join(record.key, record.value, record.timestamp, record.headers);
          return;
        }
        const before = bufferTime();
        if (before - grace.graceMs > record.timestamp) {
          join(record.key, record.value, record.timestamp, record.headers);
          return;
        }
        // Records at or before the new bound leave the buffer, this one among them when it is old enough.
        const bound = Math.max(before, record.timestamp) - grace.graceMs;
        const due = buffer.fetchAll(Number.MIN_SAFE_INTEGER, bound).map((e) => ({ key: e.key.key, timestamp: e.key.window.start, value: e.value.value as V, headers: e.value.headers }));
        if (record.timestamp <= bound) {
          let at = due.length;
          const after = (d: { key: K; timestamp: number }): boolean => d.timestamp > record.timestamp || (d.timestamp === record.timestamp && compareKeys(d.key, record.key) > 0);
          while (at > 0 && after(due[at - 1]!)) at--;
          due.splice(at, 0, { key: record.key, timestamp: record.timestamp, value: record.value, headers: record.headers });
        }
        // The put advances the buffer's time, which expires (deletes) every record at or before the bound.
        buffer.put(record.key, { value: record.value, headers: record.headers }, record.timestamp);
        for (const d of due) join(d.key, d.value, d.timestamp, d.headers);
      },
      close() {
        view?.close();
      },
    };
  };
}
