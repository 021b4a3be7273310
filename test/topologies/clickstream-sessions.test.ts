import { describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver } from 'tributary';
import clickstream, { demo, type PageView, type SessionSummary } from '../../topologies/clickstream-sessions.ts';

const MINUTE = 60_000;

function start() {
  const driver = new TopologyTestDriver(clickstream.build(), { applicationId: 'clickstream-sessions' });
  const views = driver.createInputTopic('page-views', Serdes.string(), Serdes.json<PageView>());
  const sessions = driver.createOutputTopic('user-sessions', Serdes.string(), Serdes.json<SessionSummary>());
  return { driver, click: (user: string, page: string, at: number) => views.pipeInput(user, { page }, at), sessions };
}

describe('topologies/clickstream-sessions', () => {
  it('writes one summary per finished session, only once it has closed (last click + 30m gap + 1m grace)', async () => {
    const { driver, click, sessions } = start();
    await click('alice', '/', 0);
    await click('alice', '/search', 5 * MINUTE);
    await click('bob', '/', 10 * MINUTE);
    await click('alice', '/product/42', 20 * MINUTE);
    await click('alice', '/search', 21 * MINUTE);
    expect(sessions.isEmpty()).toBe(true);

    await click('bob', '/help', 50 * MINUTE);
    expect(sessions.readKeyValuesToList()).toEqual([
      { key: 'bob', value: { user: 'bob', start: 10 * MINUTE, end: 10 * MINUTE, durationMs: 0, pageCount: 1, distinctPages: 1 } },
    ]);

    await click('carol', '/', 52 * MINUTE);
    expect(sessions.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['alice', { user: 'alice', start: 0, end: 21 * MINUTE, durationMs: 21 * MINUTE, pageCount: 4, distinctPages: 3 }, 21 * MINUTE],
    ]);

    await click('carol', '/cart', 200 * MINUTE);
    expect(sessions.readKeyValuesToList()).toEqual([
      { key: 'bob', value: { user: 'bob', start: 50 * MINUTE, end: 50 * MINUTE, durationMs: 0, pageCount: 1, distinctPages: 1 } },
      { key: 'carol', value: { user: 'carol', start: 52 * MINUTE, end: 52 * MINUTE, durationMs: 0, pageCount: 1, distinctPages: 1 } },
    ]);
    await driver.close();
  });

  it('an out-of-order click between two open sessions merges them; a click for a closed session is dropped and counted', async () => {
    const { driver, click, sessions } = start();
    await click('dave', '/', 0);
    await click('dave', '/cart', 30 * MINUTE + 1);
    expect(driver.getSessionStore<string, { pageCount: number }>('user-sessions')!.fetch('dave')).toHaveLength(2);
    await click('dave', '/search', 15 * MINUTE);
    expect(driver.getSessionStore<string, { pageCount: number }>('user-sessions')!.fetch('dave').map((s) => [s.key.window, s.value.pageCount])).toEqual([
      [{ start: 0, end: 30 * MINUTE + 1 }, 3],
    ]);
    await click('erin', '/', 200 * MINUTE);
    await click('dave', '/late', 100 * MINUTE);
    expect(driver.metrics().dropped).toBe(1);
    expect(sessions.readKeyValuesToList().map(({ value }) => [value.user, value.pageCount, value.durationMs])).toEqual([
      ['dave', 3, 30 * MINUTE + 1],
    ]);
    await driver.close();
  });

  it('summarizes every demo session exactly once', async () => {
    const { driver, sessions } = start();
    const views = driver.createInputTopic('page-views', Serdes.string(), Serdes.json<PageView>());
    let last = 0;
    let clicks = 0;
    for (const record of demo(1_000, 20)) {
      await views.pipeInput(record.key as string, record.value as PageView, record.timestamp);
      last = Math.max(last, record.timestamp!);
      clicks++;
    }
    await views.pipeInput('flush', { page: '/' }, last + 24 * 60 * MINUTE);
    const summaries = sessions.readKeyValuesToList().map((r) => r.value);
    expect(summaries.reduce((n, s) => n + s.pageCount, 0)).toBe(clicks);
    expect(new Set(summaries.map((s) => `${s.user}@${s.start}`)).size).toBe(summaries.length);
    expect(summaries.every((s) => s.pageCount === 5 && s.durationMs === 4 * MINUTE)).toBe(true);
    await driver.close();
  });
});
