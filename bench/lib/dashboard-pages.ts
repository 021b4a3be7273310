/**
 * What `bench/dashboard-overhead.ts` puts on the runner's dashboard port: an HTTP poller doing what
 * `src/dashboard/assets/dashboard.js` does (the page and its assets once, then
 * `/dashboard/data?since=<last frame>` and a `setTimeout` of the interval after each answer), many
 * such pollers at once without the assets (the poll's cost made larger), and a real headless
 * Chromium page.
 */
import type { HeadlessPage } from '../../test/dashboard/chromium.ts';

export interface PollCounts {
  requests: number;
  /** Of the requests, `/dashboard/data` polls. */
  dataPolls: number;
  bytes: number;
}

const ASSETS = ['uPlot.min.css', 'dashboard.css', 'uPlot.iife.min.js', 'dashboard.js'];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function getText(base: string, path: string, stop: AbortSignal, counts: PollCounts): Promise<string> {
  const text = await (await fetch(`${base}${path}`, { signal: stop })).text();
  counts.requests++;
  if (path.startsWith('/dashboard/data')) counts.dataPolls++;
  counts.bytes += text.length;
  return text;
}

/**
 * One page's traffic until `stop`: `/` and its assets once (unless `assets` is false), then the
 * data poll, pausing `intervalMs` after each answer (dashboard.js: the server's `intervalMs`, 1000).
 */
export async function httpPoller(base: string, stop: AbortSignal, counts: PollCounts, { intervalMs = 1000, assets = true } = {}): Promise<void> {
  try {
    if (assets) {
      await getText(base, '/', stop, counts);
      for (const asset of ASSETS) await getText(base, `/dashboard/assets/${asset}`, stop, counts);
    }
    let since = 0;
    while (!stop.aborted) {
      const data = JSON.parse(await getText(base, `/dashboard/data?since=${since}`, stop, counts)) as { frames: { t: number }[] };
      since = data.frames.at(-1)?.t ?? since;
      await sleep(intervalMs);
    }
  } catch (error) {
    if (!stop.aborted) throw error;
  }
}

/** Loads the dashboard in `page` and waits until it has drawn a frame; the page then polls on its own. */
export async function openInChromium(page: HeadlessPage, base: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitFor<boolean>('globalThis.tributaryDashboard !== undefined && tributaryDashboard.frames.length > 0', 'the dashboard page drawing its first frame', 30_000);
}

/** The number of data polls the page made (from the browser's resource timing). */
export async function chromiumPolls(page: HeadlessPage): Promise<number> {
  return page.evaluate<number>(`performance.getEntriesByType('resource').filter((e) => e.name.includes('/dashboard/data')).length`);
}
