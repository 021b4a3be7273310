import type { KeyValueStore, ValueAndTimestamp } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';

/** Combines a stream value with the table value of its key (`null` when a left join finds none). */
export type StreamTableJoiner<K, V, TV, VR> = (value: V, tableValue: TV | null, key: K) => VR;

/**
 * The KStream-KTable join: each stream record looks up its key in the table's store, as the table
 * is at that moment. Only stream records trigger output; table updates never do. The result keeps
 * the stream record's key and timestamp.
 *
 * ```ts
 * orders.join(customers, (order, customer) => ({ ...order, country: customer.country }));
 * ```
 *
 * A stream record with a `null` value is dropped. A `null` key is dropped by the inner join; the
 * left join emits `joiner(value, null)` for it. The inner join emits nothing when the key is not in
 * the table; the left join emits `joiner(value, null)`.
 */
export function streamTableJoinProcessor<K, V, TV, VR>(tableStoreName: string, joiner: StreamTableJoiner<K, V, TV, VR>, leftJoin: boolean): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let table: KeyValueStore<K, ValueAndTimestamp<TV>>;
    return {
      init(context) {
        ctx = context;
        table = context.getStateStore(tableStoreName);
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
        const tableValue = table.get(record.key)?.value ?? null;
        if (tableValue === null && !leftJoin) return;
        ctx.forward({ key: record.key, value: joiner(record.value, tableValue, record.key) });
      },
    };
  };
}
