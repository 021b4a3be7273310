import { isVersionedStore, PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED, type KeyValueStore, type ValueAndTimestamp, type VersionedKeyValueStore } from '../state/store.ts';
import { tableValueGetter, type TableValueGetter } from './table-value-getter.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change, isLatestChange, type Change } from './change.ts';
import { oldValueIfSent, type OldValues } from './old-values.ts';

/** Which rows a table-table join keeps: both sides present, the left side present, or either. */
export type TableJoinKind = 'inner' | 'left' | 'outer';

/** Combines the two sides' values of one key; an absent side is `null` (left and outer joins only). */
export type TableTableJoiner<K, V1, V2, VR> = (left: V1 | null, right: V2 | null, key: K) => VR;

/**
 * One side of a KTable-KTable join: a change of this side's row is joined with the other side's
 * current row (read from the other table's store) and forwarded as a `Change` whose timestamp is
 * `max(this ts, other ts)`, or this side's ts when the other side is absent. Both sides trigger.
 *
 * Inner: nothing when the other side is absent; a tombstone when this side is deleted while the
 * other exists. Left: the left side always emits (`joiner(left, null)` without a right row); the
 * right side emits only when the left row exists. Outer: either side emits; a tombstone only when
 * both sides are now absent. Records with a `null` key are dropped. The old value is filled in by
 * the result table (see {@link tableJoinResultProcessor}). Either table may be windowed (its store
 * a window or session store): rows are then looked up by key and window.
 */
export function tableTableJoinProcessor<K, V1, V2, VR>(
  side: 'left' | 'right',
  kind: TableJoinKind,
  otherStoreName: string,
  joiner: TableTableJoiner<K, V1, V2, VR>,
): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let other: TableValueGetter<K, unknown>;
    const join = (key: K, mine: unknown, theirs: unknown): VR =>
      side === 'left' ? joiner(mine as V1 | null, theirs as V2 | null, key) : joiner(theirs as V1 | null, mine as V2 | null, key);
    return {
      init(context) {
        ctx = context;
        other = tableValueGetter(context.getStateStore(otherStoreName));
      },
      process(record: StreamRecord<K, Change<unknown>>) {
        if (record.key == null) {
          ctx.recordDropped('null key');
          return;
        }
        // KTableKTable*Join: an out-of-order versioned update must not change join results.
        if (!isLatestChange(record.value)) return;
        const { newValue, oldValue } = record.value;
        const otherRow = other(record.key);
        const otherValue = otherRow?.value ?? null;
        const thisSideIsOptional = kind === 'outer' || (kind === 'left' && side === 'right');
        const otherSideIsOptional = kind === 'outer' || (kind === 'left' && side === 'left');
        if (otherValue === null) {
          if (!otherSideIsOptional) return;
          if (newValue === null && oldValue === null) return;
        }
        const timestamp = otherRow ? Math.max(record.timestamp, otherRow.timestamp) : record.timestamp;
        const joined = newValue !== null || (thisSideIsOptional && otherValue !== null) ? join(record.key, newValue, otherValue) : null;
        ctx.forward({ ...record, timestamp, value: change<VR>(joined, null) });
      },
    };
  };
}

/**
 * Materializes a table-table join's result in its own store, so that the result is a KTable like
 * any other: each change is stored (a `null` value deletes) and forwarded with the value it
 * replaces as `oldValue` (while `oldValues` sends them; absent: always).
 */
export function tableJoinResultProcessor<K, VR>(storeName: string, oldValues?: OldValues): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext;
    let store: KeyValueStore<K, ValueAndTimestamp<VR>>;
    let versions: VersionedKeyValueStore<K, VR> | undefined;
    return {
      init(context) {
        ctx = context;
        store = context.getStateStore(storeName);
        versions = isVersionedStore(store) ? (store as unknown as VersionedKeyValueStore<K, VR>) : undefined;
      },
      process(record: StreamRecord<K, Change<VR>>) {
        const value = record.value.newValue;
        if (versions) {
          // KTableKTableJoinMerger over a versioned store: put at the record's time; refused puts are
          // not forwarded; the rest carry the join's old value and isLatest from the put.
          const validTo = versions.put(record.key, value, record.timestamp);
          if (validTo === PUT_RETURN_CODE_NOT_PUT) {
            ctx.recordDropped(`older than the history retention of versioned store '${storeName}'`);
            return;
          }
          ctx.forward({ ...record, value: change(value, oldValueIfSent(oldValues, record.value.oldValue), validTo === PUT_RETURN_CODE_VALID_TO_UNDEFINED) });
          return;
        }
        const old = oldValueIfSent(oldValues, store.get(record.key)?.value ?? null);
        store.put(record.key, value === null ? null : { value, timestamp: record.timestamp });
        ctx.forward({ ...record, value: change(value, old) });
      },
    };
  };
}
