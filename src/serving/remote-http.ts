import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { ModelError, describeError, relayedModelError, type Model, type Prediction, type ScoreInput, type ScoreOutcome, type ScoreStage } from '../ml/model.ts';
import { remoteRetries } from './metrics.ts';
import type { ErrorReply } from './protocol.ts';
import { requestJson } from './request-json.ts';

/** `remoteModel({ http })`: a TF-Serving-style `:predict` endpoint. */
export interface RemoteHttpOptions {
  /** The full predict URL, e.g. `http://localhost:8501/v1/models/fraud:predict`. */
  http: string;
  /** Longest wait for one HTTP request (default 5000 ms). */
  timeoutMs?: number;
  /** Attempts after the first when the server is unreachable, times out or answers 5xx (default 3). */
  retries?: number;
  /** Wait before the first retry, doubling on each one up to 5 s (default 100 ms). */
  retryBackoffMs?: number;
  /** The model's name in errors and metrics (default: the name in the URL). */
  name?: string;
}

interface HttpAnswer {
  status: number;
  body: unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const isStage = (stage: unknown): stage is ScoreStage => stage === 'validate' || stage === 'features' || stage === 'inference';

/**
 * A model behind a TF-Serving-compatible HTTP server: one `{"instances": [...]}` POST per batch on
 * a keep-alive connection, retried on timeouts, connection errors and 5xx. An instance the server
 * rejects (400 naming the instance) fails alone; the rest of the batch is sent again without it.
 */
export class HttpRemoteModel<In, Out> implements Model<In, Out> {
  readonly name: string;
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(options: RemoteHttpOptions) {
    this.url = new URL(options.http);
    this.name = options.name ?? /\/v1\/models\/([^/:]+)/.exec(this.url.pathname)?.[1] ?? this.url.host;
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.retryBackoffMs ?? 100;
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.agent.destroy();
  }

  async scoreBatch(inputs: readonly ScoreInput<In>[]): Promise<ScoreOutcome<Out>[]> {
    const outcomes = new Array<ScoreOutcome<Out> | undefined>(inputs.length);
    let pending = inputs.map((_, i) => i);
    const started = performance.now();
    while (pending.length > 0) {
      let answer: HttpAnswer;
      try {
        answer = await this.post(pending.map((i) => requestJson(inputs[i]!.value)));
      } catch (error) {
        const failure = this.failure('inference', describeError(error), error);
        for (const i of pending) outcomes[i] = failure;
        break;
      }
      const predictions = (answer.body as { predictions?: unknown }).predictions;
      if (answer.status === 200 && Array.isArray(predictions) && predictions.length === pending.length) {
        const latencyMs = performance.now() - started;
        pending.forEach((i, k) => (outcomes[i] = { ok: true, prediction: { ...(predictions[k] as Prediction<Out>), latencyMs } }));
        break;
      }
      const reply = answer.body as Partial<ErrorReply>;
      const message = typeof reply.error === 'string' ? reply.error : `unexpected answer ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`;
      const stage = isStage(reply.stage) ? reply.stage : 'inference';
      const instance = reply.instance;
      if (answer.status >= 400 && answer.status < 500 && typeof instance === 'number' && instance >= 0 && instance < pending.length) {
        outcomes[pending[instance]!] = this.failure(stage, message);
        pending = pending.filter((_, k) => k !== instance);
        continue;
      }
      const failure = this.failure(stage, `${this.url.href} answered ${answer.status}: ${message}`);
      for (const i of pending) outcomes[i] = failure;
      break;
    }
    return outcomes as ScoreOutcome<Out>[];
  }

  /** POSTs the instances (each already JSON), retrying transport failures and 5xx; resolves with the last answer or rejects after the retries. */
  private async post(instances: readonly string[]): Promise<HttpAnswer> {
    const body = `{"instances":[${instances.join(',')}]}`;
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) {
        remoteRetries.inc({ transport: 'http', model: this.name });
        await sleep(Math.min(5000, this.backoffMs * 2 ** (attempt - 1)));
      }
      try {
        const answer = await this.request(body);
        if (answer.status < 500 || attempt === this.retries) return answer;
        lastError = new Error(`answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`${this.url.href} failed ${this.retries + 1} times; last: ${describeError(lastError)}`);
  }

  private request(body: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: { error: text.slice(0, 200) } });
          }
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end(body);
    });
  }

  private failure(stage: ScoreStage, message: string, cause?: unknown): ScoreOutcome<Out> {
    const relayed = relayedModelError(message, this.name);
    return { ok: false, stage, error: new ModelError(relayed.message, { model: this.name, version: relayed.version, stage, cause }) };
  }
}
