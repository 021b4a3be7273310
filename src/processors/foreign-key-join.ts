import type { SubscriptionResponse, SubscriptionWrapper } from '../serdes/subscription.ts';
import type { CombinedKey, KeyValueStore, SubscriptionStore, ValueAndTimestamp } from '../state/store.ts';
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';
import { change, isLatestChange, type Change } from './change.ts';

/*
 * The foreign-key table-table join, as Kafka Streams runs it (KIP-213), in five processors:
 *
 *   left table ──▶ subscriptionSend ──▶ [subscription-registration topic, keyed by FK]
 *      ──▶ subscriptionReceive (subscription store) ──▶ subscriptionJoin (reads the right table) ──▶ [subscription-response topic, keyed by PK]
 *   right table ──▶ foreignTableJoin (scans the subscription store) ──▶ [subscription-response topic]
 *      ──▶ responseJoin (reads the left table, drops stale responses by hash) ──▶ result table
 */

/** The right table's key for a left row, `null` when the row references nothing. */
export type ForeignKeyExtractor<K, V, FK> = (value: V, key: K) => FK | null | undefined;

/** Hash of a left value's serialized bytes (hex); the same function on both ends of the join. */
export type ValueHasher<V> = (value: V) => string;

/**
 * Sends a left row's subscription to its foreign key, as Kafka Streams (3.7 and later, KIP-962)
 * does. Left join: a changed foreign key unsubscribes from the old one without an answer, and every
 * change (a delete too, and a `null` foreign key) sends `propagate-null-if-no-fk-value`, whose answer
 * gives the new result. Inner join: an insert, or an update keeping its foreign key, sends
 * `propagate-only-if-fk-value`; a changed foreign key unsubscribes from the old one
 * (`delete-key-no-propagate`) and sends `propagate-null-if-no-fk-value` so an earlier result is
 * replaced even when the new foreign row is missing; a deleted row, or one whose foreign key became
 * `null` (dropped and counted), sends `delete-key-and-propagate` to the old one, whose answer
 * deletes the result.
 */
export function subscriptionSendProcessor<K, V, FK>(
  extractor: ForeignKeyExtractor<K, V, FK>,
  sameForeignKey: (a: FK | null, b: FK | null) => boolean,
  hasher: ValueHasher<V>,
  leftJoin: boolean,
): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext<FK | null, SubscriptionWrapper<K>>;
    const extract = (value: V, key: K): FK | null => extractor(value, key) ?? null;
    return {
      init(context) {
        ctx = context as ProcessorContext<FK | null, SubscriptionWrapper<K>>;
      },
      process(record: StreamRecord<K, Change<V>>) {
        if (!isLatestChange(record.value)) return; // SubscriptionSendProcessorSupplier (KIP-914)
        const { newValue, oldValue } = record.value;
        const hash = newValue === null ? null : hasher(newValue);
        const send = (foreignKey: FK | null, instruction: SubscriptionWrapper<K>['instruction']): void => {
          const primaryPartition = ctx.currentRecord?.partition ?? record.partition;
          ctx.forward({ key: foreignKey, value: { hash, instruction, primaryKey: record.key, primaryPartition }, timestamp: record.timestamp });
        };
        const oldKey = oldValue === null ? null : extract(oldValue, record.key);
        const newKey = newValue === null ? null : extract(newValue, record.key);
        if (leftJoin) {
          if (oldValue === null && newValue === null) return;
          // The new subscription's answer replaces the old result, so the old one needs none.
          if (oldKey !== null && !sameForeignKey(oldKey, newKey)) send(oldKey, 'delete-key-no-propagate');
          send(newKey, 'propagate-null-if-no-fk-value');
          return;
        }
        if (newValue === null) {
          if (oldKey !== null) send(oldKey, 'delete-key-and-propagate');
          return;
        }
        if (newKey === null) {
          ctx.recordDropped('null foreign key');
          // The row no longer joins: its old subscription goes, and its answer deletes the result.
          if (oldKey !== null) send(oldKey, 'delete-key-and-propagate');
        } else if (oldKey !== null && !sameForeignKey(oldKey, newKey)) {
          send(oldKey, 'delete-key-no-propagate');
          send(newKey, 'propagate-null-if-no-fk-value');
        } else {
          // An insert, or the same foreign key: without a foreign row there was no result to delete.
          send(newKey, 'propagate-only-if-fk-value');
        }
      },
    };
  };
}

/**
 * Receives subscriptions on the right side and keeps them in the subscription store (the deletes
 * remove them), then passes each on, keyed by `{ foreignKey, primaryKey }`, to be answered. A
 * `null` foreign key (left joins only) is passed on without being stored.
 */
export function subscriptionReceiveProcessor<FK, PK>(subscriptionStoreName: string): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext<CombinedKey<FK | null, PK>, SubscriptionWrapper<PK>>;
    let subscriptions: SubscriptionStore<FK, PK, ValueAndTimestamp<SubscriptionWrapper<PK>>>;
    return {
      init(context) {
        ctx = context as ProcessorContext<CombinedKey<FK | null, PK>, SubscriptionWrapper<PK>>;
        subscriptions = context.getStateStore(subscriptionStoreName);
      },
      process(record: StreamRecord<FK | null, SubscriptionWrapper<PK>>) {
        const wrapper = record.value;
        const foreignKey = record.key;
        if (foreignKey === null && wrapper.instruction !== 'propagate-null-if-no-fk-value') return ctx.recordDropped('null foreign key');
        if (foreignKey !== null) {
          const key = { foreignKey, primaryKey: wrapper.primaryKey };
          if (wrapper.instruction === 'delete-key-and-propagate' || wrapper.instruction === 'delete-key-no-propagate') subscriptions.delete(key);
          else subscriptions.put(key, { value: wrapper, timestamp: record.timestamp });
        }
        ctx.forward({ key: { foreignKey, primaryKey: wrapper.primaryKey }, value: wrapper, timestamp: record.timestamp });
      },
    };
  };
}

/**
 * Answers a subscription, as its instruction says, with the right row's current value, at the
 * later of the two timestamps; a `null` foreign key is answered with `null`.
 */
export function subscriptionJoinProcessor<FK, PK, VO>(rightStoreName: string): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext<PK, SubscriptionResponse<VO>>;
    let right: KeyValueStore<FK, ValueAndTimestamp<VO>>;
    return {
      init(context) {
        ctx = context as ProcessorContext<PK, SubscriptionResponse<VO>>;
        right = context.getStateStore(rightStoreName);
      },
      process(record: StreamRecord<CombinedKey<FK | null, PK>, SubscriptionWrapper<PK>>) {
        const wrapper = record.value;
        const foreign = record.key.foreignKey === null ? undefined : right.get(record.key.foreignKey);
        const timestamp = foreign ? Math.max(record.timestamp, foreign.timestamp) : record.timestamp;
        const answer = (foreignValue: VO | null): void =>
          ctx.forward({ key: wrapper.primaryKey, value: { hash: wrapper.hash, foreignValue, primaryPartition: wrapper.primaryPartition }, timestamp });
        switch (wrapper.instruction) {
          case 'delete-key-and-propagate':
            return answer(null);
          case 'propagate-null-if-no-fk-value':
            return answer(foreign?.value ?? null);
          case 'propagate-only-if-fk-value':
            if (foreign) answer(foreign.value);
            return;
          case 'delete-key-no-propagate':
            return;
        }
      },
    };
  };
}

/** A right-table update answers every left row subscribed to its key, with the new value at the update's timestamp. */
export function foreignTableJoinProcessor<FK, PK, VO>(subscriptionStoreName: string): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext<PK, SubscriptionResponse<VO>>;
    let subscriptions: SubscriptionStore<FK, PK, ValueAndTimestamp<SubscriptionWrapper<PK>>>;
    return {
      init(context) {
        ctx = context as ProcessorContext<PK, SubscriptionResponse<VO>>;
        subscriptions = context.getStateStore(subscriptionStoreName);
      },
      process(record: StreamRecord<FK, Change<VO>>) {
        if (record.key == null) return ctx.recordDropped('null key');
        if (!isLatestChange(record.value)) return; // ForeignTableJoinProcessorSupplier (KIP-914)
        for (const { key, value } of subscriptions.subscribers(record.key)) {
          const response = { hash: value.value.hash, foreignValue: record.value.newValue, primaryPartition: value.value.primaryPartition };
          ctx.forward({ key: key.primaryKey, value: response, timestamp: record.timestamp });
        }
      },
    };
  };
}

/**
 * Back on the left side: a response whose hash is not the hash of the left row's current value
 * answers an older version of the row and is dropped. Otherwise the result is
 * `joiner(leftValue, foreignValue)`, or a tombstone when the foreign value is missing (inner
 * join) or the left row is gone; the left join joins a missing foreign value as `null`.
 */
export function responseJoinProcessor<K, V, VO, VR>(
  leftStoreName: string,
  joiner: (value: V, foreignValue: VO | null) => VR,
  hasher: ValueHasher<V>,
  leftJoin: boolean,
): ProcessorSupplier {
  return () => {
    let ctx: ProcessorContext<K, Change<VR>>;
    let left: KeyValueStore<K, ValueAndTimestamp<V>>;
    return {
      init(context) {
        ctx = context as ProcessorContext<K, Change<VR>>;
        left = context.getStateStore(leftStoreName);
      },
      process(record: StreamRecord<K, SubscriptionResponse<VO>>) {
        const current = left.get(record.key);
        const currentHash = current === undefined ? null : hasher(current.value);
        if (currentHash !== record.value.hash) return ctx.recordDropped('stale foreign-key join response');
        const { foreignValue } = record.value;
        const result = current === undefined || (foreignValue === null && !leftJoin) ? null : joiner(current.value, foreignValue);
        ctx.forward({ key: record.key, value: change<VR>(result, null), timestamp: record.timestamp });
      },
    };
  };
}
