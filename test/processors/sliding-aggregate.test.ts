import { describe, expect, it } from 'vitest';
import { Serdes, SlidingWindows, StreamsBuilder, windowedToString, type EmitStrategy } from 'tributary';
import { stringDriver, STRING_ADDER, STRING_INIT, TOSTRING_ADDER, w, windowedOutput, type WindowedResult } from './windowed-test-utils.ts';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
type Input = readonly [key: string, value: string, timestamp: number];

/** A sliding-window aggregate of `input` (TOSTRING_ADDER from "0") into `output`; pipes `records` and returns what was emitted. */
async function run(
  windows: SlidingWindows,
  emit: EmitStrategy,
  records: readonly Input[],
  aggregate: 'aggregate' | 'reduce' = 'aggregate',
): Promise<{ results: WindowedResult<string>[]; dropped: number }> {
  const builder = new StreamsBuilder();
  const windowed = builder.stream<string, string>('input', strings).groupByKey().windowedBy(windows).emitStrategy(emit);
  const table = aggregate === 'aggregate'
    ? windowed.aggregate(STRING_INIT, TOSTRING_ADDER, { storeName: 'store-name', valueSerde: Serdes.string() })
    : windowed.reduce(STRING_ADDER, { storeName: 'store-name' });
  table.toStream().to('output');
  const { driver, pipe } = stringDriver(builder.build());
  const output = windowedOutput(driver, 'output', Serdes.string());
  for (const [k, v, ts] of records) await pipe(k, v, ts);
  const results = output();
  const dropped = driver.metrics().dropped;
  await driver.close();
  return { results, dropped };
}

/** Kafka's `gatherOutput`: window start → the set of `value@timestamp` emitted for it. */
function byStart(results: WindowedResult<string>[]): Map<number, Set<string>> {
  const map = new Map<number, Set<string>>();
  for (const r of results) {
    if (!map.has(r.start)) map.set(r.start, new Set());
    map.get(r.start)!.add(`${r.value}@${r.timestamp}`);
  }
  return map;
}

function expected(entries: Record<number, string[]>): Map<number, Set<string>> {
  return new Map(Object.entries(entries).map(([start, values]) => [Number(start), new Set(values)]));
}

/** Sorts by key, then window start, keeping emission order otherwise (Java's stable sort in the Kafka tests). */
function sortedByKeyAndStart(results: WindowedResult<string>[]): WindowedResult<string>[] {
  return [...results].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start));
}

describe('KStreamSlidingWindowAggregateTest', () => {
  const small: Input[] = [['A', '1', 10], ['A', '2', 10], ['A', '3', 14], ['A', '4', 15], ['A', '5', 20], ['A', '6', 22], ['A', '7', 30]];

  it('KStreamSlidingWindowAggregateTest.testAggregateSmallInput (emit on update): every non-empty window is created and updated', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 5), 'onWindowUpdate', small);
    expect(byStart(results)).toEqual(expected({
      0: ['0+1@10', '0+1+2@10'],
      4: ['0+1+2+3@14'],
      5: ['0+1+2+3+4@15'],
      10: ['0+1+2+3+4+5@20'],
      11: ['0+3@14', '0+3+4@15', '0+3+4+5@20'],
      12: ['0+3+4+5+6@22'],
      15: ['0+4@15', '0+4+5@20', '0+4+5+6@22'],
      16: ['0+5@20', '0+5+6@22'],
      20: ['0+5+6+7@30'],
      21: ['0+6@22', '0+6+7@30'],
      23: ['0+7@30'],
    }));
    expect(results.every((r) => r.end === r.start + 10)).toBe(true);
  });

  it('KStreamSlidingWindowAggregateTest.testAggregateSmallInput (emit on close): one result per window once end < streamTime - grace', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 5), 'onWindowClose', small);
    expect(byStart(results)).toEqual(expected({
      0: ['0+1+2@10'], 4: ['0+1+2+3@14'], 5: ['0+1+2+3+4@15'], 10: ['0+1+2+3+4+5@20'], 11: ['0+3+4+5@20'], 12: ['0+3+4+5+6@22'],
    }));
  });

  const reduceInput: Input[] = [['A', '1', 10], ['A', '2', 14], ['A', '3', 15], ['A', '4', 22], ['A', '5', 26], ['A', '6', 30]];

  it('KStreamSlidingWindowAggregateTest.testReduceSmallInput (emit on update): reduce starts each window from its first value', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 5), 'onWindowUpdate', reduceInput, 'reduce');
    expect(byStart(results)).toEqual(expected({
      0: ['1@10'], 4: ['1+2@14'], 5: ['1+2+3@15'], 11: ['2@14', '2+3@15'], 12: ['2+3+4@22'], 15: ['3@15', '3+4@22'],
      16: ['4@22', '4+5@26'], 20: ['4+5+6@30'], 23: ['5@26', '5+6@30'], 27: ['6@30'],
    }));
  });

  it('KStreamSlidingWindowAggregateTest.testReduceSmallInput (emit on close)', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 5), 'onWindowClose', reduceInput, 'reduce');
    expect(byStart(results)).toEqual(expected({ 0: ['1@10'], 4: ['1+2@14'], 5: ['1+2+3@15'], 11: ['2+3@15'], 12: ['2+3+4@22'] }));
  });

  const large: Input[] = [
    ['A', '1', 10], ['A', '2', 20], ['A', '3', 22], ['A', '4', 15],
    ['B', '1', 12], ['B', '2', 13], ['B', '3', 18], ['B', '4', 19], ['B', '5', 25], ['B', '6', 14],
    ['C', '1', 11], ['C', '2', 15], ['C', '3', 16], ['C', '4', 21], ['C', '5', 23],
    ['D', '4', 11], ['D', '2', 12], ['D', '3', 29], ['D', '5', 16],
  ];

  it('KStreamSlidingWindowAggregateTest.testAggregateLargeInput (emit on update): out-of-order records update left and right windows of their neighbours', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 50), 'onWindowUpdate', large);
    expect(sortedByKeyAndStart(results)).toEqual([
      w('A', 0, 10, '0+1', 10), w('A', 5, 15, '0+1+4', 15), w('A', 10, 20, '0+1+2', 20), w('A', 10, 20, '0+1+2+4', 20),
      w('A', 11, 21, '0+2', 20), w('A', 11, 21, '0+2+4', 20), w('A', 12, 22, '0+2+3', 22), w('A', 12, 22, '0+2+3+4', 22),
      w('A', 16, 26, '0+2+3', 22), w('A', 21, 31, '0+3', 22),
      w('B', 2, 12, '0+1', 12), w('B', 3, 13, '0+1+2', 13), w('B', 4, 14, '0+1+2+6', 14), w('B', 8, 18, '0+1+2+3', 18),
      w('B', 8, 18, '0+1+2+3+6', 18), w('B', 9, 19, '0+1+2+3+4', 19), w('B', 9, 19, '0+1+2+3+4+6', 19), w('B', 13, 23, '0+2', 13),
      w('B', 13, 23, '0+2+3', 18), w('B', 13, 23, '0+2+3+4', 19), w('B', 13, 23, '0+2+3+4+6', 19), w('B', 14, 24, '0+3', 18),
      w('B', 14, 24, '0+3+4', 19), w('B', 14, 24, '0+3+4+6', 19), w('B', 15, 25, '0+3+4+5', 25), w('B', 19, 29, '0+4', 19),
      w('B', 19, 29, '0+4+5', 25), w('B', 20, 30, '0+5', 25),
      w('C', 1, 11, '0+1', 11), w('C', 5, 15, '0+1+2', 15), w('C', 6, 16, '0+1+2+3', 16), w('C', 11, 21, '0+1+2+3+4', 21),
      w('C', 12, 22, '0+2', 15), w('C', 12, 22, '0+2+3', 16), w('C', 12, 22, '0+2+3+4', 21), w('C', 13, 23, '0+2+3+4+5', 23),
      w('C', 16, 26, '0+3', 16), w('C', 16, 26, '0+3+4', 21), w('C', 16, 26, '0+3+4+5', 23), w('C', 17, 27, '0+4', 21),
      w('C', 17, 27, '0+4+5', 23), w('C', 22, 32, '0+5', 23),
      w('D', 1, 11, '0+4', 11), w('D', 2, 12, '0+4+2', 12), w('D', 6, 16, '0+4+2+5', 16), w('D', 12, 22, '0+2', 12),
      w('D', 12, 22, '0+2+5', 16), w('D', 13, 23, '0+5', 16), w('D', 19, 29, '0+3', 29),
    ]);
  });

  it('KStreamSlidingWindowAggregateTest.testAggregateLargeInput (emit on close): late records are skipped for closed windows', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 10), 'onWindowClose', large);
    expect(sortedByKeyAndStart(results)).toEqual([
      w('A', 0, 10, '0+1', 10), w('A', 5, 15, '0+1+4', 15),
      w('B', 2, 12, '0+1', 12), w('B', 3, 13, '0+1+2', 13), w('B', 8, 18, '0+1+2+3+6', 18),
      w('C', 5, 15, '0+2', 15), w('C', 6, 16, '0+2+3', 16),
    ]);
  });

  const repeated: Input[] = [['A', '1', 0], ['A', '2', 2], ['A', '3', 4], ['A', '4', 0], ['A', '5', 2], ['A', '6', 2], ['A', '7', 0], ['A', '8', 7]];

  it('KStreamSlidingWindowAggregateTest.testEarlyRecordsRepeatedInput (emit on update): records before the time difference share the window [0, d]', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(5, 0), 'onWindowUpdate', repeated);
    expect(byStart(results)).toEqual(expected({
      0: ['0+1@0', '0+1+2@2', '0+1+2+3+4+5@4', '0+1+2+3+4+5+6@4', '0+1+2+3@4', '0+1+2+3+4@4', '0+1+2+3+4+5+6+7@4'],
      1: ['0+2+3+5+6@4', '0+2@2', '0+2+3@4', '0+2+3+5@4'],
      2: ['0+2+3+5+6+8@7'],
      3: ['0+3@4', '0+3+8@7'],
      5: ['0+8@7'],
    }));
  });

  it('KStreamSlidingWindowAggregateTest.testEarlyRecordsRepeatedInput (emit on close)', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(5, 0), 'onWindowClose', repeated);
    expect(byStart(results)).toEqual(expected({ 0: ['0+1+2+3+4+5+6+7@4'], 1: ['0+2+3+5+6@4'] }));
  });

  const earlyLarge: Input[] = [['E', '1', 0], ['E', '3', 5], ['E', '4', 6], ['E', '2', 3], ['E', '6', 13], ['E', '5', 10], ['E', '7', 4], ['E', '8', 2], ['E', '9', 15]];
  const earlyLargeUpdates = [
    w('E', 0, 10, '0+1', 0), w('E', 0, 10, '0+1+3', 5), w('E', 0, 10, '0+1+3+4', 6), w('E', 0, 10, '0+1+3+4+2', 6),
    w('E', 0, 10, '0+1+3+4+2+5', 10), w('E', 0, 10, '0+1+3+4+2+5+7', 10), w('E', 0, 10, '0+1+3+4+2+5+7+8', 10),
    w('E', 1, 11, '0+3', 5), w('E', 1, 11, '0+3+4', 6), w('E', 1, 11, '0+3+4+2', 6), w('E', 1, 11, '0+3+4+2+5', 10),
    w('E', 1, 11, '0+3+4+2+5+7', 10), w('E', 1, 11, '0+3+4+2+5+7+8', 10),
    w('E', 3, 13, '0+3+4+2+6', 13), w('E', 3, 13, '0+3+4+2+6+5', 13), w('E', 3, 13, '0+3+4+2+6+5+7', 13),
    w('E', 4, 14, '0+3+4', 6), w('E', 4, 14, '0+3+4+6', 13), w('E', 4, 14, '0+3+4+6+5', 13), w('E', 4, 14, '0+3+4+6+5+7', 13),
    w('E', 5, 15, '0+3+4+6+5', 13), w('E', 5, 15, '0+3+4+6+5+9', 15),
    w('E', 6, 16, '0+4', 6), w('E', 6, 16, '0+4+6', 13), w('E', 6, 16, '0+4+6+5', 13), w('E', 6, 16, '0+4+6+5+9', 15),
    w('E', 7, 17, '0+6', 13), w('E', 7, 17, '0+6+5', 13), w('E', 7, 17, '0+6+5+9', 15),
    w('E', 11, 21, '0+6', 13), w('E', 11, 21, '0+6+9', 15), w('E', 14, 24, '0+9', 15),
  ];

  it('KStreamSlidingWindowAggregateTest.testEarlyRecordsLargeInput (emit on update)', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 50), 'onWindowUpdate', earlyLarge);
    expect(sortedByKeyAndStart(results)).toEqual(earlyLargeUpdates);
  });

  it('KStreamSlidingWindowAggregateTest.testEarlyRecordsLargeInput (emit on close)', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceAndGrace(10, 1), 'onWindowClose', earlyLarge);
    expect(sortedByKeyAndStart(results)).toEqual([w('E', 0, 10, '0+1+3+4+2', 6), w('E', 1, 11, '0+3+4+2', 6), w('E', 3, 13, '0+3+4+2+6+5+7', 13)]);
  });

  const earlyNoGrace: Input[] = [['A', '1', 0], ['A', '2', 5], ['A', '3', 6], ['A', '4', 3], ['A', '5', 13], ['A', '6', 10], ['A', '6', 70]];

  it('KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodSmallInput (emit on update)', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(50), 'onWindowUpdate', earlyNoGrace);
    expect(byStart(results)).toEqual(expected({
      0: ['0+1@0', '0+1+2@5', '0+1+2+3@6', '0+1+2+3+4@6', '0+1+2+3+4+5@13', '0+1+2+3+4+5+6@13'],
      1: ['0+2@5', '0+2+3@6', '0+2+3+4@6', '0+2+3+4+5@13', '0+2+3+4+5+6@13'],
      4: ['0+2+3@6', '0+2+3+5@13', '0+2+3+5+6@13'],
      6: ['0+3@6', '0+3+5@13', '0+3+5+6@13'],
      7: ['0+5@13', '0+5+6@13'],
      11: ['0+5@13'],
      20: ['0+6@70'],
    }));
  });

  it('KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodSmallInput (emit on close)', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(50), 'onWindowClose', earlyNoGrace);
    expect(byStart(results)).toEqual(expected({
      0: ['0+1+2+3+4+5+6@13'], 1: ['0+2+3+4+5+6@13'], 4: ['0+2+3+5+6@13'], 6: ['0+3+5+6@13'], 7: ['0+5+6@13'], 11: ['0+5@13'],
    }));
  });

  const noGrace: Input[] = [['A', '1', 100], ['A', '2', 105], ['A', '3', 106], ['A', '4', 103], ['A', '5', 113], ['A', '6', 110]];

  it('KStreamSlidingWindowAggregateTest.testNoGracePeriodSmallInput (emit on update): windows that ended before stream time are not updated', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(50), 'onWindowUpdate', noGrace);
    expect(byStart(results)).toEqual(expected({
      50: ['0+1@100'], 55: ['0+1+2@105'], 56: ['0+1+2+3@106', '0+1+2+3+4@106'], 63: ['0+1+2+3+4+5@113', '0+1+2+3+4+5+6@113'],
      101: ['0+2@105', '0+2+3@106', '0+2+3+4@106', '0+2+3+4+5@113', '0+2+3+4+5+6@113'],
      104: ['0+2+3@106', '0+2+3+5@113', '0+2+3+5+6@113'],
      106: ['0+3@106', '0+3+5@113', '0+3+5+6@113'],
      107: ['0+5@113', '0+5+6@113'],
      111: ['0+5@113'],
    }));
  });

  it('KStreamSlidingWindowAggregateTest.testNoGracePeriodSmallInput (emit on close)', async () => {
    const { results } = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(50), 'onWindowClose', noGrace);
    expect(byStart(results)).toEqual(expected({ 50: ['0+1@100'], 55: ['0+1+2@105'], 56: ['0+1+2+3+4@106'] }));
  });

  it('KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodLargeInput (emit on update and on close)', async () => {
    const updates = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(10), 'onWindowUpdate', earlyLarge);
    expect(sortedByKeyAndStart(updates.results)).toEqual([
      w('E', 0, 10, '0+1', 0), w('E', 0, 10, '0+1+3', 5), w('E', 0, 10, '0+1+3+4', 6), w('E', 0, 10, '0+1+3+4+2', 6),
      w('E', 1, 11, '0+3', 5), w('E', 1, 11, '0+3+4', 6), w('E', 1, 11, '0+3+4+2', 6),
      w('E', 3, 13, '0+3+4+2+6', 13), w('E', 3, 13, '0+3+4+2+6+5', 13), w('E', 3, 13, '0+3+4+2+6+5+7', 13),
      w('E', 4, 14, '0+3+4', 6), w('E', 4, 14, '0+3+4+6', 13), w('E', 4, 14, '0+3+4+6+5', 13), w('E', 4, 14, '0+3+4+6+5+7', 13),
      w('E', 5, 15, '0+3+4+6+5', 13), w('E', 5, 15, '0+3+4+6+5+9', 15),
      w('E', 6, 16, '0+4', 6), w('E', 6, 16, '0+4+6', 13), w('E', 6, 16, '0+4+6+5', 13), w('E', 6, 16, '0+4+6+5+9', 15),
      w('E', 7, 17, '0+6', 13), w('E', 7, 17, '0+6+5', 13), w('E', 7, 17, '0+6+5+9', 15),
      w('E', 11, 21, '0+6', 13), w('E', 11, 21, '0+6+9', 15), w('E', 14, 24, '0+9', 15),
    ]);
    const finals = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(10), 'onWindowClose', earlyLarge);
    expect(sortedByKeyAndStart(finals.results)).toEqual([
      w('E', 0, 10, '0+1+3+4+2', 6), w('E', 1, 11, '0+3+4+2', 6), w('E', 3, 13, '0+3+4+2+6+5+7', 13), w('E', 4, 14, '0+3+4+6+5+7', 13),
    ]);
  });

  it('KStreamSlidingWindowAggregateTest.testNoGracePeriodLargeInput (emit on update and on close): a record older than streamTime - d - 1 is dropped whole', async () => {
    const records: Input[] = [['E', '1', 100], ['E', '3', 105], ['E', '4', 106], ['E', '2', 103], ['E', '6', 113], ['E', '5', 110], ['E', '7', 104], ['E', '8', 102], ['E', '9', 115]];
    const updates = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(10), 'onWindowUpdate', records);
    expect(sortedByKeyAndStart(updates.results)).toEqual([
      w('E', 90, 100, '0+1', 100), w('E', 95, 105, '0+1+3', 105), w('E', 96, 106, '0+1+3+4', 106), w('E', 96, 106, '0+1+3+4+2', 106),
      w('E', 101, 111, '0+3', 105), w('E', 101, 111, '0+3+4', 106), w('E', 101, 111, '0+3+4+2', 106),
      w('E', 103, 113, '0+3+4+2+6', 113), w('E', 103, 113, '0+3+4+2+6+5', 113), w('E', 103, 113, '0+3+4+2+6+5+7', 113),
      w('E', 104, 114, '0+3+4', 106), w('E', 104, 114, '0+3+4+6', 113), w('E', 104, 114, '0+3+4+6+5', 113), w('E', 104, 114, '0+3+4+6+5+7', 113),
      w('E', 105, 115, '0+3+4+6+5', 113), w('E', 105, 115, '0+3+4+6+5+9', 115),
      w('E', 106, 116, '0+4', 106), w('E', 106, 116, '0+4+6', 113), w('E', 106, 116, '0+4+6+5', 113), w('E', 106, 116, '0+4+6+5+9', 115),
      w('E', 107, 117, '0+6', 113), w('E', 107, 117, '0+6+5', 113), w('E', 107, 117, '0+6+5+9', 115),
      w('E', 111, 121, '0+6', 113), w('E', 111, 121, '0+6+9', 115), w('E', 114, 124, '0+9', 115),
    ]);
    const finals = await run(SlidingWindows.ofTimeDifferenceWithNoGrace(10), 'onWindowClose', records);
    expect(sortedByKeyAndStart(finals.results)).toEqual([
      w('E', 90, 100, '0+1', 100), w('E', 95, 105, '0+1+3', 105), w('E', 96, 106, '0+1+3+4+2', 106),
      w('E', 101, 111, '0+3+4+2', 106), w('E', 103, 113, '0+3+4+2+6+5+7', 113), w('E', 104, 114, '0+3+4+6+5+7', 113),
    ]);
  });

  it('KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey: a null key (or value) drops the record and counts it', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('input', strings).groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10, 100)).aggregate(STRING_INIT, TOSTRING_ADDER, { valueSerde: Serdes.string() });
    const { driver, pipe } = stringDriver(builder.build());
    await pipe(null, '1', 0);
    await pipe('k', null, 0);
    expect(driver.metrics().dropped).toBe(2);
    await driver.close();
  });

  for (const emit of ['onWindowUpdate', 'onWindowClose'] as const) {
    it(`KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace (${emit}): expired left windows and whole late records are dropped and counted`, async () => {
      const builder = new StreamsBuilder();
      builder.stream<string, string>('input', strings)
        .groupByKey()
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10, 90))
        .emitStrategy(emit)
        .aggregate(STRING_INIT, TOSTRING_ADDER, { valueSerde: Serdes.string() })
        .toStream()
        .map((key, value) => [windowedToString(key), value] as const)
        .to('output', strings);
      const { driver, pipe } = stringDriver(builder.build());
      const records: Input[] = [['k', '100', 200], ['k', '0', 100], ['k', '1', 101], ['k', '2', 102], ['k', '3', 103], ['k', '4', 104], ['k', '5', 105], ['k', '6', 15], ['k', '101', 300], ['k', '102', 400]];
      for (const [k, v, ts] of records) await pipe(k, v, ts);
      expect(driver.metrics().dropped).toBe(7);
      const out = driver.createOutputTopic('output', Serdes.string(), Serdes.string()).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
      expect(out).toEqual(emit === 'onWindowUpdate'
        ? [['[k@190/200]', '0+100', 200], ['[k@290/300]', '0+101', 300], ['[k@390/400]', '0+102', 400]]
        : [['[k@190/200]', '0+100', 200], ['[k@290/300]', '0+101', 300]]);
      await driver.close();
    });
  }

  const random: [string, number][] = [
    ['A', 10], ['B', 15], ['C', 16], ['D', 18], ['E', 30], ['F', 40], ['G', 55], ['H', 56], ['I', 58], ['J', 58], ['K', 62],
    ['L', 63], ['M', 63], ['N', 63], ['O', 76], ['P', 77], ['Q', 80], ['R', 2], ['S', 3], ['T', 5], ['U', 8],
  ];
  const finalWindows: Record<number, string> = {
    0: 'ARSTU@10', 3: 'ASTU@10', 4: 'ATU@10', 5: 'ABTU@15', 6: 'ABCU@16', 8: 'ABCDU@18', 9: 'ABCD@18', 11: 'BCD@18', 16: 'CD@18', 17: 'D@18',
    20: 'E@30', 30: 'EF@40', 31: 'F@40', 45: 'G@55', 46: 'GH@56', 48: 'GHIJ@58', 52: 'GHIJK@62', 53: 'GHIJKLMN@63', 56: 'HIJKLMN@63',
    57: 'IJKLMN@63', 59: 'KLMN@63', 63: 'LMN@63', 66: 'O@76', 67: 'OP@77', 70: 'OPQ@80',
  };

  for (const emit of ['onWindowUpdate', 'onWindowClose'] as const) {
    it(`KStreamSlidingWindowAggregateTest.testAggregateRandomInput (${emit}): any arrival order within grace gives the same final windows`, async () => {
      let seed = 42;
      const nextRandom = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
      for (let round = 0; round < 5; round++) {
        const shuffled = [...random];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.floor(nextRandom() * (i + 1));
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const builder = new StreamsBuilder();
        builder.stream<string, string>('input', strings)
          .groupByKey()
          .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(10, 100))
          .emitStrategy(emit)
          .aggregate(() => '', (_k, v, agg: string) => [...agg + v].sort().join(''), { valueSerde: Serdes.string() })
          .toStream()
          .to('output');
        const { driver, pipe } = stringDriver(builder.build());
        const output = windowedOutput(driver, 'output', Serdes.string());
        for (const [value, ts] of shuffled) await pipe('A', value, ts);
        await pipe('A', 'V', 181);
        const last = new Map<number, string>();
        for (const r of output()) last.set(r.start, `${r.value}@${r.timestamp}`);
        const want = emit === 'onWindowUpdate' ? { ...finalWindows, 77: 'PQ@80', 78: 'Q@80', 171: 'V@181' } : finalWindows;
        expect(Object.fromEntries([...last].sort((a, b) => a[0] - b[0]))).toEqual(want);
        await driver.close();
      }
    });
  }
});
