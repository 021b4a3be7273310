import { createHash } from 'node:crypto';
import { foreignTableJoinProcessor, responseJoinProcessor, subscriptionJoinProcessor, subscriptionReceiveProcessor, subscriptionSendProcessor, type ForeignKeyExtractor } from '../processors/foreign-key-join.ts';
import { tableSourceResultProcessor } from '../processors/table-row-writer.ts';
import { versionedSource } from '../processors/versioned-read-through.ts';
import type { Serde } from '../serdes/serde.ts';
import { combinedKeySerde, subscriptionResponseSerde, subscriptionWrapperSerde, type SubscriptionResponse, type SubscriptionWrapper } from '../serdes/subscription.ts';
import { keyId } from '../state/key-id.ts';
import type { StreamPartitioner } from '../topology/nodes.ts';
import { TopologyError } from '../topology/errors.ts';
import { addTableStore, isNamed, KTable } from './ktable.ts';
import { OldValues } from '../processors/old-values.ts';
import type { Materialized, Named } from './options.ts';

/**
 * Options of a foreign-key join (Kafka Streams' `TableJoined`). `name` names its internal topics
 * (`<name>-subscription-registration-topic`, `<name>-subscription-response-topic`), its
 * subscription store (`<name>-subscription-store`) and processors. `partitioner` is how the left
 * table's topic is partitioned (the responses follow it; default: back to the partition that
 * asked), `otherPartitioner` how the right table's topic is (the subscriptions follow it; default:
 * murmur2 of the foreign key's bytes). Each sees the key only.
 */
export interface TableJoined<K, FK> extends Named {
  partitioner?: (key: K, numPartitions: number) => number | undefined;
  otherPartitioner?: (foreignKey: FK, numPartitions: number) => number | undefined;
}

/** Builds `TableJoined` options: `TableJoined.as('orders-by-customer')`, `TableJoined.with(partitioner, otherPartitioner)`. */
export const TableJoined = {
  as<K = unknown, FK = unknown>(name: string): TableJoined<K, FK> {
    return { name };
  },
  with<K, FK>(partitioner?: TableJoined<K, FK>['partitioner'], otherPartitioner?: TableJoined<K, FK>['otherPartitioner']): TableJoined<K, FK> {
    return { ...(partitioner ? { partitioner } : {}), ...(otherPartitioner ? { otherPartitioner } : {}) };
  },
};

function required<T>(serde: Serde<T> | undefined, fallback: Serde<unknown> | null, what: string): Serde<T> {
  const found = serde ?? (fallback as Serde<T> | null);
  if (!found) throw new TopologyError(`a foreign-key join needs the ${what} serde: give the table one (Consumed or Materialized) or set the builder's default`);
  return found;
}

/**
 * @internal The foreign-key join of `left` with `right`: each left row joins the right row whose
 * key `extractor` gives. Two internal topics carry subscriptions to the right side and responses
 * back, so the two tables need not be co-partitioned; the right side keeps a subscription store.
 */
export function joinOnForeignKey<K, V, FK, VO, VR>(
  left: KTable<K, V>,
  right: KTable<FK, VO>,
  extractor: ForeignKeyExtractor<K, V, FK>,
  joiner: (value: V, foreignValue: VO | null) => VR,
  leftJoin: boolean,
  tableJoined: TableJoined<K, FK>,
  materialized: Materialized<K, VR> | undefined,
): KTable<K, VR> {
  const builder = left.builder;
  const defaults = builder.defaults;
  const primaryKeySerde = required(left.keySerde, defaults.keySerde, 'left table key');
  const leftValueSerde = required(left.valueSerde, defaults.valueSerde, 'left table value');
  const foreignKeySerde = required(right.keySerde, defaults.keySerde, 'right table key');
  const foreignValueSerde = required(right.valueSerde, defaults.valueSerde, 'right table value');
  const named = (suffix: string, prefix: string): string => (tableJoined.name !== undefined ? `${tableJoined.name}${suffix}` : builder.newName(prefix));

  const registrationTopic = `${named('-subscription-registration', 'KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-')}-topic`;
  const hasher = (value: V): string => createHash('md5').update(leftValueSerde.serialize(value, `${registrationTopic}-vh`) ?? Buffer.alloc(0)).digest('hex');
  const sameForeignKey = (a: FK | null, b: FK | null): boolean => (a === null || b === null ? a === b : keyId(a) === keyId(b));

  // Old values must flow from both tables: the left's to retract a subscription when its foreign
  // key changes, the right's to skip updates that change nothing (Kafka's doJoinOnForeignKey).
  right.oldValues.enable(true);
  left.oldValues.enable(true);
  const send = named('-subscription-registration-processor', 'KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-');
  builder.addProcessor(send, [left.nodeName], subscriptionSendProcessor<K, V, FK>(extractor, sameForeignKey, hasher, leftJoin));
  const otherPartitioner = tableJoined.otherPartitioner;
  builder.addSink({
    name: named('-subscription-registration-sink', 'KTABLE-SINK-'), parents: [send], topic: registrationTopic, internal: true,
    keySerde: foreignKeySerde as Serde<unknown>, valueSerde: subscriptionWrapperSerde(primaryKeySerde) as Serde<unknown>,
    ...(otherPartitioner ? { partitioner: ((fk: FK | null, _v: SubscriptionWrapper<K>, n: number) => (fk === null ? undefined : otherPartitioner(fk, n))) as StreamPartitioner } : {}),
  });
  const registrationSource = named('-subscription-registration-source', 'KTABLE-SOURCE-');
  builder.addSource({ name: registrationSource, topics: [registrationTopic], internal: true, keySerde: foreignKeySerde as Serde<unknown>, valueSerde: subscriptionWrapperSerde(primaryKeySerde) as Serde<unknown> });
  builder.copartition([registrationSource, right.nodeName]);

  const subscriptionStore = named('-subscription-store', 'KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-');
  builder.addStore({
    name: subscriptionStore, type: 'key-value', timestamped: true, foreignKeyIndexed: true,
    keySerde: combinedKeySerde(foreignKeySerde, primaryKeySerde) as Serde<unknown>, valueSerde: subscriptionWrapperSerde(primaryKeySerde) as Serde<unknown>,
  });
  const receive = named('-subscription-receive', 'KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-');
  builder.addProcessor(receive, [registrationSource], subscriptionReceiveProcessor<FK, K>(subscriptionStore), [subscriptionStore]);
  const subscriptionJoin = named('-subscription-join-foreign', 'KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-');
  builder.addProcessor(subscriptionJoin, [receive], subscriptionJoinProcessor<FK, K, VO>(right.storeName), [right.storeName]);
  const foreignJoin = named('-foreign-join-subscription', 'KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-');
  builder.addProcessor(foreignJoin, [right.nodeName], foreignTableJoinProcessor<FK, K, VO>(subscriptionStore), [subscriptionStore]);

  const responseTopic = `${named('-subscription-response', 'KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-')}-topic`;
  const partitioner = tableJoined.partitioner;
  const responsePartitioner = (key: K, value: SubscriptionResponse<VO>, n: number): number | undefined =>
    partitioner ? partitioner(key, n) : value.primaryPartition < n ? value.primaryPartition : undefined;
  builder.addSink({
    name: named('-subscription-response-sink', 'KTABLE-SINK-'), parents: [subscriptionJoin, foreignJoin], topic: responseTopic, internal: true,
    keySerde: primaryKeySerde as Serde<unknown>, valueSerde: subscriptionResponseSerde(foreignValueSerde) as Serde<unknown>,
    partitioner: responsePartitioner as StreamPartitioner,
  });
  const responseSource = named('-subscription-response-source', 'KTABLE-SOURCE-');
  builder.addSource({ name: responseSource, topics: [responseTopic], internal: true, keySerde: primaryKeySerde as Serde<unknown>, valueSerde: subscriptionResponseSerde(foreignValueSerde) as Serde<unknown> });
  builder.copartition([responseSource, left.nodeName]);

  const resolver = named('-subscription-response-resolver', 'KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-');
  builder.addProcessor(resolver, [responseSource], responseJoinProcessor<K, V, VO, VR>(left.storeName, joiner, hasher, leftJoin), [left.storeName]);
  // The result may be a versioned store, as Kafka Streams' doJoinOnForeignKey allows (its KTableSource puts through KeyValueStoreWrapper).
  const storeName = addTableStore(builder, materialized, 'KTABLE-FK-JOIN-OUTPUT-STATE-STORE-', left.keySerde, materialized?.valueSerde);
  const result = named('-result', 'KTABLE-FK-JOIN-OUTPUT-');
  const oldValues = OldValues.source(isNamed(materialized));
  builder.addProcessor(result, [resolver], tableSourceResultProcessor<K, VR>(storeName, oldValues), [storeName]);
  const readThrough = materialized?.versioned ? versionedSource<K, VR>(storeName) : undefined;
  return new KTable<K, VR>(builder, result, materialized?.keySerde ?? left.keySerde, materialized?.valueSerde, storeName, readThrough, oldValues);
}
