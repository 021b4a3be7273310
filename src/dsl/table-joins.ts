import { tableJoinResultProcessor, tableTableJoinProcessor, type TableJoinKind, type TableTableJoiner } from '../processors/table-table-join.ts';
import { OldValues } from '../processors/old-values.ts';
import { addTableStore, KTable } from './ktable.ts';
import type { Materialized } from './options.ts';
import { versionedSource } from '../processors/versioned-read-through.ts';

/**
 * @internal A KTable-KTable join: one processor per side (each reads the other table's store), then
 * a merge node that materializes the result in its own store, so the result is a KTable (a
 * versioned store too, as Kafka Streams' KTableKTableJoinMerger allows).
 */
export function joinTables<K, V1, V2, VR>(left: KTable<K, V1>, right: KTable<K, V2>, joiner: TableTableJoiner<K, V1, V2, VR>, kind: TableJoinKind, materialized: Materialized<K, VR> | undefined): KTable<K, VR> {
  const builder = left.builder;
  const thisJoin = builder.newName('KTABLE-JOINTHIS-');
  const otherJoin = builder.newName('KTABLE-JOINOTHER-');
  const merge = builder.newName('KTABLE-MERGE-');
  const keySerde = left.keySerde ?? right.keySerde;
  const storeName = addTableStore(builder, materialized, 'KTABLE-MERGE-STATE-STORE-', keySerde, materialized?.valueSerde);
  // Each side reads the other's row and its own old value (KTableKTableAbstractJoin asks both).
  left.oldValues.enable(true);
  right.oldValues.enable(true);
  const oldValues = OldValues.onRequest();
  builder.addProcessor(thisJoin, [left.nodeName], tableTableJoinProcessor('left', kind, right.storeName, joiner), [right.storeName]);
  builder.addProcessor(otherJoin, [right.nodeName], tableTableJoinProcessor('right', kind, left.storeName, joiner), [left.storeName]);
  builder.addProcessor(merge, [thisJoin, otherJoin], tableJoinResultProcessor(storeName, oldValues), [storeName]);
  builder.copartition([left.nodeName, right.nodeName]);
  // Materialized as a versioned store, the result keeps its own history: joins read it as of a time.
  const readThrough = materialized?.versioned ? versionedSource<K, VR>(storeName) : undefined;
  return new KTable<K, VR>(builder, merge, materialized?.keySerde ?? keySerde, materialized?.valueSerde, storeName, readThrough, oldValues);
}
