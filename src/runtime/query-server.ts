import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KafkaStreams } from './kafka-streams.ts';
import type { KeyValue, ReadOnlyKeyValueStore, ReadOnlyWindowStore } from '../state/store.ts';

/** Set on a request one instance forwards to another, so that it is never forwarded twice. */
const FORWARDED = 'x-tributary-forwarded';

/**
 * Remote interactive queries over HTTP (on the runner's `--metrics-port` server):
 * - `GET /stores/<store>/<key>`: a key-value store's value → `{ store, key, value, host }`, 404 when missing;
 * - `GET /stores/<store>/<key>?from=<ts>&to=<ts>`: a window store's windows of the key → `{ ..., windows: [{ start, value }] }`;
 * - `GET /stores/<store>/<key>[?asOf=<ts>]`: a versioned store's latest version, or the one valid at `asOf` → `{ ..., value, timestamp, validTo? }`;
 * - `GET /stores/<store>/<key>?fromTime=<ts>&toTime=<ts>&order=ascending|descending`: a versioned store's versions in the range → `{ ..., versions: [{ value, timestamp, validTo? }] }`;
 * - `GET /stores/<store>?from=<key>&to=<key>`: a key range over every instance → `{ store, entries: [{ key, value, host }] }`.
 * A key this instance does not host is forwarded to the instance that does (from `queryMetadataForKey`)
 * and its answer passed on. Keys in the path are strings for a string-keyed store, JSON otherwise.
 */
export function queryRoutes(app: KafkaStreams): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://local');
    const match = /^\/stores\/([^/]+)(?:\/(.+))?$/.exec(url.pathname);
    if (!match || request.method !== 'GET') return false;
    const store = decodeURIComponent(match[1]!);
    const keyText = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const forwarded = request.headers[FORWARDED] !== undefined;
    answer(app, store, keyText, url.searchParams, forwarded).then(
      ({ status, body }) => send(response, status, body),
      (error: unknown) => send(response, 500, { error: error instanceof Error ? error.message : String(error) }),
    );
    return true;
  };
}

interface Answer {
  status: number;
  body: unknown;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}

async function answer(app: KafkaStreams, store: string, keyText: string | undefined, params: URLSearchParams, forwarded: boolean): Promise<Answer> {
  const spec = app.topology.stores.get(store);
  if (!spec) return { status: 404, body: { error: `no store named '${store}' (stores: ${[...app.topology.stores.keys()].join(', ')})` } };
  const parseKey = (text: string): unknown => (spec.keySerde?.name === 'string' ? text : JSON.parse(text));
  const host = app.advertisedUrl ?? 'local';
  if (keyText === undefined) {
    const from = params.get('from');
    const to = params.get('to');
    if (spec.type !== 'key-value') return { status: 400, body: { error: `store '${store}' is a ${spec.type} store: ask for one key, /stores/${store}/<key>?from=<ts>&to=<ts>` } };
    const view = app.store(store) as ReadOnlyKeyValueStore<unknown, unknown>;
    const local: KeyValue<unknown, unknown>[] = from !== null && to !== null ? view.range(parseKey(from), parseKey(to)) : view.all();
    const entries = local.map((e) => ({ key: e.key, value: e.value, host }));
    if (!forwarded) {
      const others = (await app.streamsMetadata()).filter((i) => i.host !== host && i.stateStoreNames.includes(store));
      const search = params.toString();
      for (const other of others) {
        const remote = await forward(`${other.host}/stores/${encodeURIComponent(store)}${search ? `?${search}` : ''}`);
        if (remote.status !== 200) return { status: 503, body: { error: `instance ${other.host} did not answer (${remote.status}): retry after the rebalance` } };
        entries.push(...(remote.body as { entries: typeof entries }).entries);
      }
    }
    return { status: 200, body: { store, entries } };
  }
  let key: unknown;
  try {
    key = parseKey(keyText);
  } catch {
    return { status: 400, body: { error: `store '${store}' has ${spec.keySerde?.name ?? 'non-string'} keys: give the key as JSON, got '${keyText}'` } };
  }
  const metadata = await app.queryMetadataForKey(store, key);
  if (!app.hostsTask(metadata.taskId)) {
    if (forwarded || metadata.activeHost === undefined || metadata.activeHost === host) {
      return { status: 503, body: { error: `task ${metadata.taskId} (partition ${metadata.partition}) is not running on any instance right now (a rebalance or restore): retry`, partition: metadata.partition } };
    }
    const search = params.toString();
    return forward(`${metadata.activeHost}/stores/${encodeURIComponent(store)}/${encodeURIComponent(keyText)}${search ? `?${search}` : ''}`);
  }
  const from = params.get('from');
  const to = params.get('to');
  if (spec.type === 'window') {
    if (from === null || to === null) return { status: 400, body: { error: `store '${store}' is a window store: give ?from=<ts>&to=<ts> (window starts)` } };
    const windows = (app.windowStore(store) as ReadOnlyWindowStore<unknown, unknown>).fetch(key, Number(from), Number(to));
    return { status: 200, body: { store, key, windows: windows.map((w) => ({ start: w.key, value: w.value })), host, partition: metadata.partition } };
  }
  if (spec.type === 'session') {
    const sessions = app.sessionStore(store).fetch(key);
    return { status: 200, body: { store, key, sessions: sessions.map((s) => ({ start: s.key.window.start, end: s.key.window.end, value: s.value })), host, partition: metadata.partition } };
  }
  if (spec.versioned) return versionedAnswer(app, store, key, params, { host, partition: metadata.partition });
  const value = (app.store(store) as ReadOnlyKeyValueStore<unknown, unknown>).get(key);
  if (value === undefined) return { status: 404, body: { store, key, error: 'no such key', host, partition: metadata.partition } };
  return { status: 200, body: { store, key, value, host, partition: metadata.partition } };
}

/** A time parameter of a versioned read: absent, or an integer count of epoch milliseconds. */
function timeParam(params: URLSearchParams, name: string): number | undefined | Error {
  const text = params.get(name);
  if (text === null) return undefined;
  const time = Number(text);
  return text.trim() !== '' && Number.isSafeInteger(time) ? time : new Error(`?${name}= must be a timestamp in epoch milliseconds, got '${text}'`);
}

/**
 * A versioned store's key: the latest version, the version as of `?asOf=<ts>` (Kafka Streams'
 * `VersionedKeyQuery`), or with `?fromTime=&toTime=&order=` every version valid in that range
 * (`MultiVersionedKeyQuery`), each `{ value, timestamp, validTo? }`.
 */
function versionedAnswer(app: KafkaStreams, store: string, key: unknown, params: URLSearchParams, where: { host: string; partition: number }): Answer {
  const view = app.versionedStore(store);
  const asOf = timeParam(params, 'asOf');
  const fromTime = timeParam(params, 'fromTime');
  const toTime = timeParam(params, 'toTime');
  const order = params.get('order');
  for (const bad of [asOf, fromTime, toTime]) if (bad instanceof Error) return { status: 400, body: { error: `store '${store}': ${bad.message}` } };
  if (order !== null && order !== 'ascending' && order !== 'descending') return { status: 400, body: { error: `store '${store}': ?order= is 'ascending' or 'descending', got '${order}'` } };
  const range = fromTime !== undefined || toTime !== undefined || order !== null;
  if (range && asOf !== undefined) return { status: 400, body: { error: `store '${store}': give ?asOf=<ts> for one version, or ?fromTime=&toTime= for several, not both` } };
  if (range) {
    const versions = view.getVersions(key, {
      ...(fromTime !== undefined ? { fromTime: fromTime as number } : {}),
      ...(toTime !== undefined ? { toTime: toTime as number } : {}),
      ...(order !== null ? { order } : {}),
    });
    return { status: 200, body: { store, key, versions, ...where } };
  }
  const found = asOf === undefined ? view.get(key) : view.get(key, asOf as number);
  const at = asOf === undefined ? {} : { asOf };
  if (found === undefined) return { status: 404, body: { store, key, ...at, error: 'no such key', ...where } };
  return { status: 200, body: { store, key, ...at, ...found, ...where } };
}

async function forward(url: string): Promise<Answer> {
  try {
    const response = await fetch(url, { headers: { [FORWARDED]: '1' }, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: await response.json() };
  } catch (error) {
    return { status: 503, body: { error: `could not reach ${url}: ${error instanceof Error ? error.message : String(error)}` } };
  }
}
