import { afterEach, describe, expect, it } from 'vitest';
import { Materialized, Serdes, Stores, StreamsBuilder, TopologyTestDriver, type KTable } from 'tributary';

/*
 * Ported from Kafka Streams' KTableKTableForeignKeyJoinIntegrationTest (which runs on the
 * TopologyTestDriver): a left table `lhs<n> → "<value>|<fk>"` joined on the foreign key after the
 * `|` with a right table `rhs<n> → value`, joiner `(left,right)`. Each case runs as an inner and a
 * left join, with and without a materialized result (`store`), with and without a rejoin of the
 * result with the left table. Kafka's `optimization` parameter has no counterpart here. Kafka's
 * testCases add its versionedData parameters (no rejoin; left and/or right table versioned, with
 * a five-minute history retention), under which every case expects the same output.
 */

const LEFT_TABLE = 'left_table';
const RIGHT_TABLE = 'right_table';
const OUTPUT = 'output-topic';
const REJOIN_OUTPUT = 'rejoin-output-topic';
const strings = Serdes.string();
const nullableStrings = Serdes.nullable(strings);
const base = 1_700_000_000_000;

const defaultExtractor = (value: string): string | null => value.split('|')[1] ?? null;

interface Params {
  leftJoin: boolean;
  materialized: boolean;
  rejoin: boolean;
  leftVersioned?: boolean;
  rightVersioned?: boolean;
}

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function getTopology({ leftJoin, materialized, rejoin, leftVersioned = false, rightVersioned = false }: Params, extractor: (value: string) => string | null = defaultExtractor) {
  const builder = new StreamsBuilder();
  const versioned = (name: string) => Materialized.as<string, string>(Stores.persistentVersionedKeyValueStore(name, '5m'));
  const left = builder.table(LEFT_TABLE, { keySerde: strings, valueSerde: strings }, leftVersioned ? versioned('left') : undefined);
  const right = builder.table(RIGHT_TABLE, { keySerde: strings, valueSerde: strings }, rightVersioned ? versioned('right') : undefined);
  const joiner = (value1: string, value2: string | null): string => `(${value1},${value2})`;
  const rejoiner = (value1: string | null, value2: string | null): string => `rejoin(${value1},${value2})`;
  const mainMaterialized = materialized ? { storeName: 'store', valueSerde: strings } : { valueSerde: strings };
  const fkJoin: KTable<string, string> = leftJoin
    ? left.leftJoin(right, extractor, joiner, {}, mainMaterialized)
    : left.join(right, extractor, joiner, {}, mainMaterialized);
  fkJoin.toStream().to(OUTPUT, { keySerde: strings, valueSerde: nullableStrings });
  if (rejoin) {
    const rejoinMaterialized = materialized ? { storeName: 'store-rejoin', valueSerde: strings } : { valueSerde: strings };
    (leftJoin ? fkJoin.leftJoin(left, rejoiner, rejoinMaterialized) : fkJoin.join(left, rejoiner, rejoinMaterialized))
      .toStream()
      .to(REJOIN_OUTPUT, { keySerde: strings, valueSerde: nullableStrings });
  }
  return builder.build();
}

function start(params: Params, extractor?: (value: string) => string | null) {
  driver = new TopologyTestDriver(getTopology(params, extractor), { applicationId: 'fk-join-test' });
  const d = driver;
  return {
    left: d.createInputTopic(LEFT_TABLE, strings, nullableStrings),
    right: d.createInputTopic(RIGHT_TABLE, strings, nullableStrings),
    output: d.createOutputTopic(OUTPUT, strings, nullableStrings),
    rejoinOutput: d.createOutputTopic(REJOIN_OUTPUT, strings, nullableStrings),
    /** The materialized result, as Kafka's `asMap(store)` (only asserted when materialized). */
    store: (): Map<string, string> => new Map((d.getKeyValueStore<string, string>('store')?.all() ?? []).map((e) => [e.key, e.value])),
  };
}

const map = (entries: Record<string, string | null>): Map<string, string | null> => new Map(Object.entries(entries));
const empty = new Map<string, string | null>();

/** Kafka's versionedData beyond data: no rejoin, at least one side versioned. */
const versionedSides = [{ leftVersioned: true, rightVersioned: true }, { leftVersioned: true, rightVersioned: false }, { leftVersioned: false, rightVersioned: true }];
const matrix: Params[] = [];
for (const leftJoin of [true, false]) for (const materialized of [true, false]) {
  for (const rejoin of [true, false]) matrix.push({ leftJoin, materialized, rejoin });
  for (const sides of versionedSides) matrix.push({ leftJoin, materialized, rejoin: false, ...sides });
}
const label = (p: Params): string =>
  `${p.leftJoin ? 'left' : 'inner'} join, ${p.materialized ? 'materialized' : 'not materialized'}${p.rejoin ? ', rejoined' : ''}${p.leftVersioned ? ', left versioned' : ''}${p.rightVersioned ? ', right versioned' : ''}`;

describe('foreign-key table-table join (ported from KTableKTableForeignKeyJoinIntegrationTest)', () => {
  for (const params of matrix) {
    const { leftJoin, materialized, rejoin } = params;
    describe(label(params), () => {
      it('doJoinFromLeftThenDeleteLeftEntity: left rows join existing right rows; deleting one emits a tombstone', async () => {
        const t = start(params);
        await t.right.pipeInput('rhs1', 'rhsValue1', base);
        await t.right.pipeInput('rhs2', 'rhsValue2', base + 1);
        await t.right.pipeInput('rhs3', 'rhsValue3', base + 2);
        expect(t.output.readKeyValuesToMap()).toEqual(empty);
        if (rejoin) expect(t.rejoinOutput.readKeyValuesToMap()).toEqual(empty);
        if (materialized) expect(t.store()).toEqual(empty);

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base + 3);
        await t.left.pipeInput('lhs2', 'lhsValue2|rhs2', base + 4);
        const expected = map({ lhs1: '(lhsValue1|rhs1,rhsValue1)', lhs2: '(lhsValue2|rhs2,rhsValue2)' });
        expect(t.output.readKeyValuesToMap()).toEqual(expected);
        if (rejoin) {
          expect(t.rejoinOutput.readKeyValuesToMap()).toEqual(map({
            lhs1: 'rejoin((lhsValue1|rhs1,rhsValue1),lhsValue1|rhs1)',
            lhs2: 'rejoin((lhsValue2|rhs2,rhsValue2),lhsValue2|rhs2)',
          }));
        }
        if (materialized) expect(t.store()).toEqual(expected);

        await t.left.pipeInput('lhs3', 'lhsValue3|rhs1', base + 5);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs3: '(lhsValue3|rhs1,rhsValue1)' }));
        if (rejoin) expect(t.rejoinOutput.readKeyValuesToMap()).toEqual(map({ lhs3: 'rejoin((lhsValue3|rhs1,rhsValue1),lhsValue3|rhs1)' }));
        if (materialized) {
          expect(t.store()).toEqual(map({ lhs1: '(lhsValue1|rhs1,rhsValue1)', lhs2: '(lhsValue2|rhs2,rhsValue2)', lhs3: '(lhsValue3|rhs1,rhsValue1)' }));
        }

        await t.left.pipeInput('lhs1', null, base + 6);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: null }));
        if (rejoin) expect(t.rejoinOutput.readKeyValuesToMap()).toEqual(map({ lhs1: null }));
        if (materialized) expect(t.store()).toEqual(map({ lhs2: '(lhsValue2|rhs2,rhsValue2)', lhs3: '(lhsValue3|rhs1,rhsValue1)' }));
      });

      it('doJoinFromRightThenDeleteRightEntity: right rows arriving later join every subscribed left row; deleting one updates them all', async () => {
        const t = start(params);
        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base);
        await t.left.pipeInput('lhs2', 'lhsValue2|rhs2', base + 1);
        await t.left.pipeInput('lhs3', 'lhsValue3|rhs1', base + 2);
        const halfJoined = map({ lhs1: '(lhsValue1|rhs1,null)', lhs2: '(lhsValue2|rhs2,null)', lhs3: '(lhsValue3|rhs1,null)' });
        expect(t.output.readKeyValuesToMap()).toEqual(leftJoin ? halfJoined : empty);
        if (materialized) expect(t.store()).toEqual(leftJoin ? halfJoined : empty);

        await t.right.pipeInput('rhs1', 'rhsValue1', base + 3);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: '(lhsValue1|rhs1,rhsValue1)', lhs3: '(lhsValue3|rhs1,rhsValue1)' }));
        if (materialized) {
          expect(t.store()).toEqual(leftJoin
            ? map({ lhs1: '(lhsValue1|rhs1,rhsValue1)', lhs2: '(lhsValue2|rhs2,null)', lhs3: '(lhsValue3|rhs1,rhsValue1)' })
            : map({ lhs1: '(lhsValue1|rhs1,rhsValue1)', lhs3: '(lhsValue3|rhs1,rhsValue1)' }));
        }

        await t.right.pipeInput('rhs2', 'rhsValue2', base + 4);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs2: '(lhsValue2|rhs2,rhsValue2)' }));
        const full = map({ lhs1: '(lhsValue1|rhs1,rhsValue1)', lhs2: '(lhsValue2|rhs2,rhsValue2)', lhs3: '(lhsValue3|rhs1,rhsValue1)' });
        if (materialized) expect(t.store()).toEqual(full);

        await t.right.pipeInput('rhs3', 'rhsValue3', base + 5);
        expect(t.output.readKeyValuesToMap()).toEqual(empty);
        if (materialized) expect(t.store()).toEqual(full);

        await t.right.pipeInput('rhs1', null, base + 6);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: leftJoin ? '(lhsValue1|rhs1,null)' : null, lhs3: leftJoin ? '(lhsValue3|rhs1,null)' : null }));
        if (materialized) {
          expect(t.store()).toEqual(leftJoin
            ? map({ lhs1: '(lhsValue1|rhs1,null)', lhs2: '(lhsValue2|rhs2,rhsValue2)', lhs3: '(lhsValue3|rhs1,null)' })
            : map({ lhs2: '(lhsValue2|rhs2,rhsValue2)' }));
        }
      });

      it('shouldEmitTombstoneWhenDeletingNonJoiningRecords: deleting a left row that joined nothing still emits a tombstone, once', async () => {
        const t = start(params);
        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base);
        const expected = leftJoin ? map({ lhs1: '(lhsValue1|rhs1,null)' }) : empty;
        expect(t.output.readKeyValuesToMap()).toEqual(expected);
        if (materialized) expect(t.store()).toEqual(expected);

        await t.left.pipeInput('lhs1', null, base + 1);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: null }));
        if (materialized) expect(t.store()).toEqual(empty);

        await t.left.pipeInput('lhs1', null, base + 2);
        expect(t.output.readKeyValuesToMap()).toEqual(empty);
        if (materialized) expect(t.store()).toEqual(empty);
      });

      it('shouldNotEmitTombstonesWhenDeletingNonExistingRecords: deleting a row that never existed emits nothing', async () => {
        const t = start(params);
        await t.left.pipeInput('lhs1', null, base);
        expect(t.output.readKeyValuesToMap()).toEqual(empty);
        if (materialized) expect(t.store()).toEqual(empty);
      });

      it('joinShouldProduceNullsWhenValueHasNonMatchingForeignKey: moving to a missing foreign key unsets the result', async () => {
        const t = start(params);
        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base);
        expect(t.output.readKeyValuesToMap()).toEqual(leftJoin ? map({ lhs1: '(lhsValue1|rhs1,null)' }) : empty);
        if (materialized) expect(t.store()).toEqual(leftJoin ? map({ lhs1: '(lhsValue1|rhs1,null)' }) : empty);

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs2', base + 1);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: leftJoin ? '(lhsValue1|rhs2,null)' : null }));
        if (materialized) expect(t.store()).toEqual(leftJoin ? map({ lhs1: '(lhsValue1|rhs2,null)' }) : empty);

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs3', base + 2);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: leftJoin ? '(lhsValue1|rhs3,null)' : null }));
        if (materialized) expect(t.store()).toEqual(leftJoin ? map({ lhs1: '(lhsValue1|rhs3,null)' }) : empty);

        await t.right.pipeInput('rhs1', 'rhsValue1', base + 3);
        expect(t.output.readKeyValuesToMap()).toEqual(empty);
        if (materialized) expect(t.store()).toEqual(leftJoin ? map({ lhs1: '(lhsValue1|rhs3,null)' }) : empty);

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base + 4);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: '(lhsValue1|rhs1,rhsValue1)' }));
        if (materialized) expect(t.store()).toEqual(map({ lhs1: '(lhsValue1|rhs1,rhsValue1)' }));

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs2', base + 5);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: leftJoin ? '(lhsValue1|rhs2,null)' : null }));
        if (materialized) expect(t.store()).toEqual(leftJoin ? map({ lhs1: '(lhsValue1|rhs2,null)' }) : empty);
      });

      it('shouldUnsubscribeOldForeignKeyIfLeftSideIsUpdated: after a foreign-key change, updates of the old right row are ignored', async () => {
        const t = start(params);
        await t.right.pipeInput('rhs1', 'rhsValue1', base);
        await t.right.pipeInput('rhs2', 'rhsValue2', base + 1);
        expect(t.output.readKeyValuesToMap()).toEqual(empty);
        if (materialized) expect(t.store()).toEqual(empty);

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base + 2);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: '(lhsValue1|rhs1,rhsValue1)' }));
        if (materialized) expect(t.store()).toEqual(map({ lhs1: '(lhsValue1|rhs1,rhsValue1)' }));

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs2', base + 3);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: '(lhsValue1|rhs2,rhsValue2)' }));
        if (materialized) expect(t.store()).toEqual(map({ lhs1: '(lhsValue1|rhs2,rhsValue2)' }));

        await t.right.pipeInput('rhs1', 'rhsValue1Delta', base + 4);
        expect(t.output.readKeyValuesToMap()).toEqual(empty);
        if (materialized) expect(t.store()).toEqual(map({ lhs1: '(lhsValue1|rhs2,rhsValue2)' }));
      });
    });
  }

  for (const params of matrix.filter((p) => p.leftJoin)) {
    const { materialized } = params;
    describe(label(params), () => {
      it('shouldEmitRecordOnNullForeignKeyForLeftJoins: a left row without a foreign key joins null', async () => {
        const t = start(params, () => null);
        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base);
        const expected = map({ lhs1: '(lhsValue1|rhs1,null)' });
        expect(t.output.readKeyValuesToMap()).toEqual(expected);
        if (materialized) expect(t.store()).toEqual(expected);
      });

      it('shouldEmitRecordWhenOldAndNewFkDiffer: a foreign key that becomes null unsubscribes and joins null', async () => {
        const t = start(params, (value) => {
          const split = value.split('|')[1]!;
          return split === 'returnNull' ? null : split;
        });
        const subscriptionStoreName = [...driver!.getAllStateStores().keys()].find((name) => name.includes('SUBSCRIPTION-STATE-STORE'));
        expect(subscriptionStoreName).toBeDefined();
        const subscriptions = driver!.getKeyValueStore(subscriptionStoreName!)!;
        const key = { foreignKey: 'rhs1', primaryKey: 'lhs1' };

        await t.left.pipeInput('lhs1', 'lhsValue1|rhs1', base);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: '(lhsValue1|rhs1,null)' }));
        if (materialized) expect(t.store()).toEqual(map({ lhs1: '(lhsValue1|rhs1,null)' }));
        expect(subscriptions.get(key)).toBeDefined();

        await t.left.pipeInput('lhs1', 'lhsValue1|returnNull', base);
        expect(t.output.readKeyValuesToMap()).toEqual(map({ lhs1: '(lhsValue1|returnNull,null)' }));
        if (materialized) expect(t.store()).toEqual(map({ lhs1: '(lhsValue1|returnNull,null)' }));
        expect(subscriptions.get(key)).toBeUndefined();
      });
    });
  }
});
