/*
 * The versioned cases of Kafka Streams' join integration tests, which run on the
 * TopologyTestDriver over AbstractJoinIntegrationTest's input (see join-integration-utils.ts),
 * with their expected outputs as Kafka lists them:
 * - StreamTableJoinIntegrationTest.testInnerWithVersionedStore / testLeftWithVersionedStore;
 * - StreamTableJoinWithGraceIntegrationTest.testInnerWithVersionedStore / testLeftWithVersionedStore
 *   (Joined.with(..., "Grace", Duration.ofMillis(2)));
 * - TableTableJoinIntegrationTest.test{Inner,Left,Outer}With{VersionedStores,LeftVersionedOnly,RightVersionedOnly}.
 * Kafka runs each with the record cache on and off; the driver here has no cache, so the
 * cacheEnabled = false lists are the ones ported (for two versioned tables Kafka expects the same
 * list either way, versioned stores having no cache).
 *
 * Each case runs twice: as Kafka writes it, and with every versioned table built instead as an
 * unversioned source table passed through a pass-all filter (or identity mapValues) materialized
 * as a versioned store with the same retention. KTableFilter/KTableMapValues put every update into
 * that store exactly as KTableSource puts it into its own, forward the same new and old values,
 * take isLatest from the same put return code, and their value getter reads that store: so Kafka
 * expects the same output, and the port checks it.
 */
import { describe, it } from 'vitest';
import { Joined, Materialized, Stores, type KTable, type StreamsBuilder } from 'tributary';
import { consumed, INPUT_TOPIC_LEFT, INPUT_TOPIC_RIGHT, longs, newBuilder, OUTPUT_TOPIC, produced, rec, runTestWithDriver, strings, valueJoiner, type Expected } from './join-integration-utils.ts';

const _ = null;

type Shape = 'source' | 'derived';
const shapes: Shape[] = ['source', 'derived'];

/**
 * A table materialized as a versioned store named `name`: `builder.table(topic, versioned)`, or
 * (`derived`) `builder.table(topic).filter(passAll | mapValues(identity), versioned)`.
 */
function versionedTable(builder: StreamsBuilder, topic: string, name: string, shape: Shape, via: 'filter' | 'mapValues' = 'filter'): KTable<number, string> {
  const store = Materialized.as<number, string>(Stores.persistentVersionedKeyValueStore(name, '5m'));
  if (shape === 'source') return builder.table<number, string>(topic, consumed, store);
  const plain = builder.table<number, string>(topic, consumed);
  return via === 'filter' ? plain.filter(() => true, store) : plain.mapValues((v) => v, store);
}

describe.each(shapes)('StreamTableJoinIntegrationTest, versioned table (%s)', (shape) => {
  const STORE_NAME = 'table-store';
  const build = (kind: 'inner' | 'left', gracePeriod?: number) => {
    const builder = newBuilder();
    const leftStream = builder.stream<number, string>(INPUT_TOPIC_LEFT, consumed);
    const rightTable = versionedTable(builder, INPUT_TOPIC_RIGHT, STORE_NAME, shape);
    const joined = gracePeriod === undefined ? {} : Joined.with(longs, strings, strings, 'Grace', gracePeriod);
    (kind === 'inner' ? leftStream.join(rightTable, valueJoiner, joined) : leftStream.leftJoin(rightTable, valueJoiner, joined)).to(OUTPUT_TOPIC, { keySerde: longs, valueSerde: strings });
    return builder.build();
  };

  it('StreamTableJoinIntegrationTest.testInnerWithVersionedStore', async () => {
    const expected: Expected = [_, _, _, _, [rec('B-a', 5)], _, _, _, _, _, _, _, _, _, [rec('D-b', 6)], _, _, _, [rec('E-e', 15)], _, _, [rec('F-a', 4)], _];
    await runTestWithDriver(expected, build('inner'));
  });

  it('StreamTableJoinIntegrationTest.testLeftWithVersionedStore', async () => {
    const expected: Expected = [_, _, [rec('A-null', 3)], _, [rec('B-a', 5)], _, _, _, [rec('C-null', 9)], _, _, _, _, _, [rec('D-b', 6)], _, _, _, [rec('E-e', 15)], _, _, [rec('F-a', 4)], _];
    await runTestWithDriver(expected, build('left'));
  });

  it('StreamTableJoinWithGraceIntegrationTest.testInnerWithVersionedStore', async () => {
    const expected: Expected = [_, _, _, _, _, _, _, _, [rec('B-a', 5)], _, _, _, _, _, [rec('D-b', 6)], _, _, _, _, _, _, [rec('F-a', 4)], _];
    await runTestWithDriver(expected, build('inner', 2));
  });

  it('StreamTableJoinWithGraceIntegrationTest.testLeftWithVersionedStore', async () => {
    const expected: Expected = [_, _, _, _, [rec('A-null', 3)], _, _, _, [rec('B-a', 5)], _, _, _, _, _, [rec('D-b', 6)], _, _, _, [rec('C-null', 9)], _, _, [rec('F-a', 4)], _];
    await runTestWithDriver(expected, build('left', 2));
  });
});

describe.each(shapes)('TableTableJoinIntegrationTest, versioned tables (%s)', (shape) => {
  const APP_ID = 'table-table-join-integration-test';
  const STORE_NAME = `${APP_ID}-store`;
  const table = (builder: StreamsBuilder, topic: string, name: string, versioned: boolean, via: 'filter' | 'mapValues'): KTable<number, string> =>
    versioned ? versionedTable(builder, topic, name, shape, via) : builder.table<number, string>(topic, consumed, Materialized.as(name));
  const build = (kind: 'inner' | 'left' | 'outer', leftVersioned: boolean, rightVersioned: boolean) => {
    const builder = newBuilder();
    const leftTable = table(builder, INPUT_TOPIC_LEFT, 'left', leftVersioned, 'filter');
    const rightTable = table(builder, INPUT_TOPIC_RIGHT, 'right', rightVersioned, 'mapValues');
    const materialized = { storeName: STORE_NAME, keySerde: longs, valueSerde: strings };
    const joinedTable = kind === 'inner'
      ? leftTable.join(rightTable, valueJoiner, materialized)
      : kind === 'left' ? leftTable.leftJoin(rightTable, valueJoiner, materialized) : leftTable.outerJoin(rightTable, valueJoiner, materialized);
    joinedTable.toStream().to(OUTPUT_TOPIC, produced);
    return builder.build();
  };

  it('TableTableJoinIntegrationTest.testInnerWithVersionedStores', async () => {
    const expected: Expected = [_, _, _, [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec(null, 7)], _, _, [rec('C-c', 10)], [rec(null, 11)], _, _, _, _, _, _, _, [rec('E-e', 15)], _, _, _, _];
    await runTestWithDriver(expected, build('inner', true, true), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testLeftWithVersionedStores', async () => {
    const expected: Expected = [_, _, [rec('A-null', 3)], [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec(null, 7)], _, [rec('C-null', 9)], [rec('C-c', 10)], [rec('C-null', 11)], [rec(null, 12)], _, _, _, _, _, _, [rec('E-e', 15)], _, _, _, _];
    await runTestWithDriver(expected, build('left', true, true), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testOuterWithVersionedStores', async () => {
    const expected: Expected = [_, _, [rec('A-null', 3)], [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec('null-b', 7)], [rec(null, 8)], [rec('C-null', 9)], [rec('C-c', 10)], [rec('C-null', 11)], [rec(null, 12)], _, _, _, _, _, [rec('null-e', 14)], [rec('E-e', 15)], _, _, _, _];
    await runTestWithDriver(expected, build('outer', true, true), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testInnerWithLeftVersionedOnly (cache disabled)', async () => {
    const expected: Expected = [_, _, _, [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec(null, 7)], _, _, [rec('C-c', 10)], [rec(null, 11)], _, _, _, _, _, _, _, [rec('E-e', 15)], _, [rec(null, 15)], _, [rec('E-f', 15)]];
    await runTestWithDriver(expected, build('inner', true, false), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testLeftWithLeftVersionedOnly (cache disabled)', async () => {
    const expected: Expected = [_, _, [rec('A-null', 3)], [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec(null, 7)], _, [rec('C-null', 9)], [rec('C-c', 10)], [rec('C-null', 11)], [rec(null, 12)], _, _, _, _, _, _, [rec('E-e', 15)], _, [rec('E-null', 15)], _, [rec('E-f', 15)]];
    await runTestWithDriver(expected, build('left', true, false), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testOuterWithLeftVersionedOnly (cache disabled)', async () => {
    const expected: Expected = [_, _, [rec('A-null', 3)], [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec('null-b', 7)], [rec(null, 8)], [rec('C-null', 9)], [rec('C-c', 10)], [rec('C-null', 11)], [rec(null, 12)], _, [rec('null-d', 7)], _, _, [rec(null, 3)], [rec('null-e', 14)], [rec('E-e', 15)], _, [rec('E-null', 15)], _, [rec('E-f', 15)]];
    await runTestWithDriver(expected, build('outer', true, false), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testInnerWithRightVersionedOnly (cache disabled)', async () => {
    const expected: Expected = [_, _, _, [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec(null, 7)], _, _, [rec('C-c', 10)], [rec(null, 11)], _, _, _, _, _, _, _, [rec('E-e', 15)], [rec(null, 14)], _, [rec('F-e', 14)], _];
    await runTestWithDriver(expected, build('inner', false, true), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testLeftWithRightVersionedOnly (cache disabled)', async () => {
    const expected: Expected = [_, _, [rec('A-null', 3)], [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec(null, 7)], _, [rec('C-null', 9)], [rec('C-c', 10)], [rec('C-null', 11)], [rec(null, 12)], _, _, [rec('D-null', 6)], [rec(null, 2)], _, _, [rec('E-e', 15)], [rec(null, 14)], _, [rec('F-e', 14)], _];
    await runTestWithDriver(expected, build('left', false, true), STORE_NAME);
  });

  it('TableTableJoinIntegrationTest.testOuterWithRightVersionedOnly (cache disabled)', async () => {
    const expected: Expected = [_, _, [rec('A-null', 3)], [rec('A-a', 4)], [rec('B-a', 5)], [rec('B-b', 6)], [rec('null-b', 7)], [rec(null, 8)], [rec('C-null', 9)], [rec('C-c', 10)], [rec('C-null', 11)], [rec(null, 12)], _, _, [rec('D-null', 6)], [rec(null, 2)], _, [rec('null-e', 14)], [rec('E-e', 15)], [rec('null-e', 14)], _, [rec('F-e', 14)], _];
    await runTestWithDriver(expected, build('outer', false, true), STORE_NAME);
  });
});
