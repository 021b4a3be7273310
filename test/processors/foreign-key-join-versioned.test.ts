/*
 * Ported from Kafka Streams' KTableKTableForeignKeyJoinIntegrationTest.shouldIgnoreOutOfOrderRecordsIffVersioned
 * with its expected outputs, over Kafka's versionedData parameters (inner and left join, result
 * materialized as `store` or not, left and right table versioned or not; no rejoin): an
 * out-of-order update of a versioned side (record or tombstone) changes no join result, while the
 * same update of an unversioned side does. Each case also runs with the versioned tables built as
 * pass-all filters materialized as versioned stores ('derived'), which put and forward each update
 * as the versioned source would (KTableFilter over KeyValueStoreWrapper), so Kafka expects the same.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Materialized, Serdes, StreamsBuilder, Stores, TopologyTestDriver, type KTable } from 'tributary';

const LEFT_TABLE = 'left_table';
const RIGHT_TABLE = 'right_table';
const OUTPUT = 'output-topic';
const strings = Serdes.string();
const nullableStrings = Serdes.nullable(strings);
const baseTimestamp = 1_700_000_000_000;

interface Params {
  leftJoin: boolean;
  materialized: boolean;
  leftVersioned: boolean;
  rightVersioned: boolean;
  shape: 'source' | 'derived';
}

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function table(builder: StreamsBuilder, topic: string, name: string, versioned: boolean, shape: Params['shape']): KTable<string, string> {
  const consumed = { keySerde: strings, valueSerde: strings };
  if (!versioned) return builder.table(topic, consumed);
  const store = Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore(name, '5m'));
  return shape === 'source' ? builder.table(topic, consumed, store) : builder.table(topic, consumed).filter(() => true, store);
}

function start({ leftJoin, materialized, leftVersioned, rightVersioned, shape }: Params) {
  const builder = new StreamsBuilder();
  const left = table(builder, LEFT_TABLE, 'left', leftVersioned, shape);
  const right = table(builder, RIGHT_TABLE, 'right', rightVersioned, shape);
  const extractor = (value: string): string | null => value.split('|')[1] ?? null;
  const joiner = (value1: string, value2: string | null): string => `(${value1},${value2})`;
  const mainMaterialized = materialized ? { storeName: 'store', valueSerde: strings } : { valueSerde: strings };
  (leftJoin ? left.leftJoin(right, extractor, joiner, {}, mainMaterialized) : left.join(right, extractor, joiner, {}, mainMaterialized))
    .toStream()
    .to(OUTPUT, { keySerde: strings, valueSerde: nullableStrings });
  driver = new TopologyTestDriver(builder.build(), { applicationId: 'fk-join-versioned-test' });
  const d = driver;
  return {
    left: d.createInputTopic(LEFT_TABLE, strings, nullableStrings),
    right: d.createInputTopic(RIGHT_TABLE, strings, nullableStrings),
    output: d.createOutputTopic(OUTPUT, strings, nullableStrings),
    store: (): Map<string, string> => new Map((d.getKeyValueStore<string, string>('store')?.all() ?? []).map((e) => [e.key, e.value])),
  };
}

const map = (entries: Record<string, string | null>): Map<string, string | null> => new Map(Object.entries(entries));
const empty = new Map<string, string | null>();

const matrix: Params[] = [];
for (const leftJoin of [true, false]) for (const materialized of [true, false]) for (const leftVersioned of [true, false]) for (const rightVersioned of [true, false]) {
  for (const shape of ['source', 'derived'] as const) if (shape === 'source' || leftVersioned || rightVersioned) matrix.push({ leftJoin, materialized, leftVersioned, rightVersioned, shape });
}
const label = (p: Params): string =>
  `${p.leftJoin ? 'left' : 'inner'} join, ${p.materialized ? 'materialized' : 'not materialized'}, left ${p.leftVersioned ? 'versioned' : 'unversioned'}, right ${p.rightVersioned ? 'versioned' : 'unversioned'}${p.shape === 'derived' ? ' (versioned tables as filters)' : ''}`;

describe('foreign-key join of versioned tables (ported from KTableKTableForeignKeyJoinIntegrationTest)', () => {
  for (const params of matrix) {
    const { leftJoin, materialized, leftVersioned, rightVersioned } = params;
    it(`shouldIgnoreOutOfOrderRecordsIffVersioned: ${label(params)}`, async () => {
      const t = start(params);
      const check = (output: Map<string, string | null>, stored?: Map<string, string | null>) => {
        expect(t.output.readKeyValuesToMap()).toEqual(output);
        if (materialized) expect(t.store()).toEqual(stored ?? output);
      };

      // RHS record
      await t.right.pipeInput('rhs1', 'rhsValue1', baseTimestamp + 4);
      check(empty);

      // LHS records with match to existing RHS record
      await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', baseTimestamp + 3);
      await t.left.pipeInput('lhs2', 'lhsValue2|rhs1', baseTimestamp + 5);
      check(map({ lhs1: '(lhsValue1|rhs1,rhsValue1)', lhs2: '(lhsValue2|rhs1,rhsValue1)' }));

      // replace with tombstone, to validate behavior when latest record is null
      await t.left.pipeInput('lhs2', null, baseTimestamp + 6);
      check(map({ lhs2: null }), map({ lhs1: '(lhsValue1|rhs1,rhsValue1)' }));

      // out-of-order LHS record (for existing key) does not produce a new result iff LHS is versioned
      await t.left.pipeInput('lhs1', 'lhsValue1_ooo|rhs1', baseTimestamp + 2);
      await t.left.pipeInput('lhs2', 'lhsValue2_ooo|rhs1', baseTimestamp + 2);
      if (leftVersioned) check(empty, map({ lhs1: '(lhsValue1|rhs1,rhsValue1)' }));
      else check(map({ lhs1: '(lhsValue1_ooo|rhs1,rhsValue1)', lhs2: '(lhsValue2_ooo|rhs1,rhsValue1)' }));

      // out-of-order LHS tombstone (for existing key) is similarly ignored (iff LHS is versioned)
      await t.left.pipeInput('lhs1', null, baseTimestamp + 2);
      if (leftVersioned) check(empty, map({ lhs1: '(lhsValue1|rhs1,rhsValue1)' }));
      else check(map({ lhs1: null }), map({ lhs2: '(lhsValue2_ooo|rhs1,rhsValue1)' }));

      // LHS record with larger timestamp always produces a new result
      await t.left.pipeInput('lhs1', 'lhsValue1_new|rhs1', baseTimestamp + 8);
      await t.left.pipeInput('lhs2', 'lhsValue2_new|rhs1', baseTimestamp + 8);
      check(map({ lhs1: '(lhsValue1_new|rhs1,rhsValue1)', lhs2: '(lhsValue2_new|rhs1,rhsValue1)' }));

      // out-of-order RHS record (for existing key) does not produce a new result iff RHS is versioned
      await t.right.pipeInput('rhs1', 'rhsValue1_ooo', baseTimestamp + 1);
      if (rightVersioned) check(empty, map({ lhs1: '(lhsValue1_new|rhs1,rhsValue1)', lhs2: '(lhsValue2_new|rhs1,rhsValue1)' }));
      else check(map({ lhs1: '(lhsValue1_new|rhs1,rhsValue1_ooo)', lhs2: '(lhsValue2_new|rhs1,rhsValue1_ooo)' }));

      // out-of-order RHS tombstone (for existing key) is similarly ignored (iff RHS is versioned)
      await t.right.pipeInput('rhs1', null, baseTimestamp + 1);
      if (rightVersioned) check(empty, map({ lhs1: '(lhsValue1_new|rhs1,rhsValue1)', lhs2: '(lhsValue2_new|rhs1,rhsValue1)' }));
      else if (leftJoin) check(map({ lhs1: '(lhsValue1_new|rhs1,null)', lhs2: '(lhsValue2_new|rhs1,null)' }));
      else check(map({ lhs1: null, lhs2: null }), empty);

      // RHS record with larger timestamps always produces new results
      await t.right.pipeInput('rhs1', 'rhsValue1_new', baseTimestamp + 6);
      check(map({ lhs1: '(lhsValue1_new|rhs1,rhsValue1_new)', lhs2: '(lhsValue2_new|rhs1,rhsValue1_new)' }));
    });
  }
});
