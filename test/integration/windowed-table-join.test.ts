/**
 * A table-table join of two windowed tables on the real broker and Redis: clicks and views counted
 * per key and 10-second window (window stores in Redis), left-joined window by window into a table
 * keyed by `Windowed<string>` (a key-value store in Redis). A second instance restores all three
 * stores and goes on; the result equals what the test driver gives on the same input.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TimeWindows, TopologyTestDriver, type Topology, type Windowed } from 'tributary';
import { createTopic, latestByKey, produce, testApps, unique, waitUntil } from './kafka-helpers.ts';

const apps = testApps();
afterAll(() => apps.closeAll());

const strings = Serdes.string();
const windowedStrings = Serdes.windowed(strings);

function clickThrough(clicksTopic: string, viewsTopic: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const consumed = { keySerde: strings, valueSerde: strings };
  // The long grace keeps every record: a task reads the two topics' partitions as their records
  // arrive, not in the driver's pipe order, and the counts must not depend on which came first.
  const perWindow = (topic: string, storeName: string) =>
    builder.stream<string, string>(topic, consumed).groupByKey().windowedBy(TimeWindows.ofSizeAndGrace('10s', '1h')).count({ storeName });
  perWindow(viewsTopic, 'views-per-window')
    .leftJoin(perWindow(clicksTopic, 'clicks-per-window'), (views, clicks) => `${clicks ?? 0}/${views}`, { storeName: 'click-through', valueSerde: strings })
    .toStream().to(output, { keySerde: windowedStrings, valueSerde: Serdes.nullable(strings) });
  return builder.build();
}

interface Input { topic: 'clicks' | 'views'; key: string; timestamp: number }

/** Views (and every third a click) of six pages over 30 s: round 0 from 0 s, round 1 from 20 s, adding to round 0's last window. */
function round(n: number): Input[] {
  const out: Input[] = [];
  for (let i = 0; i < 60; i++) {
    const page = `page-${i % 6}`;
    const timestamp = n * 20_000 + (i % 30) * 1_000;
    out.push({ topic: 'views', key: page, timestamp });
    if (i % 3 === 0) out.push({ topic: 'clicks', key: page, timestamp });
  }
  return out;
}

const windowed = (key: Windowed<string>): string => `${key.key}@${key.window.start}/${key.window.end}`;

async function truth(input: Input[]): Promise<[string, string][]> {
  const driver = new TopologyTestDriver(clickThrough('clicks', 'views', 'out'));
  try {
    const topics = { clicks: driver.createInputTopic('clicks', strings, strings), views: driver.createInputTopic('views', strings, strings) };
    for (const r of input) await topics[r.topic].pipeInput(r.key, r.topic, r.timestamp);
    return driver.getKeyValueStore<Windowed<string>, string>('click-through')!.all().map((e) => [windowed(e.key), e.value] as [string, string]).sort();
  } finally {
    await driver.close();
  }
}

describe('windowed table-table join on Kafka and Redis', () => {
  it('joins window by window from Redis-backed window stores, across a restart, as the driver does', async () => {
    const id = unique('windowed-join');
    const names = { clicks: `${id}-clicks`, views: `${id}-views`, out: `${id}-out` };
    await Promise.all([createTopic(names.clicks, 2), createTopic(names.views, 2), createTopic(names.out, 2)]);
    const send = async (input: Input[]): Promise<void> => {
        for (const topic of ['views', 'clicks'] as const) {
        await produce(names[topic], input.filter((r) => r.topic === topic).map((r) => ({ key: r.key, value: topic, timestamp: r.timestamp })));
      }
    };
    const results = (streams: ReturnType<typeof apps.app>): [string, string][] =>
      streams.store<Windowed<string>, string>('click-through').all().map((e) => [windowed(e.key), e.value] as [string, string]).sort();

    const first = round(0);
    const want1 = await truth(first);
    expect(want1).toHaveLength(18); // 6 pages × 3 windows
    await send(first);
    const a = apps.app(clickThrough(names.clicks, names.views, names.out), id);
    await a.start();
    await waitUntil('first round joined', () => JSON.stringify(results(a)) === JSON.stringify(want1), 90_000);
    await a.close();

    const second = round(1);
    const want = await truth([...first, ...second]);
    expect(want).toHaveLength(30); // and two more windows
    await send(second);
    const b = apps.app(clickThrough(names.clicks, names.views, names.out), id);
    await b.start();
    await waitUntil('second round joined on the restored window stores', () => JSON.stringify(results(b)) === JSON.stringify(want), 90_000);
    // A window both rounds counted: its row went on from the restored counts.
    expect(want1.find(([key]) => key === 'page-0@20000/30000')).toEqual(['page-0@20000/30000', '2/2']);
    expect(b.store<Windowed<string>, string>('click-through').get({ key: 'page-0', window: { start: 20_000, end: 30_000 } })).toBe('6/6');
    await b.close();

    const latest = await latestByKey(names.out);
    expect(latest.size).toBe(want.length);
  }, 240_000);
});
