/**
 * Clickstream sessions: cut each user's page views into sessions of activity (a session ends after
 * 30 minutes without a click) and, once a session has closed, write one summary for it.
 *
 *   page-views (key: user, value: { page }) → group by user → session windows (gap 30m, grace 1m)
 *     → aggregate pages → suppress until the session closes → user-sessions (user → summary)
 *
 * A session closes when stream time passes its last click + gap + grace; until then it may still
 * grow or merge with a neighbour, so nothing is written early and each session is written once.
 */
import { Serdes, SessionWindows, Suppressed, topology, type DemoRecord } from 'tributary';

/** One page view. */
export interface PageView {
  page: string;
}

/** What a session accumulates. */
export interface SessionStats {
  pageCount: number;
  /** Distinct pages, in first-visit order. */
  pages: string[];
}

/** What is written for each finished session. */
export interface SessionSummary {
  user: string;
  start: number;
  end: number;
  durationMs: number;
  pageCount: number;
  distinctPages: number;
}

const addPage = (stats: SessionStats, page: string): SessionStats => ({
  pageCount: stats.pageCount + 1,
  pages: stats.pages.includes(page) ? stats.pages : [...stats.pages, page],
});

const mergeSessions = (a: SessionStats, b: SessionStats): SessionStats => ({
  pageCount: a.pageCount + b.pageCount,
  pages: [...a.pages, ...b.pages.filter((p) => !a.pages.includes(p))],
});

export default topology(
  { applicationId: 'clickstream-sessions', description: 'one summary per finished user session (30 min inactivity)', topics: { 'page-views': { partitions: 4 } } },
  (builder) => {
    builder
      .stream<string, PageView>('page-views', { keySerde: Serdes.string(), valueSerde: Serdes.json<PageView>() })
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace('30m', '1m'))
      .aggregate<SessionStats>(
        () => ({ pageCount: 0, pages: [] }),
        (_user, view, stats) => addPage(stats, view.page),
        (_user, a, b) => mergeSessions(a, b),
        { storeName: 'user-sessions', valueSerde: Serdes.json<SessionStats>() },
      )
      .suppress(Suppressed.untilWindowCloses({ name: 'finished-sessions' }))
      .toStream({ tombstones: 'drop' })
      .map((session, stats) => [session.key, {
        user: session.key,
        start: session.window.start,
        end: session.window.end,
        durationMs: session.window.end - session.window.start,
        pageCount: stats.pageCount,
        distinctPages: stats.pages.length,
      } satisfies SessionSummary] as const)
      .to('user-sessions', { keySerde: Serdes.string(), valueSerde: Serdes.json<SessionSummary>() });
  },
);

const PAGES = ['/', '/search', '/product/42', '/product/7', '/cart', '/checkout', '/help'];
const MINUTE = 60_000;

/** Sample input: users browsing in bursts of a few clicks a minute apart, with hour-long pauses between bursts. */
export function* demo(count = 5_000, users = 50): Generator<DemoRecord> {
  const start = 1_700_000_000_000;
  for (let i = 0; i < count; i++) {
    const user = `user-${i % users}`;
    const round = Math.floor(i / users);
    const burst = Math.floor(round / 5);
    const click = round % 5;
    const timestamp = start + burst * 60 * MINUTE + click * MINUTE + (i % users) * 1_000;
    yield { topic: 'page-views', key: user, value: { page: PAGES[(i * 7 + round) % PAGES.length]! }, timestamp };
  }
}
