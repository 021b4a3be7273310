import type { KeyValueStore, ValueAndTimestamp } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';

/** Picks the global table key a stream record joins with (`null`: no match). */
export type GlobalKeySelector<K, V, GK> = (key: K, value: V) => GK | null | undefined;

/** Combines a stream value with the global table value it selected (`null` when a left join finds none). */
export type StreamGlobalJoiner<K, V, GV, VR> = (value: V, globalValue: GV | null, key: K) => VR;

/**
 * The KStream-GlobalKTable join: each stream record looks up `keySelector(key, value)` in the
 * global table's store (replicated in full to every instance, so no co-partitioning is needed).
 * Only stream records trigger output; global table updates never do. The result keeps the stream
 * record's key (which may be `null`) and timestamp.
 *
 * ```ts
 * clicks.join(products, (_k, click) => click.productId, (click, product) => ({ ...click, product }));
 * ```
 *
 * A stream record with a `null` value is dropped. When the selected key is `null` or not in the
 * table, the inner join emits nothing (a `null` selected key counts as dropped) and the left join
 * emits `joiner(value, null)`.
 */
export function streamGlobalJoinProcessor<K, V, GK, GV, VR>(
  globalStoreName: string,
  keySelector: GlobalKeySelector<K, V, GK>,
  joiner: StreamGlobalJoiner<K, V, GV, VR>,
  leftJoin: boolean,
): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let table: KeyValueStore<GK, ValueAndTimestamp<GV>>;
    return {
      init(context) {
        ctx = context;
        table = context.getStateStore(globalStoreName);
      },
      process(record: StreamRecord<K, V>) {
        if (record.value == null) {
          ctx.recordDropped('null value');
          return;
        }
        const globalKey = keySelector(record.key, record.value);
        if (globalKey == null && !leftJoin) {
          ctx.recordDropped('null join key');
          return;
        }
        const globalValue = globalKey == null ? null : (table.get(globalKey)?.value ?? null);
        if (globalValue === null && !leftJoin) return;
        ctx.forward({ key: record.key, value: joiner(record.value, globalValue, record.key) });
      },
    };
  };
}
