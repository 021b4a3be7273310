import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDashboard, type Dashboard } from '../dashboard/index.ts';
import { modelMetrics } from '../ml/metrics.ts';
import { describeError, type Prediction } from '../ml/model.ts';
import type { ModelRegistry } from '../ml/registry.ts';
import type { RecordValue, RegistryOutput } from '../ml/registry-mapping.ts';
import { servingRequests } from './metrics.ts';
import { ModelPool, predictionsOf, type BatchingOptions } from './model-pool.ts';
import { ServingError } from './protocol.ts';

export interface ModelHttpServerOptions extends BatchingOptions {
  /** Port to listen on (default 8501, TensorFlow Serving's REST port; 0 picks a free one). */
  port?: number;
  /** The address to bind (default `127.0.0.1`: this machine only; `0.0.0.0` or `::` for every interface). */
  host?: string;
  /** Largest request body accepted (default 16 MiB); a larger one is answered 413. */
  maxBodyBytes?: number;
  /** Serve the live dashboard at `/` (default true); `{ benchDir }` says where benchmark results are listed from. */
  dashboard?: boolean | { benchDir?: string };
}

/** A TF-Serving `:predict` body in row (`instances`) or columnar (`inputs`) format. */
interface PredictBody {
  rows: unknown[];
  columnar: boolean;
}

/** What the HTTP server binds unless told otherwise: loopback, so a development server is not open to the network. */
export const DEFAULT_HOST = '127.0.0.1';

const ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?(?::(predict|classify|regress)|\/(metadata))?$/;

class HttpError extends ServingError {
  constructor(message: string, status: number, readonly allow?: string) {
    super(message, status);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) reject(new ServingError(`the request body is larger than ${limit} bytes`, 413));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Reads `{"instances": [...]}` or `{"inputs": [...] | { name: [...] }}` into one value per instance. */
export function parsePredictBody(text: string): PredictBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ServingError(`the request body is not valid JSON: ${describeError(error)}`, 400);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ServingError('the request body must be a JSON object with an "instances" (row format) or "inputs" (columnar format) field', 400);
  }
  const { instances, inputs } = body as { instances?: unknown; inputs?: unknown };
  if (instances !== undefined && inputs !== undefined) throw new ServingError('give either "instances" or "inputs", not both', 400);
  if (instances !== undefined) {
    if (!Array.isArray(instances)) throw new ServingError('"instances" must be a list of instances', 400);
    if (instances.length === 0) throw new ServingError('"instances" is empty', 400);
    return { rows: instances, columnar: false };
  }
  if (inputs === undefined) throw new ServingError('the request body needs an "instances" (row format) or "inputs" (columnar format) field', 400);
  if (Array.isArray(inputs)) {
    if (inputs.length === 0) throw new ServingError('"inputs" is empty', 400);
    return { rows: inputs, columnar: true };
  }
  if (typeof inputs !== 'object' || inputs === null) throw new ServingError('"inputs" must be a list of instances or an object of equally long feature lists', 400);
  const columns = Object.entries(inputs as Record<string, unknown>);
  const lengths = new Set(columns.map(([, column]) => (Array.isArray(column) ? column.length : -1)));
  if (columns.length === 0 || lengths.has(-1) || lengths.size !== 1 || lengths.has(0)) {
    throw new ServingError('columnar "inputs" must map each feature name to a non-empty list, all of the same length', 400);
  }
  const n = [...lengths][0]!;
  const rows = Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([name, column]) => [name, (column as unknown[])[i]])));
  return { rows, columnar: true };
}

/** Turns predictions into TF-Serving's columnar `outputs`: one list per prediction field. */
function toColumns(predictions: readonly Prediction<RegistryOutput>[]): Record<string, unknown[]> {
  const columns: Record<string, unknown[]> = {};
  predictions.forEach((prediction, i) => {
    for (const [field, value] of Object.entries(prediction)) (columns[field] ??= new Array<unknown>(predictions.length).fill(null))[i] = value;
  });
  return columns;
}

/**
 * Serves a model registry over HTTP with TensorFlow Serving's REST API:
 * `POST /v1/models/<name>[/versions/<v>]:predict`, `GET /v1/models/<name>[/versions/<v>]` (status),
 * `GET …/metadata` (model.json), plus `GET /healthz`, `GET /metrics` (Prometheus) and the live
 * dashboard at `GET /` (see `ModelHttpServerOptions.dashboard`). Instances of
 * concurrent requests are scored together in micro-batches per model version.
 *
 * @example
 * const server = await ModelHttpServer.start(await ModelRegistry.open('models'), { port: 8501 });
 * // curl -d '{"instances": [{"amount": 12.5, ...}]}' localhost:8501/v1/models/fraud:predict
 */
export class ModelHttpServer {
  private readonly server: Server;
  private readonly pool: ModelPool;
  private readonly ownsPool: boolean;
  private readonly dashboard: Dashboard | undefined;
  private active = 0;
  private closing: Promise<void> | undefined;

  constructor(source: ModelRegistry | ModelPool, private readonly options: ModelHttpServerOptions = {}) {
    this.ownsPool = !(source instanceof ModelPool);
    this.pool = source instanceof ModelPool ? source : new ModelPool(source, options);
    const dashboard = options.dashboard ?? true;
    if (dashboard !== false) {
      this.dashboard = startDashboard({ title: 'model server', kind: 'model-server', registries: [modelMetrics], ...(dashboard === true ? {} : dashboard) });
    }
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Creates a server and listens. */
  static async start(source: ModelRegistry | ModelPool, options: ModelHttpServerOptions = {}): Promise<ModelHttpServer> {
    const server = new ModelHttpServer(source, options);
    await server.listen();
    return server;
  }

  /** Starts listening; resolves once the port is bound. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 8501, this.options.host ?? DEFAULT_HOST, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound port (useful with `port: 0`). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The address bound, as `server.address()` reports it (e.g. `127.0.0.1`, `0.0.0.0`, `::`). */
  get address(): string {
    return (this.server.address() as AddressInfo).address;
  }

  /** A base URL to reach the server, e.g. `http://127.0.0.1:8501` (on loopback when it binds every interface). */
  get url(): string {
    const bound = this.address;
    const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** Stops accepting connections, answers the requests in flight, then ends the models it opened. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.dashboard?.close();
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      while (this.active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      this.server.closeAllConnections();
      await closed;
      if (this.ownsPool) await this.pool.close();
    })();
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.active++;
    let model = '';
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/healthz') {
        this.expect(req, 'GET');
        send(res, this.closing === undefined ? 200 : 503, { status: this.closing === undefined ? 'ok' : 'closing', models: this.pool.names() });
        return;
      }
      if (path === '/metrics') {
        this.expect(req, 'GET');
        const text = await modelMetrics.metrics();
        res.writeHead(200, { 'content-type': modelMetrics.contentType });
        res.end(text);
        return;
      }
      if (this.dashboard?.route(req, res)) return;
      const route = ROUTE.exec(path);
      if (route === null) throw new ServingError(`no route ${path}: use POST /v1/models/<name>[/versions/<version>]:predict, GET /v1/models/<name>, /healthz, /metrics or / (the dashboard)`, 404);
      model = decodeURIComponent(route[1]!);
      const version = route[2] === undefined ? undefined : decodeURIComponent(route[2]);
      if (route[3] !== undefined) {
        if (route[3] !== 'predict') throw new ServingError(`:${route[3]} is not supported (registry models take JSON instances): use :predict`, 404);
        this.expect(req, 'POST');
        await this.predict(req, res, model, version);
        servingRequests.inc({ transport: 'http', model: this.pool.label(model), outcome: 'ok' });
      } else if (route[4] !== undefined) {
        this.expect(req, 'GET');
        this.pool.check(model, version);
        const metadata = await this.pool.registry.metadata(model, version);
        send(res, 200, { model_spec: { name: model, version: metadata.version, signature_name: '' }, metadata });
      } else {
        this.expect(req, 'GET');
        send(res, 200, { model_version_status: this.pool.status(model, version) });
      }
    } catch (error) {
      const failure = error instanceof ServingError ? error : new ServingError(describeError(error), 500, 'inference');
      if (model !== '' && req.method === 'POST') servingRequests.inc({ transport: 'http', model: this.pool.label(model), outcome: 'error' });
      if (!res.headersSent) send(res, failure.status, failure.toReply(), failure instanceof HttpError && failure.allow !== undefined ? { allow: failure.allow } : {});
      else res.destroy();
    } finally {
      this.active--;
    }
  }

  private expect(req: IncomingMessage, method: 'GET' | 'POST'): void {
    if (req.method === method || (method === 'GET' && req.method === 'HEAD')) return;
    throw new HttpError(`method ${req.method ?? '?'} is not allowed here; use ${method}`, 405, method);
  }

  private async predict(req: IncomingMessage, res: ServerResponse, model: string, version: string | undefined): Promise<void> {
    this.pool.check(model, version);
    const body = parsePredictBody(await readBody(req, this.options.maxBodyBytes ?? 16 * 1024 * 1024));
    const outcomes = await this.pool.score(model, version, body.rows.map((value) => ({ key: null, value: value as RecordValue })));
    const predictions = predictionsOf(outcomes);
    send(res, 200, body.columnar ? { outputs: toColumns(predictions) } : { predictions });
  }
}
