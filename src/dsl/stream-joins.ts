import { passThroughProcessor } from '../processors/stateless.ts';
import { streamGlobalJoinProcessor, type GlobalKeySelector, type StreamGlobalJoiner } from '../processors/stream-global-join.ts';
import { joinWindowProcessor, sharedJoinTime, streamStreamJoinProcessor, type StreamStreamJoiner } from '../processors/stream-stream-join.ts';
import { GRACE_NEEDS_VERSIONED_TABLE, streamTableJoinProcessor, type StreamTableGrace, type StreamTableJoiner } from '../processors/stream-table-join.ts';
import { graceBufferValueSerde } from '../serdes/grace-buffer.ts';
import { TopologyError } from '../topology/errors.ts';
import { toMillis } from '../util/duration.ts';
import { joinBufferKeySerde, joinBufferValueSerde } from '../serdes/join-buffer.ts';
import type { Serde } from '../serdes/serde.ts';
import { GlobalKTable } from './global-ktable.ts';
import { JoinWindows } from './join-windows.ts';
import type { Joined, StreamJoined } from './joined.ts';
import { KStream } from './kstream.ts';
import { KTable } from './ktable.ts';
import type { Named } from './options.ts';

/** Which unmatched records a join emits: none (inner), the left side's (left), or both sides' (outer). */
export type JoinKind = 'inner' | 'left' | 'outer';

/** @internal `KStream.join/leftJoin/outerJoin`: picks the join by the type of `other`. */
export function streamJoin<K>(stream: KStream<K, unknown>, kind: JoinKind, other: unknown, a: unknown, b: unknown, c: unknown): KStream<K, unknown> {
  const method = kind === 'inner' ? 'join' : `${kind}Join`;
  if (other instanceof GlobalKTable) {
    if (kind === 'outer') throw new TypeError('outerJoin() takes a KStream: a KStream-GlobalKTable join is join() or leftJoin()');
    if (typeof a !== 'function' || typeof b !== 'function') throw new TypeError(`${method}(globalTable, keySelector, joiner): keySelector and joiner must be functions`);
    return joinStreamGlobal(stream, other, a as GlobalKeySelector<K, unknown, unknown>, b as StreamGlobalJoiner<K, unknown, unknown, unknown>, kind === 'left', c as Named | undefined);
  }
  if (other instanceof KTable) {
    if (kind === 'outer') throw new TypeError('outerJoin() takes a KStream: a KStream-KTable join is join() or leftJoin()');
    if (typeof a !== 'function') throw new TypeError(`${method}(table, joiner): joiner must be a function`);
    return joinStreamTable(stream, other as KTable<K, unknown>, a as StreamTableJoiner<K, unknown, unknown, unknown>, kind === 'left', (b ?? {}) as Joined<K, unknown, unknown>);
  }
  if (other instanceof KStream) {
    if (typeof a !== 'function') throw new TypeError(`${method}(stream, joiner, windows): joiner must be a function`);
    if (!(b instanceof JoinWindows)) throw new TypeError(`${method}(stream, joiner, windows): a stream-stream join needs JoinWindows, e.g. JoinWindows.ofTimeDifferenceWithNoGrace('5m')`);
    return joinStreams(stream, other as KStream<K, unknown>, a as StreamStreamJoiner<K, unknown, unknown, unknown>, b, kind, (c ?? {}) as StreamJoined<K, unknown, unknown>);
  }
  throw new TypeError(`${method}() joins a KStream, a KTable or a GlobalKTable`);
}

/** A KStream-KTable join: a processor that looks up the table's store; the stream is repartitioned first if its key changed. */
function joinStreamTable<K, V, VT, VR>(stream: KStream<K, V>, table: KTable<K, VT>, joiner: StreamTableJoiner<K, V, VT, VR>, leftJoin: boolean, options: Joined<K, V, VT>): KStream<K, VR> {
  const builder = stream.builder;
  const keySerde = options.keySerde ?? stream.keySerde ?? table.keySerde;
  const valueSerde = options.valueSerde ?? stream.valueSerde;
  // Kafka Streams repartitions first (named after the join, or after the node before it), then names the join.
  const input = stream.repartitionRequired ? stream.repartitionForJoin(options.name, keySerde, valueSerde) : stream;
  const name = builder.name(options.name, 'KSTREAM-JOIN-');
  const grace = options.gracePeriod === undefined ? undefined : graceBuffer(builder, table, name, toMillis(options.gracePeriod, `gracePeriod of join '${name}'`), keySerde, valueSerde);
  // A versioned table, or an unmaterialized filter/mapValues/transformValues of one, is read as of each record's time in the source's store.
  const readThrough = table.versionedReadThrough;
  const tableStore = readThrough?.storeName ?? table.storeName;
  const stores = [tableStore, ...(readThrough?.storeNames ?? []), ...(grace ? [grace.bufferStoreName] : [])];
  builder.addProcessor(name, [input.nodeName], streamTableJoinProcessor(tableStore, joiner, leftJoin, grace, readThrough ? (context) => readThrough.open(context) : undefined), stores);
  builder.copartition([input.nodeName, table.nodeName]);
  return new KStream<K, VR>(builder, name, keySerde, undefined, false);
}

/**
 * The buffer of a stream-table join with a grace period (Kafka Streams' `<name>-Buffer`): a window
 * store keeping every record by timestamp, whose retention is the grace period, so records leave it
 * (and Redis) as stream time passes them. Fails fast unless the table is versioned with at least
 * the grace period of history, as Kafka Streams does.
 */
function graceBuffer<K, V, VT>(builder: KStream<K, V>['builder'], table: KTable<K, VT>, name: string, graceMs: number, keySerde: Serde<K> | undefined, valueSerde: Serde<V> | undefined): StreamTableGrace {
  const storeName = table.versionedReadThrough?.storeName ?? table.storeName;
  const spec = builder.stores.get(storeName);
  if (!spec?.versioned) {
    throw new TopologyError(`${GRACE_NEEDS_VERSIONED_TABLE} Join '${name}' has a grace period, but table store '${storeName}' keeps no history: create the table with builder.table(topic, consumed, { versioned: { historyRetention } }) (a filter or mapValues of it stays versioned unless given a store name), or drop gracePeriod`);
  }
  if (spec.versioned.historyRetentionMs < graceMs) {
    throw new TopologyError(`History retention must be at least grace period. Join '${name}' has gracePeriod ${graceMs} ms, table store '${storeName}' historyRetention ${spec.versioned.historyRetentionMs} ms: raise the retention or shorten the grace`);
  }
  const bufferStoreName = `${name}-Buffer`;
  const vs = (valueSerde as Serde<unknown> | undefined) ?? builder.defaults.valueSerde;
  builder.addStore({
    name: bufferStoreName, type: 'window', retentionMs: graceMs, retainDuplicates: true,
    ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
    ...(vs ? { valueSerde: graceBufferValueSerde(vs) as Serde<unknown> } : {}),
  });
  return { graceMs, bufferStoreName };
}

/** A KStream-GlobalKTable join: no repartitioning and no co-partitioning (the global table is everywhere). */
function joinStreamGlobal<K, V, GK, GV, VR>(
  stream: KStream<K, V>, globalTable: GlobalKTable<GK, GV>, keySelector: GlobalKeySelector<K, V, GK>, joiner: StreamGlobalJoiner<K, V, GV, VR>, leftJoin: boolean, named: Named | undefined,
): KStream<K, VR> {
  const builder = stream.builder;
  const name = builder.name(named?.name, 'KSTREAM-JOIN-');
  builder.addProcessor(name, [stream.nodeName], streamGlobalJoinProcessor(globalTable.storeName, keySelector, joiner, leftJoin), [globalTable.storeName]);
  return new KStream<K, VR>(builder, name, stream.keySerde, undefined, stream.repartitionRequired);
}

/**
 * A KStream-KStream join: each side is buffered in a window store (duplicates kept) and probes the
 * other side's; left/outer joins add a buffer of unmatched records, emitted when their window
 * closes. The two sides share one stream time, and both results flow into one merge node.
 */
function joinStreams<K, V, VO, VR>(
  left: KStream<K, V>, right: KStream<K, VO>, joiner: StreamStreamJoiner<K, V, VO, VR>, windows: JoinWindows, kind: JoinKind, options: StreamJoined<K, V, VO>,
): KStream<K, VR> {
  const builder = left.builder;
  const keySerde = options.keySerde ?? left.keySerde ?? right.keySerde;
  const leftValueSerde = options.valueSerde ?? left.valueSerde;
  const rightValueSerde = options.otherValueSerde ?? right.valueSerde;
  // As Kafka Streams' doJoin: `<name>-left`/`-right`, or after each side's node when unnamed.
  const leftInput = left.repartitionRequired ? left.repartitionForJoin(options.name === undefined ? undefined : `${options.name}-left`, keySerde, leftValueSerde) : left;
  const rightInput = right.repartitionRequired ? right.repartitionForJoin(options.name === undefined ? undefined : `${options.name}-right`, keySerde, rightValueSerde) : right;
  // Kafka Streams' KStreamImplJoin names: per side a windowed node that keeps the side's records in
  // its window store and a join node that looks up the other side's; then a merge node.
  const named = options.name;
  const leftOuter = kind !== 'inner';
  const rightOuter = kind === 'outer';
  const thisWindowed = builder.name(named === undefined ? undefined : `${named}-this-windowed`, 'KSTREAM-WINDOWED-');
  const otherWindowed = builder.name(named === undefined ? undefined : `${named}-other-windowed`, 'KSTREAM-WINDOWED-');
  const thisPrefix = rightOuter ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-';
  const joinThisGenerated = builder.newName(thisPrefix);
  const joinOtherGenerated = builder.newName(leftOuter ? 'KSTREAM-OUTEROTHER-' : 'KSTREAM-JOINOTHER-');
  const joinThisSuffix = rightOuter ? '-outer-this-join' : '-this-join';
  const joinOtherSuffix = leftOuter ? '-outer-other-join' : '-other-join';
  const thisJoin = named === undefined ? joinThisGenerated : `${named}${joinThisSuffix}`;
  const otherJoin = named === undefined ? joinOtherGenerated : `${named}${joinOtherSuffix}`;
  const merge = builder.name(named === undefined ? undefined : `${named}-merge`, 'KSTREAM-MERGE-');

  const storeBase = options.storeName;
  const thisStore = `${storeBase === undefined ? joinThisGenerated : `${storeBase}${joinThisSuffix}`}-store`;
  const otherStore = `${storeBase === undefined ? joinOtherGenerated : `${storeBase}${joinOtherSuffix}`}-store`;
  const windowStore = (storeName: string, valueSerde: Serde<unknown> | undefined): void =>
    builder.addStore({
      name: storeName, type: 'window', retentionMs: windows.retentionMs(), windowSizeMs: windows.size(), retainDuplicates: true,
      ...(keySerde ? { keySerde: keySerde as Serde<unknown> } : {}),
      ...(valueSerde ? { valueSerde } : {}),
    });
  windowStore(thisStore, leftValueSerde as Serde<unknown> | undefined);
  windowStore(otherStore, rightValueSerde as Serde<unknown> | undefined);
  let outerStore: string | undefined;
  if (leftOuter) {
    // OuterStreamJoinStoreFactory: `<storeName>-outer-shared-join-store` (`-left-shared-join-store` for a
    // left join), or KSTREAM-OUTERSHARED- with the this-side join's number.
    const shared = storeBase === undefined ? `KSTREAM-OUTERSHARED-${joinThisGenerated.slice(thisPrefix.length)}` : `${storeBase}${rightOuter ? '-outer-shared-join' : '-left-shared-join'}`;
    outerStore = `${shared}-store`;
    const ks = (keySerde as Serde<unknown> | undefined) ?? builder.defaults.keySerde;
    const ls = (leftValueSerde as Serde<unknown> | undefined) ?? builder.defaults.valueSerde;
    const rs = (rightValueSerde as Serde<unknown> | undefined) ?? builder.defaults.valueSerde;
    builder.addStore({
      name: outerStore, type: 'key-value',
      ...(ks ? { keySerde: joinBufferKeySerde(ks) as Serde<unknown> } : {}),
      ...(ls && rs ? { valueSerde: joinBufferValueSerde(ls, rs) as Serde<unknown> } : {}),
    });
  }

  const time = sharedJoinTime();
  const common = { beforeMs: windows.beforeMs, afterMs: windows.afterMs, graceMs: windows.graceMs, joiner, time, ...(outerStore ? { outerStoreName: outerStore } : {}) };
  const withOuter = (store: string): string[] => (outerStore ? [store, outerStore] : [store]);
  builder.addProcessor(thisWindowed, [leftInput.nodeName], joinWindowProcessor(thisStore), [thisStore]);
  builder.addProcessor(otherWindowed, [rightInput.nodeName], joinWindowProcessor(otherStore), [otherStore]);
  builder.addProcessor(thisJoin, [thisWindowed], streamStreamJoinProcessor({ ...common, side: 'left', outer: leftOuter, otherStoreName: otherStore }), withOuter(otherStore));
  builder.addProcessor(otherJoin, [otherWindowed], streamStreamJoinProcessor({ ...common, side: 'right', outer: rightOuter, otherStoreName: thisStore }), withOuter(thisStore));
  builder.addProcessor(merge, [thisJoin, otherJoin], passThroughProcessor());
  builder.copartition([leftInput.nodeName, rightInput.nodeName]);
  return new KStream<K, VR>(builder, merge, keySerde, undefined, false);
}
