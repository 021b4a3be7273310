/**
 * Drives Debian's headless Chromium over the DevTools protocol through `--remote-debugging-pipe`
 * (JSON messages separated by NUL on file descriptors 3 and 4): no WebSocket, so no npm
 * dependency and no debugging port another process could reach.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The Chromium binary: `CHROMIUM` if set, else Debian's. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => p !== undefined && p !== '');
  return candidates.find((p) => existsSync(p) && spawnSync(p, ['--version'], { timeout: 20_000 }).status === 0);
}

/** Something the page reported as an error: an uncaught exception, `console.error`, or a failed load. */
export interface PageError {
  kind: 'exception' | 'console' | 'log';
  text: string;
}

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** One headless Chromium with one page. */
export class HeadlessPage {
  readonly errors: PageError[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = '';
  private sessionId = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly input: Writable,
    private readonly profile: string,
  ) {
    const output = child.stdio[4] as Readable;
    output.on('data', (chunk: Buffer) => this.receive(chunk.toString('utf8')));
    child.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error('chromium exited'));
      this.pending.clear();
    });
  }

  /** Starts Chromium and opens a blank page with the console and exceptions watched. */
  static async launch(binary: string, size = { width: 1400, height: 1000 }): Promise<HeadlessPage> {
    const profile = mkdtempSync(join(tmpdir(), 'tributary-chromium-'));
    const child = spawn(binary, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--mute-audio',
      `--user-data-dir=${profile}`, `--window-size=${size.width},${size.height}`, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    child.stderr!.resume();
    const page = new HeadlessPage(child, child.stdio[3] as Writable, profile);
    const { targetId } = await page.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await page.send('Target.attachToTarget', { targetId, flatten: true });
    page.sessionId = String(sessionId);
    await page.send('Runtime.enable');
    await page.send('Log.enable');
    await page.send('Page.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { width: size.width, height: size.height, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  /** Loads `url` and waits for its load event. */
  async goto(url: string): Promise<void> {
    const loaded = this.once('Page.loadEventFired');
    await this.send('Page.navigate', { url });
    await loaded;
  }

  /** Evaluates `expression` in the page and returns its value (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    const details = reply.exceptionDetails as { text?: string; exception?: { description?: string } } | undefined;
    if (details !== undefined) throw new Error(`evaluating ${expression}: ${details.exception?.description ?? details.text}`);
    return (reply.result as { value: T }).value;
  }

  /** Evaluates `expression` until it is truthy; returns its value, or throws after `timeoutMs` with `what`. */
  async waitFor<T>(expression: string, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate<T>(expression);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; page errors: ${JSON.stringify(this.errors)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** A PNG of the whole page. */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    return Buffer.from(String(data), 'base64');
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      await this.send('Browser.close', {}, false).catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }

  private send(method: string, params: Record<string, unknown> = {}, inSession = true): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error('chromium exited'));
    const id = this.nextId++;
    const message = { id, method, params, ...(inSession && this.sessionId !== '' ? { sessionId: this.sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.input.write(`${JSON.stringify(message)}\0`);
    });
  }

  private readonly waiters = new Map<string, (() => void)[]>();

  private once(event: string): Promise<void> {
    return new Promise((resolve) => this.waiters.set(event, [...(this.waiters.get(event) ?? []), resolve]));
  }

  private receive(text: string): void {
    this.buffer += text;
    let end;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string } };
      this.buffer = this.buffer.slice(end + 1);
      if (message.id !== undefined) {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) pending?.reject(new Error(message.error.message));
        else pending?.resolve(message.result ?? {});
      } else if (message.method !== undefined) {
        this.event(message.method, message.params ?? {});
      }
    }
  }

  private event(method: string, params: Record<string, unknown>): void {
    const waiters = this.waiters.get(method);
    if (waiters !== undefined) {
      this.waiters.delete(method);
      for (const wake of waiters) wake();
    }
    if (method === 'Runtime.exceptionThrown') {
      const details = params.exceptionDetails as { text?: string; exception?: { description?: string } };
      this.errors.push({ kind: 'exception', text: details.exception?.description ?? details.text ?? 'exception' });
    } else if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert')) {
      const args = (params.args as { value?: unknown; description?: string }[]) ?? [];
      this.errors.push({ kind: 'console', text: args.map((a) => a.description ?? String(a.value)).join(' ') });
    } else if (method === 'Log.entryAdded') {
      const entry = params.entry as { level?: string; text?: string; url?: string };
      if (entry.level === 'error') this.errors.push({ kind: 'log', text: `${entry.text ?? ''}${entry.url ? ` (${entry.url})` : ''}` });
    }
  }
}
