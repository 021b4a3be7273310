import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver, type Change, type KTable } from 'tributary';
import { captureChanges, consumed, drain, intKeys, kvt, newBuilder, nullableStrings, strings, take, toStringJoiner, type KeyValueTimestamp } from './join-test-utils.ts';

const topic1 = 'topic1';
const topic2 = 'topic2';
const output = 'output';
const keys = [0, 1, 2, 3];

type Step = { topic: string; key: number | null; value: string | null; timestamp: number }[];

/** The inputs every KTableKTable*JoinTest pipes, step by step (a `null` key is discarded by the join). */
const steps: Step[] = [
  [{ topic: topic1, key: 0, value: 'X0', timestamp: 5 }, { topic: topic1, key: 1, value: 'X1', timestamp: 6 }, { topic: topic1, key: null, value: 'SomeVal', timestamp: 42 }],
  [{ topic: topic2, key: 0, value: 'Y0', timestamp: 0 }, { topic: topic2, key: 1, value: 'Y1', timestamp: 10 }, { topic: topic2, key: null, value: 'AnotherVal', timestamp: 73 }],
  keys.map((k) => ({ topic: topic1, key: k, value: `XX${k}`, timestamp: 7 })),
  keys.map((k) => ({ topic: topic2, key: k, value: `YY${k}`, timestamp: k * 5 })),
  keys.map((k) => ({ topic: topic1, key: k, value: `XXX${k}`, timestamp: 6 })),
  [{ topic: topic2, key: 0, value: null, timestamp: 5 }, { topic: topic2, key: 1, value: null, timestamp: 7 }],
  keys.map((k) => ({ topic: topic1, key: k, value: `XXXX${k}`, timestamp: 13 })),
  [{ topic: topic1, key: 0, value: null, timestamp: 0 }, { topic: topic1, key: 1, value: null, timestamp: 42 }, { topic: topic1, key: 2, value: null, timestamp: 5 }, { topic: topic1, key: 3, value: null, timestamp: 20 }],
];

const c = (key: number, newValue: string | null, oldValue: string | null, timestamp: number): KeyValueTimestamp<number, Change<string>> => ({ key, value: { newValue, oldValue }, timestamp });

/** The changes each join forwards after each step, with old values (Kafka's `testSendingOldValue(s)`). */
const expected: Record<'inner' | 'left' | 'outer', KeyValueTimestamp<number, Change<string>>[][]> = {
  inner: [
    [],
    [c(0, 'X0+Y0', null, 5), c(1, 'X1+Y1', null, 10)],
    [c(0, 'XX0+Y0', 'X0+Y0', 7), c(1, 'XX1+Y1', 'X1+Y1', 10)],
    [c(0, 'XX0+YY0', 'XX0+Y0', 7), c(1, 'XX1+YY1', 'XX1+Y1', 7), c(2, 'XX2+YY2', null, 10), c(3, 'XX3+YY3', null, 15)],
    [c(0, 'XXX0+YY0', 'XX0+YY0', 6), c(1, 'XXX1+YY1', 'XX1+YY1', 6), c(2, 'XXX2+YY2', 'XX2+YY2', 10), c(3, 'XXX3+YY3', 'XX3+YY3', 15)],
    [c(0, null, 'XXX0+YY0', 6), c(1, null, 'XXX1+YY1', 7)],
    [c(2, 'XXXX2+YY2', 'XXX2+YY2', 13), c(3, 'XXXX3+YY3', 'XXX3+YY3', 15)],
    [c(2, null, 'XXXX2+YY2', 10), c(3, null, 'XXXX3+YY3', 20)],
  ],
  left: [
    [c(0, 'X0+null', null, 5), c(1, 'X1+null', null, 6)],
    [c(0, 'X0+Y0', 'X0+null', 5), c(1, 'X1+Y1', 'X1+null', 10)],
    [c(0, 'XX0+Y0', 'X0+Y0', 7), c(1, 'XX1+Y1', 'X1+Y1', 10), c(2, 'XX2+null', null, 7), c(3, 'XX3+null', null, 7)],
    [c(0, 'XX0+YY0', 'XX0+Y0', 7), c(1, 'XX1+YY1', 'XX1+Y1', 7), c(2, 'XX2+YY2', 'XX2+null', 10), c(3, 'XX3+YY3', 'XX3+null', 15)],
    [c(0, 'XXX0+YY0', 'XX0+YY0', 6), c(1, 'XXX1+YY1', 'XX1+YY1', 6), c(2, 'XXX2+YY2', 'XX2+YY2', 10), c(3, 'XXX3+YY3', 'XX3+YY3', 15)],
    [c(0, 'XXX0+null', 'XXX0+YY0', 6), c(1, 'XXX1+null', 'XXX1+YY1', 7)],
    [c(0, 'XXXX0+null', 'XXX0+null', 13), c(1, 'XXXX1+null', 'XXX1+null', 13), c(2, 'XXXX2+YY2', 'XXX2+YY2', 13), c(3, 'XXXX3+YY3', 'XXX3+YY3', 15)],
    [c(0, null, 'XXXX0+null', 0), c(1, null, 'XXXX1+null', 42), c(2, null, 'XXXX2+YY2', 10), c(3, null, 'XXXX3+YY3', 20)],
  ],
  outer: [
    [c(0, 'X0+null', null, 5), c(1, 'X1+null', null, 6)],
    [c(0, 'X0+Y0', 'X0+null', 5), c(1, 'X1+Y1', 'X1+null', 10)],
    [c(0, 'XX0+Y0', 'X0+Y0', 7), c(1, 'XX1+Y1', 'X1+Y1', 10), c(2, 'XX2+null', null, 7), c(3, 'XX3+null', null, 7)],
    [c(0, 'XX0+YY0', 'XX0+Y0', 7), c(1, 'XX1+YY1', 'XX1+Y1', 7), c(2, 'XX2+YY2', 'XX2+null', 10), c(3, 'XX3+YY3', 'XX3+null', 15)],
    [c(0, 'XXX0+YY0', 'XX0+YY0', 6), c(1, 'XXX1+YY1', 'XX1+YY1', 6), c(2, 'XXX2+YY2', 'XX2+YY2', 10), c(3, 'XXX3+YY3', 'XX3+YY3', 15)],
    [c(0, 'XXX0+null', 'XXX0+YY0', 6), c(1, 'XXX1+null', 'XXX1+YY1', 7)],
    [c(0, 'XXXX0+null', 'XXX0+null', 13), c(1, 'XXXX1+null', 'XXX1+null', 13), c(2, 'XXXX2+YY2', 'XXX2+YY2', 13), c(3, 'XXXX3+YY3', 'XXX3+YY3', 15)],
    [c(0, null, 'XXXX0+null', 0), c(1, null, 'XXXX1+null', 42), c(2, 'null+YY2', 'XXXX2+YY2', 10), c(3, 'null+YY3', 'XXXX3+YY3', 20)],
  ],
};

type Kind = keyof typeof expected;
const testName: Record<Kind, string> = { inner: 'KTableKTableInnerJoinTest', left: 'KTableKTableLeftJoinTest', outer: 'KTableKTableOuterJoinTest' };

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function join(kind: Kind, t1: KTable<number, string>, t2: KTable<number, string>, storeName?: string): KTable<number, string> {
  const materialized = storeName ? { storeName, keySerde: intKeys, valueSerde: strings } : undefined;
  if (kind === 'inner') return t1.join(t2, toStringJoiner, materialized);
  if (kind === 'left') return t1.leftJoin(t2, toStringJoiner, materialized);
  return t1.outerJoin(t2, toStringJoiner, materialized);
}

async function pipe(d: TopologyTestDriver, step: Step): Promise<void> {
  for (const r of step) await d.createInputTopic(r.topic, intKeys, strings as never).pipeInput(r.key as number, r.value, r.timestamp);
}

for (const kind of ['inner', 'left', 'outer'] as const) {
  describe(`KTable-KTable ${kind} join (ported from ${testName[kind]})`, () => {
    it(`${testName[kind]}.testJoin: both sides trigger; results and tombstones reach the output at max(left ts, right ts)`, async () => {
      const builder = newBuilder();
      join(kind, builder.table(topic1, consumed), builder.table(topic2, consumed)).toStream().to(output, { keySerde: intKeys, valueSerde: strings });
      const topology = builder.build();
      expect(topology.copartitionGroups()).toEqual([[topic1, topic2]]);
      driver = new TopologyTestDriver(topology);
      const out = driver.createOutputTopic(output, intKeys, nullableStrings);
      for (let i = 0; i < steps.length; i++) {
        await pipe(driver, steps[i]!);
        expect(drain(out), `step ${i + 1}`).toEqual(expected[kind][i]!.map((e) => kvt(e.key, e.value.newValue, e.timestamp)));
      }
    });

    it(`${testName[kind]}.testSendingOldValue${kind === 'inner' ? 's' : ''}: each change carries the result it replaces`, async () => {
      const builder = newBuilder();
      // Kafka's test: ((KTableImpl) joined).enableSendingOldValues(true)
      const captured = captureChanges(builder, join(kind, builder.table(topic1, consumed), builder.table(topic2, consumed)), { sendOldValues: true });
      driver = new TopologyTestDriver(builder.build());
      for (let i = 0; i < steps.length; i++) {
        await pipe(driver, steps[i]!);
        expect(take(captured), `step ${i + 1}`).toEqual(expected[kind][i]);
      }
    });

    it(`${testName[kind]}.shouldLogAndMeterSkippedRecordsDueToNullLeftKey: a null key never reaches the result and is counted`, async () => {
      const builder = newBuilder();
      const captured = captureChanges(builder, join(kind, builder.table(topic1, consumed), builder.table(topic2, consumed)));
      driver = new TopologyTestDriver(builder.build());
      await pipe(driver, [{ topic: topic1, key: null, value: 'new', timestamp: 0 }]);
      expect(captured).toEqual([]);
      expect(driver.metrics().dropped).toBe(1);
    });
  });
}

describe('KTable-KTable join results are tables', () => {
  it('KTableKTableInnerJoinTest.testQueryableJoin: the materialized result store holds the joined rows', async () => {
    const builder = newBuilder();
    join('inner', builder.table(topic1, consumed), builder.table(topic2, consumed), 'joined').toStream().to(output, { keySerde: intKeys, valueSerde: strings });
    driver = new TopologyTestDriver(builder.build());
    for (const step of steps.slice(0, 5)) await pipe(driver, step);
    expect(driver.getKeyValueStore<number, string>('joined')?.all()).toEqual(keys.map((k) => ({ key: k, value: `XXX${k}+YY${k}` })));
    expect(driver.getTimestampedKeyValueStore<number, string>('joined')?.get(3)).toEqual({ value: 'XXX3+YY3', timestamp: 15 });
    for (const step of steps.slice(5)) await pipe(driver, step);
    expect(driver.getKeyValueStore<number, string>('joined')?.all()).toEqual([]);
    expect(drain(driver.createOutputTopic(output, intKeys, nullableStrings)).map((r) => r.value).filter((v) => v === null)).toHaveLength(4);
  });

  it('KTableKTableLeftJoinTest.shouldNotThrowIllegalStateExceptionWhenMultiCacheEvictions: a chain of table joins over random input stays consistent', async () => {
    const longs = Serdes.int64();
    const tableConsumed = { keySerde: longs, valueSerde: strings };
    const builder = newBuilder();
    const inputs = ['agg', 'tableOne', 'tableTwo', 'tableThree', 'tableFour', 'tableFive', 'tableSix'];
    const aggTable = builder
      .table('agg', tableConsumed, { storeName: 'agg-base-store' })
      .groupBy((k, v) => [k, v] as const, { keySerde: longs, valueSerde: strings })
      .reduce((a, v) => a + v, (a, v) => a + v, { storeName: 'agg-store' });
    const one = builder.table('tableOne', tableConsumed, { storeName: 'tableOne-base-store' });
    const two = builder.table('tableTwo', tableConsumed, { storeName: 'tableTwo-base-store' });
    const three = builder.table('tableThree', tableConsumed, { storeName: 'tableThree-base-store' });
    const four = builder.table('tableFour', tableConsumed, { storeName: 'tableFour-base-store' });
    const five = builder.table('tableFive', tableConsumed, { storeName: 'tableFive-base-store' });
    const six = builder.table('tableSix', tableConsumed, { storeName: 'tableSix-base-store' });
    const upper = (v: string): string => v.toUpperCase();
    const seven = one.mapValues(upper);
    const eight = six.leftJoin(seven, toStringJoiner);
    const result = aggTable
      .leftJoin(one, toStringJoiner)
      .leftJoin(two, toStringJoiner)
      .leftJoin(three, toStringJoiner)
      .leftJoin(four, toStringJoiner)
      .leftJoin(five, toStringJoiner)
      .leftJoin(eight, toStringJoiner)
      .mapValues(upper, { storeName: 'result' });
    driver = new TopologyTestDriver(builder.build());
    const values = ['a', 'AA', 'BBB', 'CCCC', 'DD', 'EEEEEEEE', 'F', 'GGGGGGGGGGGGGGG', 'HHH', 'IIIIIIIIII', 'J', 'KK', 'LLLL', 'MMMMMMMMMMMMMMMMMMMMMM', 'NNNNN', 'O', 'P', 'QQQQQ', 'R', 'SSSS', 'T', 'UU', 'VVVVVVVVVVVVVVVVVVV'];
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const topics = new Map(inputs.map((t) => [t, driver!.createInputTopic(t, longs, strings)]));
    for (let i = 0; i < 150; i++) {
      for (const input of inputs) await topics.get(input)!.pipeInput(random(50), values[random(values.length)]!);
    }
    // every row of the result is the chain recomputed from the current input tables
    const get = (store: string, key: number): string | null => driver!.getKeyValueStore<number, string>(store)?.get(key) ?? null;
    const rows = driver.getKeyValueStore<number, string>('result')!.all();
    expect(rows.length).toBeGreaterThan(0);
    for (const { key, value } of rows) {
      const sevenValue = get('tableOne-base-store', key);
      const eightValue = get('tableSix-base-store', key) === null ? null : toStringJoiner(get('tableSix-base-store', key), sevenValue === null ? null : upper(sevenValue));
      let chain = get('agg-store', key)!;
      for (const store of ['tableOne-base-store', 'tableTwo-base-store', 'tableThree-base-store', 'tableFour-base-store', 'tableFive-base-store']) chain = toStringJoiner(chain, get(store, key));
      expect(value).toBe(upper(toStringJoiner(chain, eightValue)));
    }
    void result;
  });
});
