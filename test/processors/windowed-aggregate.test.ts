import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TimeWindows, UnlimitedWindows, windowedToString, type KStream } from 'tributary';
import { readWindowed, stringDriver, windowedOutput, STRING_ADDER, STRING_INIT, TOSTRING_ADDER, w } from './windowed-test-utils.ts';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };

function input(builder: StreamsBuilder): KStream<string, string> {
  return builder.stream<string, string>('input', strings);
}

/** TimeWindowedKStreamImplTest's `processData`: ("1","1")@10, ("1","2")@15, ("1","3")@500, ("2","1")@500 in 500 ms windows. */
async function processData(pipe: (k: string, v: string, ts: number) => Promise<void>): Promise<void> {
  await pipe('1', '1', 10);
  await pipe('1', '2', 15);
  await pipe('1', '3', 500);
  await pipe('2', '1', 500);
}

/** The last value per windowed key, as a `[key@start/end] → value` map. */
function lastPerWindow<V>(records: { key: string; start: number; end: number; value: V | null }[]): Map<string, V | null> {
  return new Map(records.map((r) => [windowedToString({ key: r.key, window: { start: r.start, end: r.end } }), r.value]));
}

describe('TimeWindowedKStreamImplTest (tumbling windows of 500 ms)', () => {
  it('TimeWindowedKStreamImplTest.shouldCountWindowed: counts per key and window', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(500)).count().toStream().to('output');
    const { driver, pipe } = stringDriver(builder.build());
    await processData(pipe);
    const last = lastPerWindow(readWindowed(driver, 'output', Serdes.int64()));
    expect(last.get('[1@0/500]')).toBe(2);
    expect(last.get('[2@500/1000]')).toBe(1);
    expect(last.get('[1@500/1000]')).toBe(1);
    await driver.close();
  });

  it('TimeWindowedKStreamImplTest.shouldReduceWindowed: the first value starts the aggregate', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(500)).reduce(STRING_ADDER).toStream().to('output');
    const { driver, pipe } = stringDriver(builder.build());
    await processData(pipe);
    const last = lastPerWindow(readWindowed(driver, 'output', Serdes.string()));
    expect(last.get('[1@0/500]')).toBe('1+2');
    expect(last.get('[2@500/1000]')).toBe('1');
    expect(last.get('[1@500/1000]')).toBe('3');
    await driver.close();
  });

  it('TimeWindowedKStreamImplTest.shouldAggregateWindowed: each window starts from the initializer', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(500)).aggregate(STRING_INIT, TOSTRING_ADDER, { valueSerde: Serdes.string() }).toStream().to('output');
    const { driver, pipe } = stringDriver(builder.build());
    await processData(pipe);
    const last = lastPerWindow(readWindowed(driver, 'output', Serdes.string()));
    expect(last.get('[1@0/500]')).toBe('0+1+2');
    expect(last.get('[2@500/1000]')).toBe('0+1');
    expect(last.get('[1@500/1000]')).toBe('0+3');
    await driver.close();
  });

  // Kafka's persistent window store expires by segments of at least a minute, so its test still finds
  // [1@0/500] at stream time 500; our stores expire exactly at size + grace, so these keep a day.
  it('TimeWindowedKStreamImplTest.shouldMaterializeCount: the named window store holds the counts', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(500)).count({ storeName: 'count-store', retention: '1d' });
    const { driver, pipe } = stringDriver(builder.build());
    await processData(pipe);
    const store = driver.getWindowStore<string, number>('count-store')!;
    expect([...store.fetch('1', 0, 1000), ...store.fetch('2', 0, 1000)]).toEqual([
      { key: 0, value: 2 },
      { key: 500, value: 1 },
      { key: 500, value: 1 },
    ]);
    expect(store.all().map((e) => [windowedToString(e.key), e.value])).toEqual([['[1@0/500]', 2], ['[1@500/1000]', 1], ['[2@500/1000]', 1]]);
    expect(driver.getTimestampedWindowStore<string, number>('count-store')!.fetch('1', 0)).toEqual({ value: 2, timestamp: 15 });
    await driver.close();
  });

  it('TimeWindowedKStreamImplTest.shouldMaterializeReduced: the named window store holds the reductions', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(500)).reduce(STRING_ADDER, { storeName: 'reduced', retention: '1d' });
    const { driver, pipe } = stringDriver(builder.build());
    await processData(pipe);
    const store = driver.getWindowStore<string, string>('reduced')!;
    expect(store.all().map((e) => [windowedToString(e.key), e.value])).toEqual([['[1@0/500]', '1+2'], ['[1@500/1000]', '3'], ['[2@500/1000]', '1']]);
    await driver.close();
  });

  it('TimeWindowedKStreamImplTest.shouldMaterializeAggregated: the named window store holds the aggregates', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(500)).aggregate(STRING_INIT, TOSTRING_ADDER, { storeName: 'aggregated', valueSerde: Serdes.string(), retention: '1d' });
    const { driver, pipe } = stringDriver(builder.build());
    await processData(pipe);
    const store = driver.getWindowStore<string, string>('aggregated')!;
    expect(store.all().map((e) => [windowedToString(e.key), e.value])).toEqual([['[1@0/500]', '0+1+2'], ['[1@500/1000]', '0+3'], ['[2@500/1000]', '0+1']]);
    expect(store.fetch('1', 500)).toBe('0+3');
    await driver.close();
  });
});

describe('KStreamWindowAggregateTest (hopping windows)', () => {
  it('KStreamWindowAggregateTest.testAggBasic: a record updates every hopping window it falls in, out-of-order records within grace included', async () => {
    const builder = new StreamsBuilder();
    input(builder)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 100).advanceBy(5))
      .aggregate(STRING_INIT, TOSTRING_ADDER, { storeName: 'topic1-Canonized', valueSerde: Serdes.string() })
      .toStream()
      .to('output');
    const { driver, pipe } = stringDriver(builder.build());
    const records: [string, string, number][] = [
      ['A', '1', 0], ['B', '2', 1], ['C', '3', 2], ['D', '4', 3], ['A', '1', 4],
      ['A', '1', 5], ['B', '2', 6], ['D', '4', 7], ['B', '2', 8], ['C', '3', 9],
      ['A', '1', 10], ['B', '2', 11], ['D', '4', 12], ['B', '2', 13], ['C', '3', 14],
      ['B', '1', 3], ['B', '2', 2], ['B', '3', 9],
    ];
    for (const [k, v, ts] of records) await pipe(k, v, ts);
    expect(readWindowed(driver, 'output', Serdes.string())).toEqual([
      w('A', 0, 10, '0+1', 0),
      w('B', 0, 10, '0+2', 1),
      w('C', 0, 10, '0+3', 2),
      w('D', 0, 10, '0+4', 3),
      w('A', 0, 10, '0+1+1', 4),
      w('A', 0, 10, '0+1+1+1', 5),
      w('A', 5, 15, '0+1', 5),
      w('B', 0, 10, '0+2+2', 6),
      w('B', 5, 15, '0+2', 6),
      w('D', 0, 10, '0+4+4', 7),
      w('D', 5, 15, '0+4', 7),
      w('B', 0, 10, '0+2+2+2', 8),
      w('B', 5, 15, '0+2+2', 8),
      w('C', 0, 10, '0+3+3', 9),
      w('C', 5, 15, '0+3', 9),
      w('A', 5, 15, '0+1+1', 10),
      w('A', 10, 20, '0+1', 10),
      w('B', 5, 15, '0+2+2+2', 11),
      w('B', 10, 20, '0+2', 11),
      w('D', 5, 15, '0+4+4', 12),
      w('D', 10, 20, '0+4', 12),
      w('B', 5, 15, '0+2+2+2+2', 13),
      w('B', 10, 20, '0+2+2', 13),
      w('C', 5, 15, '0+3+3', 14),
      w('C', 10, 20, '0+3', 14),
      w('B', 0, 10, '0+2+2+2+1', 8),
      w('B', 0, 10, '0+2+2+2+1+2', 8),
      w('B', 0, 10, '0+2+2+2+1+2+3', 9),
      w('B', 5, 15, '0+2+2+2+2+3', 13),
    ]);
    await driver.close();
  });

  it('KStreamWindowAggregateTest.testJoin (the two windowed aggregations of its first steps): each table updates only from its own topic', async () => {
    const builder = new StreamsBuilder();
    const windows = TimeWindows.ofSizeAndGrace(10, 100).advanceBy(5);
    builder.stream<string, string>('topic1', strings).groupByKey().windowedBy(windows).aggregate(STRING_INIT, TOSTRING_ADDER, { storeName: 'topic1-Canonized', valueSerde: Serdes.string() }).toStream().to('out1');
    builder.stream<string, string>('topic2', strings).groupByKey().windowedBy(windows).aggregate(STRING_INIT, TOSTRING_ADDER, { storeName: 'topic2-Canonized', valueSerde: Serdes.string() }).toStream().to('out2');
    const { driver, pipe: pipe1 } = stringDriver(builder.build(), 'topic1');
    const topic2 = driver.createInputTopic('topic2', Serdes.string(), Serdes.string());
    const out1 = windowedOutput(driver, 'out1', Serdes.string());
    const out2 = windowedOutput(driver, 'out2', Serdes.string());
    for (const [k, v, ts] of [['A', '1', 0], ['B', '2', 1], ['C', '3', 2], ['D', '4', 3], ['A', '1', 9]] as const) await pipe1(k, v, ts);
    expect(out1()).toEqual([
      w('A', 0, 10, '0+1', 0), w('B', 0, 10, '0+2', 1), w('C', 0, 10, '0+3', 2), w('D', 0, 10, '0+4', 3), w('A', 0, 10, '0+1+1', 9), w('A', 5, 15, '0+1', 9),
    ]);
    for (const [k, v, ts] of [['A', 'a', 0], ['B', 'b', 1], ['C', 'c', 2], ['D', 'd', 20], ['A', 'a', 20]] as const) await topic2.pipeInput(k, v, ts);
    expect(out1()).toEqual([]);
    expect(out2()).toEqual([
      w('A', 0, 10, '0+a', 0), w('B', 0, 10, '0+b', 1), w('C', 0, 10, '0+c', 2), w('D', 15, 25, '0+d', 20), w('D', 20, 30, '0+d', 20), w('A', 15, 25, '0+a', 20), w('A', 20, 30, '0+a', 20),
    ]);
    await driver.close();
  });

  it('KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey: a record with a null key is dropped and counted', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5)).aggregate(STRING_INIT, TOSTRING_ADDER, { storeName: 'topic1-Canonicalized', valueSerde: Serdes.string() });
    const { driver, pipe } = stringDriver(builder.build());
    await pipe(null, '1', 0);
    expect(driver.metrics().dropped).toBe(1);
    expect(driver.metrics().byTask['0_0']?.dropped).toBe(1);
    await driver.close();
  });

  it('KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow: a window is updated only while end > streamTime - grace; each skipped window counts', async () => {
    const builder = new StreamsBuilder();
    input(builder)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 90).advanceBy(5))
      .aggregate(() => '', (_k, v, agg: string) => `${agg}+${v}`, { storeName: 'topic1-Canonicalized', valueSerde: Serdes.string(), retention: 100 })
      .toStream()
      .map((key, value) => [windowedToString(key), value] as const)
      .to('output', strings);
    const { driver, pipe } = stringDriver(builder.build());
    await pipe('k', '100', 100);
    for (let t = 0; t <= 6; t++) await pipe('k', String(t), t);
    expect(driver.metrics().dropped).toBe(7);
    const out = driver.createOutputTopic('output', Serdes.string(), Serdes.string()).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
    expect(out).toEqual([['[k@95/105]', '+100', 100], ['[k@100/110]', '+100', 100], ['[k@5/15]', '+5', 5], ['[k@5/15]', '+5+6', 6]]);
    await driver.close();
  });

  it('KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace: records for windows closed by the grace period are dropped', async () => {
    const builder = new StreamsBuilder();
    input(builder)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 90).advanceBy(10))
      .aggregate(() => '', (_k, v, agg: string) => `${agg}+${v}`, { storeName: 'topic1-Canonicalized', valueSerde: Serdes.string() })
      .toStream()
      .map((key, value) => [windowedToString(key), value] as const)
      .to('output', strings);
    const { driver, pipe } = stringDriver(builder.build());
    await pipe('k', '100', 200);
    for (let i = 0; i <= 5; i++) await pipe('k', String(i), 100 + i);
    await pipe('k', '6', 6);
    expect(driver.metrics().dropped).toBe(7);
    const out = driver.createOutputTopic('output', Serdes.string(), Serdes.string()).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
    expect(out).toEqual([['[k@200/210]', '+100', 200]]);
    await driver.close();
  });
});

describe('time windows: windowsFor, retention and emit on close', () => {
  it('windowsFor gives aligned windows that contain the timestamp, never with a negative start', () => {
    expect(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5).windowsFor(0)).toEqual([{ start: 0, end: 10 }]);
    expect(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5).windowsFor(12)).toEqual([{ start: 5, end: 15 }, { start: 10, end: 20 }]);
    expect(TimeWindows.ofSizeWithNoGrace('1m').windowsFor(61_000)).toEqual([{ start: 60_000, end: 120_000 }]);
    expect(() => TimeWindows.ofSizeWithNoGrace(10).advanceBy(11)).toThrow(RangeError);
    expect(() => TimeWindows.ofSizeWithNoGrace(0)).toThrow(RangeError);
  });

  it('the window store retains size + grace unless Materialized.retention says more; less is refused', () => {
    const builder = new StreamsBuilder();
    const grouped = input(builder).groupByKey();
    grouped.windowedBy(TimeWindows.ofSizeAndGrace('1m', '10s')).count({ storeName: 'a' });
    grouped.windowedBy(TimeWindows.ofSizeAndGrace('1m', '10s')).count({ storeName: 'b', retention: '1h' });
    const stores = builder.build().stores;
    expect(stores.get('a')).toMatchObject({ type: 'window', retentionMs: 70_000, windowSizeMs: 60_000, timestamped: true });
    expect(stores.get('b')?.retentionMs).toBe(3_600_000);
    expect(() => input(new StreamsBuilder()).groupByKey().windowedBy(TimeWindows.ofSizeAndGrace('1m', '10s')).count({ retention: '1m' })).toThrow(/retention/);
  });

  it("emitStrategy('onWindowClose') forwards each window once, when end <= streamTime - grace, by start then key", async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).emitStrategy('onWindowClose').count().toStream().to('output');
    const { driver, pipe } = stringDriver(builder.build());
    const output = windowedOutput(driver, 'output', Serdes.int64());
    await pipe('b', 'x', 1);
    await pipe('a', 'x', 2);
    await pipe('a', 'x', 12);
    await pipe('a', 'x', 14);
    expect(output()).toEqual([]);
    await pipe('b', 'x', 3);
    await pipe('c', 'x', 15);
    expect(output()).toEqual([w('a', 0, 10, 1, 2), w('b', 0, 10, 2, 3)]);
    await pipe('c', 'x', 1);
    await pipe('c', 'x', 40);
    expect(output()).toEqual([w('a', 10, 20, 2, 14), w('c', 10, 20, 1, 15)]);
    expect(driver.metrics().dropped).toBe(1);
    await driver.close();
  });

  it('a windowed table goes to a topic without naming serdes: the key serde is Serdes.windowed(inner)', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(1000)).count().toStream().to('output');
    const { driver, pipe } = stringDriver(builder.build());
    await pipe('user', 'click', 1500);
    const [record] = driver.createOutputTopic('output', Serdes.windowed(Serdes.string()), Serdes.int64()).readRecordsToList();
    expect(record).toMatchObject({ key: { key: 'user', window: { start: 1000, end: 2000 } }, value: 1, timestamp: 1500 });
    await driver.close();
  });
});

describe('UnlimitedWindowsTest and windowedBy(UnlimitedWindows)', () => {
  it('UnlimitedWindowsTest.shouldSetWindowStartTime / startTimeMustNotBeNegative / shouldInclude…/shouldExcludeRecordsThatHappenedBeforeWindowStart', () => {
    const w = UnlimitedWindows.of().startOn(10);
    expect(w.startMs).toBe(10);
    expect(() => UnlimitedWindows.of().startOn(-1)).toThrow(RangeError);
    expect(w.windowsFor(10)).toEqual([{ start: 10, end: Number.MAX_SAFE_INTEGER }]);
    expect(w.windowsFor(11)).toEqual([{ start: 10, end: Number.MAX_SAFE_INTEGER }]);
    expect(w.windowsFor(9)).toEqual([]);
    expect(UnlimitedWindows.of().startOn(new Date(1)).startMs).toBe(1);
  });

  it('counts every record since the start in one window per key; earlier records are in none', async () => {
    const builder = new StreamsBuilder();
    input(builder).groupByKey().windowedBy(UnlimitedWindows.of().startOn(100)).count({ storeName: 'all-time' }).toStream().to('output');
    const { driver, pipe } = stringDriver(builder.build());
    await pipe('a', '1', 50);
    await pipe('a', '2', 100);
    await pipe('b', '3', 5_000_000);
    await pipe('a', '4', 10_000_000_000);
    expect(readWindowed(driver, 'output', Serdes.int64())).toEqual([
      w('a', 100, Number.MAX_SAFE_INTEGER, 1, 100),
      w('b', 100, Number.MAX_SAFE_INTEGER, 1, 5_000_000),
      w('a', 100, Number.MAX_SAFE_INTEGER, 2, 10_000_000_000),
    ]);
    expect(driver.getWindowStore<string, number>('all-time')?.fetch('a', 100)).toBe(2);
    await driver.close();
  });
});
