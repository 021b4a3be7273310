import { readdir, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardCollector } from './collector.ts';

/** Answers a request it knows (true), or leaves it to the server's other routes (false). */
export type HttpRoute = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface DashboardRouteOptions {
  /** Where `tributary bench` results are listed from (default `bench/results` under the working directory). */
  benchDir?: string;
}

const ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));
const require = createRequire(import.meta.url);
/** uPlot ships in the package's dependencies: the page never loads anything from another host. */
const VENDOR: Readonly<Record<string, string>> = {
  'uPlot.iife.min.js': require.resolve('uplot/dist/uPlot.iife.min.js'),
  'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
};
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

const cache = new Map<string, Buffer>();

async function asset(name: string): Promise<Buffer | undefined> {
  const path = VENDOR[name] ?? (/^[\w.-]+$/.test(name) ? join(ASSETS, name) : undefined);
  if (path === undefined) return undefined;
  let body = cache.get(path);
  if (body === undefined) {
    body = await readFile(path).catch(() => undefined);
    if (body === undefined) return undefined;
    cache.set(path, body);
  }
  return body;
}

function sendBody(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  sendBody(response, status, TYPES['.json']!, JSON.stringify(value));
}

function failed(response: ServerResponse, error: unknown): void {
  if (!response.headersSent) sendBody(response, 500, 'text/plain', String(error));
  else response.destroy();
}

/**
 * The live dashboard's routes, to mount in an HTTP server: `GET /` (the page),
 * `/dashboard/assets/<file>` (its script, style and uPlot), `/dashboard/data?since=<ms>` (the
 * collector's frames after `since`), `/dashboard/bench` (the benchmark results there are) and
 * `/dashboard/bench/<name>.json` (one of them).
 */
export function dashboardRoutes(collector: DashboardCollector, options: DashboardRouteOptions = {}): HttpRoute {
  const benchDir = resolve(options.benchDir ?? 'bench/results');
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/' || path === '/dashboard' || path === '/dashboard/') {
      asset('index.html').then((body) => sendBody(response, 200, TYPES['.html']!, body ?? 'the dashboard page is missing from this installation'), (error) => failed(response, error));
      return true;
    }
    if (path === '/dashboard/data') {
      const since = Number(url.searchParams.get('since') ?? 0);
      sendJson(response, 200, collector.data(Number.isFinite(since) ? since : 0));
      return true;
    }
    if (path.startsWith('/dashboard/assets/')) {
      const name = path.slice('/dashboard/assets/'.length);
      asset(name).then(
        (body) => (body === undefined ? sendBody(response, 404, 'text/plain', `no asset ${name}\n`) : sendBody(response, 200, TYPES[extname(name)] ?? 'application/octet-stream', body)),
        (error) => failed(response, error),
      );
      return true;
    }
    if (path === '/dashboard/bench') {
      listBench(benchDir).then((files) => sendJson(response, 200, { dir: benchDir, files }), (error) => failed(response, error));
      return true;
    }
    if (path.startsWith('/dashboard/bench/')) {
      const name = basename(decodeURIComponent(path.slice('/dashboard/bench/'.length)));
      if (!name.endsWith('.json')) {
        sendBody(response, 404, 'text/plain', 'only .json results are served\n');
        return true;
      }
      readFile(join(benchDir, name)).then(
        (body) => sendBody(response, 200, TYPES['.json']!, body),
        () => sendBody(response, 404, 'text/plain', `no result ${name} in ${benchDir}\n`),
      );
      return true;
    }
    return false;
  };
}

async function listBench(dir: string): Promise<{ name: string; bytes: number; modified: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = await Promise.all(
    names.filter((n) => n.endsWith('.json')).map(async (name) => {
      const info = await stat(join(dir, name));
      return { name, bytes: info.size, modified: info.mtimeMs };
    }),
  );
  return files.sort((a, b) => a.name.localeCompare(b.name));
}
