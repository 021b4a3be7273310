import { describe, expect, it } from 'vitest';
import {
  Serdes, SessionWindows, SlidingWindows, StreamsBuilder, Suppressed, TimeWindows, TopologyTestDriver, windowedToString, type KTable, type Windowed,
} from 'tributary';
import type { KeyValueStore } from '../../src/state/store.ts';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
type Kvt<V> = [key: string, value: V | null, timestamp: number];

/** Reads a topic as `[key, value, timestamp]` triples, from where the last call stopped. */
function reader<V>(driver: TopologyTestDriver, topic: string, valueSerde: { name: string; serialize(v: V): Buffer | null; deserialize(b: Buffer | null): V }) {
  const output = driver.createOutputTopic(topic, Serdes.string(), Serdes.nullable(valueSerde));
  return (): Kvt<V>[] => output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
}

/** SuppressScenarioTest's value counts: a table of `input`, re-keyed by value, counted; raw counts go to `output-raw`. */
function valueCounts(builder: StreamsBuilder): KTable<string, number> {
  const counts = builder.table<string, string>('input', strings).groupBy((k, v) => [v, k] as const, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).count();
  counts.toStream().to('output-raw', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  return counts;
}

/** Windowed counts of `input` grouped by key; raw and suppressed results go out with `[key@start/end]` string keys. */
function windowedScenario(count: (builder: StreamsBuilder) => KTable<Windowed<string>, number>) {
  const builder = new StreamsBuilder();
  const counts = count(builder);
  counts.suppress(Suppressed.untilWindowCloses()).toStream().map((k, v) => [windowedToString(k), v] as const).to('output-suppressed', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  counts.toStream().map((k, v) => [windowedToString(k), v] as const).to('output-raw', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  const driver = new TopologyTestDriver(builder.build());
  const input = driver.createInputTopic('input', Serdes.string(), Serdes.string());
  return { driver, pipe: (k: string, ts: number) => input.pipeInput(k, 'v1', ts), raw: reader(driver, 'output-raw', Serdes.int64()), suppressed: reader(driver, 'output-suppressed', Serdes.int64()) };
}

describe('SuppressScenarioTest', () => {
  const firstThree = async (pipe: (k: string, v: string, ts: number) => Promise<void>): Promise<void> => {
    await pipe('k1', 'v1', 0);
    await pipe('k1', 'v2', 1);
    await pipe('k2', 'v1', 2);
  };
  const rawOfFirstThree: Kvt<number>[] = [['v1', 1, 0], ['v1', 0, 1], ['v2', 1, 1], ['v1', 1, 2]];

  it('SuppressScenarioTest.shouldImmediatelyEmitEventsWithZeroEmitAfter: a time limit of 0 forwards every update', async () => {
    const builder = new StreamsBuilder();
    valueCounts(builder).suppress(Suppressed.untilTimeLimit(0)).toStream().to('output-suppressed', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', Serdes.string(), Serdes.string());
    const raw = reader(driver, 'output-raw', Serdes.int64());
    const suppressed = reader(driver, 'output-suppressed', Serdes.int64());
    await firstThree((k, v, ts) => input.pipeInput(k, v, ts));
    expect(raw()).toEqual(rawOfFirstThree);
    expect(suppressed()).toEqual(rawOfFirstThree);
    await input.pipeInput('x', 'x', 3);
    expect(raw()).toEqual([['x', 1, 3]]);
    expect(suppressed()).toEqual([['x', 1, 3]]);
    await input.pipeInput('x', 'y', 4);
    expect(raw()).toEqual([['x', 0, 4], ['y', 1, 4]]);
    expect(suppressed()).toEqual([['x', 0, 4], ['y', 1, 4]]);
    await driver.close();
  });

  it("SuppressScenarioTest.shouldSuppressIntermediateEventsWithTimeLimit: a key is emitted once stream time reaches its first update's time + limit", async () => {
    const builder = new StreamsBuilder();
    valueCounts(builder).suppress(Suppressed.untilTimeLimit(2)).toStream().to('output-suppressed', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', Serdes.string(), Serdes.string());
    const raw = reader(driver, 'output-raw', Serdes.int64());
    const suppressed = reader(driver, 'output-suppressed', Serdes.int64());
    await firstThree((k, v, ts) => input.pipeInput(k, v, ts));
    expect(raw()).toEqual(rawOfFirstThree);
    expect(suppressed()).toEqual([['v1', 1, 2]]);
    await input.pipeInput('tick', 'tick', 3);
    expect(raw()).toEqual([['tick', 1, 3]]);
    expect(suppressed()).toEqual([['v2', 1, 1]]);
    await input.pipeInput('tick', 'tock', 4);
    expect(raw()).toEqual([['tick', 0, 4], ['tock', 1, 4]]);
    expect(suppressed()).toEqual([]);
    await driver.close();
  });

  it('SuppressScenarioTest.shouldSuppressIntermediateEventsWithRecordLimit: a full buffer emits its earliest key early', async () => {
    const builder = new StreamsBuilder();
    valueCounts(builder).suppress(Suppressed.untilTimeLimit(Number.MAX_SAFE_INTEGER, { maxRecords: 1, emitEarlyWhenFull: true })).toStream().to('output-suppressed', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', Serdes.string(), Serdes.string());
    const raw = reader(driver, 'output-raw', Serdes.int64());
    const suppressed = reader(driver, 'output-suppressed', Serdes.int64());
    await firstThree((k, v, ts) => input.pipeInput(k, v, ts));
    expect(raw()).toEqual(rawOfFirstThree);
    expect(suppressed()).toEqual([['v1', 0, 1], ['v2', 1, 1]]);
    await input.pipeInput('x', 'x', 3);
    expect(raw()).toEqual([['x', 1, 3]]);
    expect(suppressed()).toEqual([['v1', 1, 2]]);
    await driver.close();
  });

  it('SuppressScenarioTest.shouldSupportFinalResultsForTimeWindows: one final count per window, a record after the grace period is dropped', async () => {
    const t = windowedScenario((b) => b.stream<string, string>('input', strings).groupBy((k) => k, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).windowedBy(TimeWindows.ofSizeAndGrace(2, 1)).count({ storeName: 'counts' }));
    for (const ts of [0, 1, 2, 1, 0, 5, 0]) await t.pipe('k1', ts);
    expect(t.raw()).toEqual([['[k1@0/2]', 1, 0], ['[k1@0/2]', 2, 1], ['[k1@2/4]', 1, 2], ['[k1@0/2]', 3, 1], ['[k1@0/2]', 4, 1], ['[k1@4/6]', 1, 5]]);
    expect(t.suppressed()).toEqual([['[k1@0/2]', 4, 1], ['[k1@2/4]', 1, 2]]);
    await t.driver.close();
  });

  it('SuppressScenarioTest.shouldSupportFinalResultsForTimeWindowsWithLargeJump: a jump in stream time flushes every closed window in window-end order', async () => {
    const t = windowedScenario((b) => b.stream<string, string>('input', strings).groupBy((k) => k, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).windowedBy(TimeWindows.ofSizeAndGrace(2, 2)).count({ storeName: 'counts' }));
    for (const ts of [0, 1, 2, 0, 3, 0, 4, 0, 30]) await t.pipe('k1', ts);
    expect(t.raw()).toEqual([
      ['[k1@0/2]', 1, 0], ['[k1@0/2]', 2, 1], ['[k1@2/4]', 1, 2], ['[k1@0/2]', 3, 1], ['[k1@2/4]', 2, 3], ['[k1@0/2]', 4, 1], ['[k1@4/6]', 1, 4], ['[k1@30/32]', 1, 30],
    ]);
    expect(t.suppressed()).toEqual([['[k1@0/2]', 4, 1], ['[k1@2/4]', 2, 3], ['[k1@4/6]', 1, 4]]);
    await t.driver.close();
  });

  it('SuppressScenarioTest.shouldSupportFinalResultsForSlidingWindows: sliding windows close at end + grace', async () => {
    const t = windowedScenario((b) => b.stream<string, string>('input', strings).groupBy((k) => k, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(5, 15)).count({ storeName: 'counts' }));
    for (const ts of [10, 11, 10, 13, 10, 24, 5, 7, 90]) await t.pipe('k1', ts);
    const raw = t.raw().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]));
    expect(raw).toEqual([
      ['[k1@11/16]', 1, 11], ['[k1@11/16]', 2, 13], ['[k1@12/17]', 1, 13], ['[k1@19/24]', 1, 24],
      ['[k1@5/10]', 1, 10], ['[k1@5/10]', 2, 10], ['[k1@5/10]', 3, 10], ['[k1@5/10]', 4, 10], ['[k1@5/10]', 5, 10],
      ['[k1@6/11]', 2, 11], ['[k1@6/11]', 3, 11], ['[k1@6/11]', 4, 11], ['[k1@6/11]', 5, 11],
      ['[k1@8/13]', 4, 13], ['[k1@8/13]', 5, 13], ['[k1@85/90]', 1, 90],
    ]);
    expect(t.suppressed()).toEqual([['[k1@5/10]', 5, 10], ['[k1@6/11]', 5, 11], ['[k1@8/13]', 5, 13], ['[k1@11/16]', 2, 13], ['[k1@12/17]', 1, 13], ['[k1@19/24]', 1, 24]]);
    await t.driver.close();
  });

  it('SuppressScenarioTest.shouldSupportFinalResultsForSessionWindows: merged-away sessions never come out, a session closes at end + gap + grace', async () => {
    const t = windowedScenario((b) => b.stream<string, string>('input', strings).groupBy((k) => k, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5)).count({ storeName: 'counts' }));
    await t.pipe('k1', 0);
    await t.pipe('k1', 5);
    await t.pipe('k1', 1);
    await t.pipe('k2', 11);
    await t.pipe('k1', 5);
    await t.pipe('k1', 30);
    expect(t.raw()).toEqual([
      ['[k1@0/0]', 1, 0], ['[k1@0/0]', null, 0], ['[k1@0/5]', 2, 5], ['[k1@0/5]', null, 5], ['[k1@0/5]', 3, 5], ['[k2@11/11]', 1, 11], ['[k1@30/30]', 1, 30],
    ]);
    expect(t.suppressed()).toEqual([['[k1@0/5]', 3, 5], ['[k2@11/11]', 1, 11]]);
    expect(t.driver.metrics().dropped).toBe(1);
    await t.driver.close();
  });

  it('SuppressScenarioTest.shouldWorkBeforeGroupBy: a suppressed table can be re-grouped', async () => {
    const builder = new StreamsBuilder();
    builder.table<string, string>('topic', strings)
      .suppress(Suppressed.untilTimeLimit(10))
      .groupBy((k, v) => [k, v] as const, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .count()
      .toStream()
      .to('output', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('topic', Serdes.string(), Serdes.string());
    await input.pipeInput('A', 'a', 0);
    await input.pipeInput('tick', 'tick', 10);
    expect(reader(driver, 'output', Serdes.int64())()).toEqual([['A', 1, 0]]);
    await driver.close();
  });
});

describe('KTableSuppressProcessorTest', () => {
  /** A source table of `input` (string → int64 values) suppressed as given; emitted changes go to `output`. */
  function harness(suppressed: Suppressed, windowed = false) {
    const builder = new StreamsBuilder();
    const source = builder.stream<string, number | null>('input', { keySerde: Serdes.string(), valueSerde: Serdes.nullable(Serdes.int64()) });
    const table = windowed
      ? source.groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(100)).reduce((_a, v) => v, { storeName: 'w' })
      : source.toTable();
    table.suppress(suppressed).toStream().map((k, v) => [typeof k === 'string' ? k : windowedToString(k), v] as const).to('output', { keySerde: Serdes.string(), valueSerde: Serdes.nullable(Serdes.int64()) });
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('input', Serdes.string(), Serdes.nullable(Serdes.int64()));
    return { driver, pipe: (k: string, v: number | null, ts: number, headers = {}) => input.pipeInput(k, v, ts, headers), output: driver.createOutputTopic('output', Serdes.string(), Serdes.nullable(Serdes.int64())) };
  }

  it('KTableSuppressProcessorTest.zeroTimeLimitShouldImmediatelyEmit', async () => {
    const h = harness(Suppressed.untilTimeLimit(0));
    await h.pipe('hey', 7, 1234);
    expect(h.output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['hey', 7, 1234]]);
    await h.driver.close();
  });

  it('KTableSuppressProcessorTest.intermediateSuppressionShouldBufferAndEmitLater', async () => {
    const h = harness(Suppressed.untilTimeLimit(1));
    await h.pipe('hey', 1, 0);
    expect(h.output.isEmpty()).toBe(true);
    await h.pipe('tick', null, 1);
    expect(h.output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['hey', 1, 0]]);
    await h.driver.close();
  });

  it('KTableSuppressProcessorTest.finalResultsWithZeroGraceShouldStillBufferUntilTheWindowEnd: a result waits for its window end, then comes out at its own timestamp', async () => {
    const h = harness(Suppressed.untilWindowCloses(), true);
    await h.pipe('hey', 7, 5);
    expect(h.output.isEmpty()).toBe(true);
    await h.pipe('dummyKey', 1, 100);
    expect(h.output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['[hey@0/100]', 7, 5]]);
    await h.driver.close();
  });

  it('KTableSuppressProcessorTest.suppressShouldNotDropTombstonesForKTable: untilTimeLimit forwards tombstones with their headers', async () => {
    const h = harness(Suppressed.untilTimeLimit(0, { maxRecords: 0 }));
    await h.pipe('hey', 7, 99);
    await h.pipe('hey', null, 100, { k: 'v' });
    const records = h.output.readRecordsToList();
    expect(records.map((r) => [r.key, r.value, r.timestamp])).toEqual([['hey', 7, 99], ['hey', null, 100]]);
    expect(records[1]!.headers).toMatchObject({ k: 'v' });
    await h.driver.close();
  });

  it('KTableSuppressProcessorTest.suppressShouldEmitWhenOverRecordCapacity', async () => {
    const h = harness(Suppressed.untilTimeLimit('100d', { maxRecords: 1 }));
    await h.pipe('hey', 7, 100);
    await h.pipe('dummyKey', 7, 101);
    expect(h.output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['hey', 7, 100]]);
    await h.driver.close();
  });

  it('KTableSuppressProcessorTest.suppressShouldShutDownWhenOverRecordCapacity: without emitEarlyWhenFull a full buffer fails the task', async () => {
    const h = harness(Suppressed.untilTimeLimit('100d', { maxRecords: 1, emitEarlyWhenFull: false }));
    await h.pipe('hey', 7, 100);
    await expect(h.pipe('dummyKey', 7, 101)).rejects.toThrow(/full/);
    await h.driver.close();
  });

  it('untilWindowCloses needs a windowed table upstream', () => {
    const builder = new StreamsBuilder();
    expect(() => builder.table('t').suppress(Suppressed.untilWindowCloses())).toThrow(/windowed table/);
  });

  it('the buffer lives in a key-value store: a restarted task restored from it still emits the final result', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('input', strings).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count().suppress(Suppressed.untilWindowCloses({ name: 'final' })).toStream().to('output');
    const topology = builder.build();
    const spec = topology.stores.get('final-store')!;
    expect(spec).toMatchObject({ type: 'key-value' });

    const first = new TopologyTestDriver(topology);
    const firstInput = first.createInputTopic('input', Serdes.string(), Serdes.string());
    await firstInput.pipeInput('a', 'x', 3);
    await firstInput.pipeInput('a', 'x', 4);
    const buffer = first.getStateStore('final-store') as KeyValueStore<Windowed<string>, unknown>;
    const persisted = buffer.all().map((e) => ({ key: e.key, bytes: spec.valueSerde!.serialize(e.value) }));
    expect(persisted).toHaveLength(1);
    await first.close();

    const second = new TopologyTestDriver(topology);
    const restored = second.getStateStore('final-store') as KeyValueStore<Windowed<string>, unknown>;
    for (const e of persisted) restored.put(e.key, spec.valueSerde!.deserialize(e.bytes));
    await second.createInputTopic('input', Serdes.string(), Serdes.string()).pipeInput('b', 'x', 25);
    const out = second.createOutputTopic('output', Serdes.windowed(Serdes.string()), Serdes.int64()).readRecordsToList();
    expect(out.map((r) => [windowedToString(r.key), r.value, r.timestamp])).toEqual([['[a@0/10]', 2, 4]]);
    await second.close();
  });
});
