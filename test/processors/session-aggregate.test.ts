import { describe, expect, it } from 'vitest';
import { Serdes, SessionWindows, StreamsBuilder, TopologyTestDriver, windowedToString, type EmitStrategy } from 'tributary';
import { STRING_ADDER, STRING_INIT, TOSTRING_ADDER, w, windowedOutput, type WindowedResult } from './windowed-test-utils.ts';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
const GAP_MS = 5 * 60 * 1000;

/**
 * KStreamSessionWindowAggregateProcessorTest's processor: count per session (initializer 0,
 * aggregator +1, merger a + b) into the store `session-store` (kept 3 gaps, as in that test),
 * every update forwarded to `output`.
 */
function sessionCounts(windows: SessionWindows = SessionWindows.ofInactivityGapWithNoGrace(GAP_MS), emit: EmitStrategy = 'onWindowUpdate', retention: number | undefined = GAP_MS * 3) {
  const builder = new StreamsBuilder();
  builder.stream<string, string>('input', strings)
    .groupByKey()
    .windowedBy(windows)
    .emitStrategy(emit)
    .aggregate(() => 0, (_k, _v, n: number) => n + 1, (_k, a, b) => a + b, { storeName: 'session-store', valueSerde: Serdes.int64(), ...(retention !== undefined ? { retention } : {}) })
    .toStream()
    .to('output');
  const driver = new TopologyTestDriver(builder.build());
  const topic = driver.createInputTopic('input', Serdes.nullable(Serdes.string()), Serdes.string());
  const output = windowedOutput(driver, 'output', Serdes.int64());
  return {
    driver,
    output,
    store: () => driver.getSessionStore<string, number>('session-store')!,
    process: (key: string | null, value: string, timestamp: number) => topic.pipeInput(key, value, timestamp),
  };
}

describe('KStreamSessionWindowAggregateProcessorTest', () => {
  it('KStreamSessionWindowAggregateProcessorTest.shouldCreateSingleSessionWhenWithinGap', async () => {
    const t = sessionCounts();
    await t.process('john', 'first', 0);
    await t.process('john', 'second', 500);
    expect(t.store().findSessions('john', 0, 2000).map((e) => e.value)).toEqual([2]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldMergeSessions: a record between two sessions merges them', async () => {
    const t = sessionCounts();
    await t.process('mel', 'first', 0);
    expect(t.store().findSessions('mel', 0, 0)).toHaveLength(1);
    await t.process('mel', 'second', GAP_MS + 1);
    expect(t.store().findSessions('mel', GAP_MS + 1, GAP_MS + 1)).toHaveLength(1);
    expect(t.store().findSessions('mel', 0, 0)).toHaveLength(1);
    await t.process('mel', 'third', GAP_MS / 2);
    const sessions = t.store().findSessions('mel', 0, GAP_MS + 1);
    expect(sessions.map((e) => [e.key.window, e.value])).toEqual([[{ start: 0, end: GAP_MS + 1 }, 3]]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldUpdateSessionIfTheSameTime', async () => {
    const t = sessionCounts();
    await t.process('mel', 'first', 0);
    await t.process('mel', 'second', 0);
    expect(t.store().findSessions('mel', 0, 0).map((e) => e.value)).toEqual([2]);
    expect(t.output()).toEqual([w('mel', 0, 0, 1, 0), w('mel', 0, 0, 2, 0)]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap', async () => {
    const t = sessionCounts();
    let time = 0;
    await t.process('mel', 'first', time);
    time += GAP_MS + 1;
    await t.process('mel', 'second', time);
    await t.process('mel', 'second', time);
    time += GAP_MS + 1;
    await t.process('mel', 'third', time);
    await t.process('mel', 'third', time);
    await t.process('mel', 'third', time);
    const last = new Map(t.output().map((r) => [windowedToString({ key: r.key, window: { start: r.start, end: r.end } }), [r.value, r.timestamp]]));
    expect([...last]).toEqual([
      ['[mel@0/0]', [1, 0]],
      [`[mel@${GAP_MS + 1}/${GAP_MS + 1}]`, [2, GAP_MS + 1]],
      [`[mel@${time}/${time}]`, [3, time]],
    ]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldRemoveMergedSessionsFromStateStore', async () => {
    const t = sessionCounts();
    await t.process('a', '1', 0);
    expect(t.store().findSessions('a', 0, 0)).toEqual([{ key: { key: 'a', window: { start: 0, end: 0 } }, value: 1 }]);
    await t.process('a', '2', 100);
    expect(t.store().findSessions('a', 0, 100)).toEqual([{ key: { key: 'a', window: { start: 0, end: 100 } }, value: 2 }]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldHandleMultipleSessionsAndMerging: the latest value of every live session', async () => {
    const t = sessionCounts();
    for (const k of ['a', 'b', 'c', 'd']) await t.process(k, '1', 0);
    await t.process('d', '2', GAP_MS / 2);
    await t.process('a', '2', GAP_MS + 1);
    await t.process('b', '2', GAP_MS + 1);
    await t.process('a', '3', GAP_MS + 1 + GAP_MS / 2);
    await t.process('c', '3', GAP_MS + 1 + GAP_MS / 2);
    const latest = new Map<string, WindowedResult<number>>();
    for (const r of t.output()) latest.set(windowedToString({ key: r.key, window: { start: r.start, end: r.end } }), r);
    const live = [...latest.values()].filter((r) => r.value !== null);
    expect(live).toEqual([
      w('a', 0, 0, 1, 0),
      w('b', 0, 0, 1, 0),
      w('c', 0, 0, 1, 0),
      w('d', 0, GAP_MS / 2, 2, GAP_MS / 2),
      w('b', GAP_MS + 1, GAP_MS + 1, 1, GAP_MS + 1),
      w('a', GAP_MS + 1, GAP_MS + 1 + GAP_MS / 2, 2, GAP_MS + 1 + GAP_MS / 2),
      w('c', GAP_MS + 1 + GAP_MS / 2, GAP_MS + 1 + GAP_MS / 2, 1, GAP_MS + 1 + GAP_MS / 2),
    ]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldImmediatelyForwardNewSessionWhenNonCachedStore', async () => {
    const t = sessionCounts();
    for (const k of ['a', 'b', 'c']) await t.process(k, '1', 0);
    expect(t.output()).toEqual([w('a', 0, 0, 1, 0), w('b', 0, 0, 1, 0), w('c', 0, 0, 1, 0)]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldImmediatelyForwardRemovedSessionsWhenMerging: a tombstone at the old end, then the merged session at its end', async () => {
    const t = sessionCounts();
    await t.process('a', '1', 0);
    await t.process('a', '1', 5);
    expect(t.output()).toEqual([w('a', 0, 0, 1, 0), w('a', 0, 0, null, 0), w('a', 0, 5, 2, 5)]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingNullKeyWithBuiltInMetrics', async () => {
    const t = sessionCounts();
    await t.process(null, '1', 0);
    expect(t.driver.metrics().dropped).toBe(1);
    expect(t.output()).toEqual([]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithZeroGrace: dropped when the merged session ends before streamTime - grace - gap', async () => {
    const t = sessionCounts(SessionWindows.ofInactivityGapAndGrace(10, 0));
    await t.process('dummy', 'dummy', 0);
    await t.process('OnTime1', '1', 0);
    await t.process('dummy', 'dummy', 11);
    await t.process('Late1', '1', 0);
    expect(t.driver.metrics().dropped).toBe(1);
    expect(t.store().fetch('OnTime1')).toHaveLength(1);
    expect(t.store().fetch('Late1')).toEqual([]);
    await t.driver.close();
  });

  it('KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithNonzeroGrace: the grace period admits one more late record', async () => {
    const t = sessionCounts(SessionWindows.ofInactivityGapAndGrace(10, 1));
    await t.process('dummy', 'dummy', 0);
    await t.process('OnTime1', '1', 0);
    await t.process('dummy', 'dummy', 11);
    await t.process('OnTime2', '1', 0);
    await t.process('dummy', 'dummy', 12);
    await t.process('Late1', '1', 0);
    expect(t.driver.metrics().dropped).toBe(1);
    expect(t.store().fetch('OnTime2')).toHaveLength(1);
    expect(t.store().fetch('Late1')).toEqual([]);
    await t.driver.close();
  });

  it("emitStrategy('onWindowClose') forwards each session once, when end < streamTime - grace - gap, without tombstones", async () => {
    const t = sessionCounts(SessionWindows.ofInactivityGapAndGrace(10, 2), 'onWindowClose', undefined);
    await t.process('a', '1', 0);
    await t.process('a', '1', 5);
    await t.process('b', '1', 3);
    expect(t.output()).toEqual([]);
    await t.process('b', '1', 17);
    expect(t.output()).toEqual([w('b', 3, 3, 1, 3)]);
    await t.process('c', '1', 18);
    expect(t.output()).toEqual([w('a', 0, 5, 2, 5)]);
    await t.process('a', '1', 1);
    await t.process('c', '1', 40);
    expect(t.output()).toEqual([w('b', 17, 17, 1, 17), w('c', 18, 18, 1, 18)]);
    expect(t.driver.metrics().dropped).toBe(1);
    await t.driver.close();
  });
});

describe('SessionWindowedKStreamImplTest (inactivity gap 500 ms)', () => {
  /** SessionWindowedKStreamImplTest's `processData`. */
  async function processData(driver: TopologyTestDriver): Promise<void> {
    const topic = driver.createInputTopic('input', Serdes.string(), Serdes.string());
    await topic.pipeInput('1', '1', 10);
    await topic.pipeInput('1', '2', 15);
    await topic.pipeInput('1', '3', 600);
    await topic.pipeInput('2', '1', 600);
    await topic.pipeInput('2', '2', 599);
  }

  function windowed(builder: StreamsBuilder) {
    return builder.stream<string, string>('input', strings).groupByKey().windowedBy(SessionWindows.ofInactivityGapWithNoGrace(500));
  }

  /** Kafka's `lastValueAndTimestampPerKey`, tombstones included. */
  function lastPerSession<V>(records: WindowedResult<V>[]): Map<string, [V | null, number]> {
    return new Map(records.map((r) => [windowedToString({ key: r.key, window: { start: r.start, end: r.end } }), [r.value, r.timestamp]]));
  }

  it('SessionWindowedKStreamImplTest.shouldCountSessionWindowed', async () => {
    const builder = new StreamsBuilder();
    windowed(builder).count().toStream().to('output');
    const driver = new TopologyTestDriver(builder.build());
    const output = windowedOutput(driver, 'output', Serdes.int64());
    await processData(driver);
    const last = lastPerSession(output());
    expect(last.get('[1@10/15]')).toEqual([2, 15]);
    expect(last.get('[2@599/600]')).toEqual([2, 600]);
    expect(last.get('[1@600/600]')).toEqual([1, 600]);
    expect([...last.values()].filter(([v]) => v !== null)).toHaveLength(3);
    await driver.close();
  });

  it('SessionWindowedKStreamImplTest.shouldReduceWindowed', async () => {
    const builder = new StreamsBuilder();
    windowed(builder).reduce(STRING_ADDER).toStream().to('output');
    const driver = new TopologyTestDriver(builder.build());
    const output = windowedOutput(driver, 'output', Serdes.string());
    await processData(driver);
    const last = lastPerSession(output());
    expect(last.get('[1@10/15]')).toEqual(['1+2', 15]);
    expect(last.get('[2@599/600]')).toEqual(['1+2', 600]);
    expect(last.get('[1@600/600]')).toEqual(['3', 600]);
    await driver.close();
  });

  it('SessionWindowedKStreamImplTest.shouldAggregateSessionWindowed: merging goes through the merger from the initializer', async () => {
    const builder = new StreamsBuilder();
    windowed(builder).aggregate(STRING_INIT, TOSTRING_ADDER, (_k, a: string, b: string) => `${a}+${b}`, { valueSerde: Serdes.string() }).toStream().to('output');
    const driver = new TopologyTestDriver(builder.build());
    const output = windowedOutput(driver, 'output', Serdes.string());
    await processData(driver);
    const last = lastPerSession(output());
    expect(last.get('[1@10/15]')).toEqual(['0+0+1+2', 15]);
    expect(last.get('[2@599/600]')).toEqual(['0+0+1+2', 600]);
    expect(last.get('[1@600/600]')).toEqual(['0+3', 600]);
    await driver.close();
  });

  // Kafka's persistent session store expires by segments of at least a minute, so its test still finds
  // [1@10/15] at stream time 600; our stores expire exactly at gap + grace, so these keep a day.
  it('SessionWindowedKStreamImplTest.shouldMaterializeCount', async () => {
    const builder = new StreamsBuilder();
    windowed(builder).count({ storeName: 'count-store', retention: '1d' });
    const driver = new TopologyTestDriver(builder.build());
    await processData(driver);
    const store = driver.getSessionStore<string, number>('count-store')!;
    expect([...store.fetch('1'), ...store.fetch('2')].map((e) => [windowedToString(e.key), e.value])).toEqual([['[1@10/15]', 2], ['[1@600/600]', 1], ['[2@599/600]', 2]]);
    await driver.close();
  });

  it('SessionWindowedKStreamImplTest.shouldMaterializeReduced', async () => {
    const builder = new StreamsBuilder();
    windowed(builder).reduce(STRING_ADDER, { storeName: 'reduced', retention: '1d' });
    const driver = new TopologyTestDriver(builder.build());
    await processData(driver);
    const store = driver.getSessionStore<string, string>('reduced')!;
    expect([...store.fetch('1'), ...store.fetch('2')].map((e) => [windowedToString(e.key), e.value])).toEqual([['[1@10/15]', '1+2'], ['[1@600/600]', '3'], ['[2@599/600]', '1+2']]);
    await driver.close();
  });

  it('SessionWindowedKStreamImplTest.shouldMaterializeAggregated', async () => {
    const builder = new StreamsBuilder();
    windowed(builder).aggregate(STRING_INIT, TOSTRING_ADDER, (_k, a: string, b: string) => `${a}+${b}`, { storeName: 'aggregated', valueSerde: Serdes.string(), retention: '1d' });
    const driver = new TopologyTestDriver(builder.build());
    await processData(driver);
    const store = driver.getSessionStore<string, string>('aggregated')!;
    expect([...store.fetch('1'), ...store.fetch('2')].map((e) => [windowedToString(e.key), e.value])).toEqual([['[1@10/15]', '0+0+1+2'], ['[1@600/600]', '0+3'], ['[2@599/600]', '0+0+1+2']]);
    expect(store.fetchSession('1', 600, 600)).toBe('0+3');
    await driver.close();
  });

  it('the session store retains gap + grace (+1 ms: a session ending exactly at the close time is still open)', () => {
    const builder = new StreamsBuilder();
    builder.stream('input').groupByKey().windowedBy(SessionWindows.ofInactivityGapAndGrace('30m', '1m')).count({ storeName: 's' });
    expect(builder.build().stores.get('s')).toMatchObject({ type: 'session', retentionMs: 31 * 60_000 + 1 });
  });
});
