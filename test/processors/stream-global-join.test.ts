import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver, type TestInputTopic, type TestOutputTopic } from 'tributary';
import { consumed, drain, intKeys, kvt, newBuilder, nullableIntKeys, strings, toStringJoiner } from './join-test-utils.ts';

const streamTopic = 'streamTopic';
const globalTableTopic = 'globalTableTopic';
const keys = [0, 1, 2, 3];

/** The value optionally carries the global table's key as its second comma-separated token. */
const keyMapper = (_key: number, value: string): string | null => {
  const tokens = value.split(',');
  return tokens.length > 1 ? tokens[1]! : null;
};

interface Setup {
  driver: TopologyTestDriver;
  stream: TestInputTopic<number, string>;
  table: TestInputTopic<string, string | null>;
  output: TestOutputTopic<number | null, string>;
}

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function setUp(leftJoin: boolean, joiner: (v: string, gv: string | null, k: number) => string = toStringJoiner): Setup {
  const builder = newBuilder();
  const stream = builder.stream(streamTopic, consumed);
  const table = builder.globalTable(globalTableTopic, { keySerde: strings, valueSerde: strings });
  const joined = leftJoin ? stream.leftJoin(table, keyMapper, joiner) : stream.join(table, keyMapper, joiner);
  joined.to('output', { keySerde: intKeys, valueSerde: strings });
  driver = new TopologyTestDriver(builder.build());
  return {
    driver,
    // stream timestamps auto-advance by 1 ms from 0; the global table's do not
    stream: driver.createInputTopic(streamTopic, intKeys, strings, { startTimestamp: 0, autoAdvanceMs: 1 }),
    table: driver.createInputTopic(globalTableTopic, strings, strings as never),
    output: driver.createOutputTopic('output', nullableIntKeys, strings),
  };
}

async function pushToStream(s: Setup, count: number, prefix: string, includeForeignKey: boolean, includeNullKey: boolean): Promise<void> {
  for (let i = 0; i < count; i++) {
    const value = prefix + keys[i] + (includeForeignKey ? `,FKey${keys[i]}` : '');
    const key = includeNullKey && i === 0 ? (null as unknown as number) : keys[i]!;
    await s.stream.pipeInput(key, value);
  }
}

async function pushToGlobalTable(s: Setup, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) await s.table.pipeInput(`FKey${keys[i]}`, prefix + keys[i]);
}

async function pushNullValuesToGlobalTable(s: Setup, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await s.table.pipeInput(`FKey${keys[i]}`, null);
}

describe('KStream-GlobalKTable join (ported from KStreamGlobalKTableJoinTest)', () => {
  it('KStreamGlobalKTableJoinTest.shouldNotRequireCopartitioning: a global table join records no co-partition group', () => {
    setUp(false);
    expect(driver!.topology.copartitionGroups()).toEqual([]);
  });

  it('KStreamGlobalKTableJoinTest.shouldNotJoinWithEmptyGlobalTableOnStreamUpdates: nothing joins an empty global table', async () => {
    const s = setUp(false);
    await pushToStream(s, 2, 'X', true, false);
    expect(drain(s.output)).toEqual([]);
  });

  it('KStreamGlobalKTableJoinTest.shouldNotJoinOnGlobalTableUpdates: global table updates never trigger output', async () => {
    const s = setUp(false);
    await pushToStream(s, 2, 'X', true, false);
    expect(drain(s.output)).toEqual([]);
    await pushToGlobalTable(s, 2, 'Y');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X', true, false);
    expect(drain(s.output)).toEqual([kvt(0, 'X0,FKey0+Y0', 2), kvt(1, 'X1,FKey1+Y1', 3)]);
    await pushToGlobalTable(s, 4, 'YY');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X', true, false);
    expect(drain(s.output)).toEqual([kvt(0, 'X0,FKey0+YY0', 6), kvt(1, 'X1,FKey1+YY1', 7), kvt(2, 'X2,FKey2+YY2', 8), kvt(3, 'X3,FKey3+YY3', 9)]);
    await pushToGlobalTable(s, 4, 'YYY');
    expect(drain(s.output)).toEqual([]);
  });

  it('KStreamGlobalKTableJoinTest.shouldJoinOnlyIfMatchFoundOnStreamUpdates: selected keys missing from the table give nothing', async () => {
    const s = setUp(false);
    await pushToGlobalTable(s, 2, 'Y');
    await pushToStream(s, 4, 'X', true, false);
    expect(drain(s.output)).toEqual([kvt(0, 'X0,FKey0+Y0', 0), kvt(1, 'X1,FKey1+Y1', 1)]);
  });

  it('KStreamGlobalKTableJoinTest.shouldClearGlobalTableEntryOnNullValueUpdates: a global tombstone removes the key from later joins', async () => {
    const s = setUp(false);
    await pushToGlobalTable(s, 4, 'Y');
    await pushToStream(s, 4, 'X', true, false);
    expect(drain(s.output)).toEqual([kvt(0, 'X0,FKey0+Y0', 0), kvt(1, 'X1,FKey1+Y1', 1), kvt(2, 'X2,FKey2+Y2', 2), kvt(3, 'X3,FKey3+Y3', 3)]);
    await pushNullValuesToGlobalTable(s, 2);
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'XX', true, false);
    expect(drain(s.output)).toEqual([kvt(2, 'XX2,FKey2+Y2', 6), kvt(3, 'XX3,FKey3+Y3', 7)]);
  });

  it('KStreamGlobalKTableJoinTest.shouldNotJoinOnNullKeyMapperValues: a null selected key is dropped and counted', async () => {
    const s = setUp(false);
    await pushToGlobalTable(s, 4, 'Y');
    await pushToStream(s, 4, 'XXX', false, false);
    expect(drain(s.output)).toEqual([]);
    expect(s.driver.metrics().dropped).toBe(4);
  });

  it('KStreamGlobalKTableJoinTest.shouldNotJoinOnNullKeyMapperValuesWithNullKeys: the same with a null stream key among them', async () => {
    const s = setUp(false);
    await pushToGlobalTable(s, 4, 'Y');
    await pushToStream(s, 4, 'XXX', false, true);
    expect(drain(s.output)).toEqual([]);
    expect(s.driver.metrics().dropped).toBe(4);
  });

  it('KStreamGlobalKTableJoinTest.shouldJoinOnNullKey: a null stream key joins when its selected key matches', async () => {
    const s = setUp(false);
    await pushToGlobalTable(s, 2, 'Y');
    await pushToStream(s, 4, 'X', true, true);
    expect(drain(s.output)).toEqual([kvt(null, 'X0,FKey0+Y0', 0), kvt(1, 'X1,FKey1+Y1', 1)]);
    expect(s.driver.metrics().dropped).toBe(0);
  });

  it('KStreamGlobalKTableJoinTest.shouldDropRecordAndRecordDroppedSensorWhenStreamValueIsNull: a null stream value is dropped and counted', async () => {
    const s = setUp(false, (v, gv, k) => `${k}|${v}|${gv}`);
    await pushToGlobalTable(s, 2, 'Y');
    await s.stream.pipeInput(0, null as unknown as string);
    await s.stream.pipeInput(1, 'X1,FKey1');
    expect(drain(s.output)).toEqual([kvt(1, '1|X1,FKey1|Y1', 1)]);
    expect(s.driver.metrics().dropped).toBe(1);
  });
});

describe('KStream-GlobalKTable left join (ported from KStreamGlobalKTableLeftJoinTest)', () => {
  it('KStreamGlobalKTableLeftJoinTest.shouldNotJoinOnGlobalTableUpdates: unmatched records join with null; table updates trigger nothing', async () => {
    const s = setUp(true);
    await pushToStream(s, 2, 'X', true, false);
    expect(drain(s.output)).toEqual([kvt(0, 'X0,FKey0+null', 0), kvt(1, 'X1,FKey1+null', 1)]);
    await pushToGlobalTable(s, 2, 'Y');
    expect(drain(s.output)).toEqual([]);
    await pushToStream(s, 4, 'X', true, false);
    expect(drain(s.output)).toEqual([kvt(0, 'X0,FKey0+Y0', 2), kvt(1, 'X1,FKey1+Y1', 3), kvt(2, 'X2,FKey2+null', 4), kvt(3, 'X3,FKey3+null', 5)]);
  });

  it('KStreamGlobalKTableLeftJoinTest.shouldJoinOnNullKeyMapperValues: a null selected key joins with null', async () => {
    const s = setUp(true);
    await pushToGlobalTable(s, 4, 'Y');
    await pushToStream(s, 4, 'XXX', false, false);
    expect(drain(s.output)).toEqual([kvt(0, 'XXX0+null', 0), kvt(1, 'XXX1+null', 1), kvt(2, 'XXX2+null', 2), kvt(3, 'XXX3+null', 3)]);
  });
});
