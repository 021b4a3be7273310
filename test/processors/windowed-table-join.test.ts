import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, SessionWindows, StreamsBuilder, TimeWindows, TopologyTestDriver, type KTable, type Windowed } from 'tributary';

/*
 * KTable-KTable joins of windowed tables (`KTable<Windowed<K>, V>` from windowed aggregations), as
 * Kafka Streams runs them: the other side's row is read from its window store by key and window
 * start (`KStreamWindowAggregate`'s value getter), or from its session store by key and session
 * with the session end as its timestamp (`KStreamSessionWindowAggregate`'s). So two windowed counts
 * join window by window, and the usual table-join rules apply per windowed key. Expected outputs
 * follow those rules; `[a@0/10]` is the windowed key's `Windowed.toString()`.
 */

const strings = Serdes.string();
const windowedStrings = Serdes.windowed(strings);
const results = Serdes.nullable(strings);

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

type Kind = 'join' | 'leftJoin' | 'outerJoin';
const ratio = (clicks: number | null, views: number | null): string => `${clicks}/${views}`;

function joined(kind: Kind, clicks: KTable<Windowed<string>, number>, views: KTable<Windowed<string>, number>): KTable<Windowed<string>, string> {
  const materialized = { storeName: 'ratios', valueSerde: strings };
  if (kind === 'join') return clicks.join(views, (c, v) => ratio(c, v), materialized);
  if (kind === 'leftJoin') return clicks.leftJoin(views, (c, v) => ratio(c, v), materialized);
  return clicks.outerJoin(views, (c, v) => ratio(c, v), materialized);
}

function start(kind: Kind, windows: 'tumbling' | 'session') {
  const builder = new StreamsBuilder();
  const consumed = { keySerde: strings, valueSerde: strings };
  const count = (topic: string, storeName: string): KTable<Windowed<string>, number> => {
    const grouped = builder.stream<string, string>(topic, consumed).groupByKey();
    return windows === 'tumbling'
      ? grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count({ storeName })
      : grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5)).count({ storeName });
  };
  joined(kind, count('clicks', 'clicks-per-window'), count('views', 'views-per-window'))
    .toStream().to('ratios', { keySerde: windowedStrings, valueSerde: results });
  driver = new TopologyTestDriver(builder.build());
  const d = driver;
  const clicks = d.createInputTopic('clicks', strings, strings);
  const views = d.createInputTopic('views', strings, strings);
  const output = d.createOutputTopic('ratios', windowedStrings, results);
  return {
    click: (key: string, ts: number) => clicks.pipeInput(key, 'c', ts),
    view: (key: string, ts: number) => views.pipeInput(key, 'v', ts),
    read: (): string[] => output.readRecordsToList().map((r) => `[${r.key!.key}@${r.key!.window.start}/${r.key!.window.end}] ${r.value} @${r.timestamp}`),
    store: () => d.getKeyValueStore<Windowed<string>, string>('ratios')!,
  };
}

/** Two keys, two tumbling windows of 10 ms: [0, 10) and [10, 20). */
async function tumblingInput(t: ReturnType<typeof start>): Promise<string[][]> {
  const steps: string[][] = [];
  await t.click('a', 1);
  steps.push(t.read());
  await t.view('a', 2);
  steps.push(t.read());
  await t.view('a', 3);
  await t.view('b', 4);
  steps.push(t.read());
  await t.click('a', 12); // the next window: nothing of [a@0/10] changes
  steps.push(t.read());
  await t.view('a', 13);
  steps.push(t.read());
  return steps;
}

describe('table-table joins of time-windowed tables', () => {
  it('inner join: window by window, only where both sides counted that window', async () => {
    const t = start('join', 'tumbling');
    expect(await tumblingInput(t)).toEqual([
      [],
      ['[a@0/10] 1/1 @2'],
      ['[a@0/10] 1/2 @3'],
      [],
      ['[a@10/20] 1/1 @13'],
    ]);
    expect(t.store().get({ key: 'a', window: { start: 0, end: 10 } })).toBe('1/2');
    expect(t.store().get({ key: 'a', window: { start: 10, end: 20 } })).toBe('1/1');
    expect(t.store().get({ key: 'b', window: { start: 0, end: 10 } })).toBeUndefined();
  });

  it('left join: every window of the left side, with null for a window the right side has not counted', async () => {
    const t = start('leftJoin', 'tumbling');
    expect(await tumblingInput(t)).toEqual([
      ['[a@0/10] 1/null @1'],
      ['[a@0/10] 1/1 @2'],
      ['[a@0/10] 1/2 @3'],
      ['[a@10/20] 1/null @12'],
      ['[a@10/20] 1/1 @13'],
    ]);
  });

  it('outer join: every window of either side', async () => {
    const t = start('outerJoin', 'tumbling');
    expect(await tumblingInput(t)).toEqual([
      ['[a@0/10] 1/null @1'],
      ['[a@0/10] 1/1 @2'],
      ['[a@0/10] 1/2 @3', '[b@0/10] null/1 @4'],
      ['[a@10/20] 1/null @12'],
      ['[a@10/20] 1/1 @13'],
    ]);
    expect(t.store().all().map((e) => `${e.key.key}@${e.key.window.start}=${e.value}`)).toEqual(['a@0=1/2', 'a@10=1/1', 'b@0=null/1']);
  });
});

describe('table-table joins of session-windowed tables', () => {
  it('inner join: sessions join when both sides have the same session; a merged-away session is deleted from the result', async () => {
    const t = start('join', 'session');
    await t.click('a', 1);
    await t.view('a', 1);
    // The row's timestamp is the later of the two sessions' ends: 1.
    expect(t.read()).toEqual(['[a@1/1] 1/1 @1']);
    await t.click('a', 3); // clicks merge [1,1] into [1,3]: its tombstone deletes the joined row
    expect(t.read()).toEqual(['[a@1/1] null @1']);
    await t.view('a', 3); // views merge too: the right tombstone finds no left row, the new session joins
    expect(t.read()).toEqual(['[a@1/3] 2/2 @3']);
    expect(t.store().all().map((e) => `${e.key.key}@${e.key.window.start}/${e.key.window.end}=${e.value}`)).toEqual(['a@1/3=2/2']);
  });

  it('left join: a left session without the same right session joins with null', async () => {
    const t = start('leftJoin', 'session');
    await t.click('a', 1);
    await t.view('a', 2); // views [2,2]: no left session [2,2], so nothing
    await t.click('a', 2); // clicks merge into [1,2]; views has [2,2], not [1,2]: sessions join only when equal
    expect(t.read()).toEqual(['[a@1/1] 1/null @1', '[a@1/1] null @1', '[a@1/2] 2/null @2']);
  });
});
