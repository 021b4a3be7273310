import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromClientThread, KafkaClientSettings, ToClientThread } from './kafka-client-messages.ts';

/** What an exchange got from the client thread. */
export type ThreadAnswer = Extract<FromClientThread, { op: 'answer' }>;

/** What the client thread reports besides answers. */
export interface ClientThreadEvents {
  retried(instances: number): void;
  duplicate(): void;
}

/** The URL of tsx's ESM API (`tsx/esm/api` under the import condition), found from `from`. */
function tsxEsmApi(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
}

/**
 * The thread file: compiled JavaScript next to this module in dist/; from the sources (tsx,
 * vitest) TypeScript, which a worker thread does not inherit a loader for, so a small bootstrap
 * registers tsx in the new thread before it imports the file.
 */
function spawnClientThread(settings: KafkaClientSettings): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./kafka-client-thread.js', here), { workerData: settings });
  const thread = new URL('./kafka-client-thread.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsxEsmApi(here))}).then((api) => { api.register(); return import(${JSON.stringify(thread)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}

/**
 * The stream thread's end of a remote model's Kafka client thread (kafka-client-thread.ts): starts
 * it, hands it request values and resolves each exchange with its answer. A thread that dies fails
 * what waits on it; the next `start()` spawns a new one.
 */
export class KafkaClientWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (answer: ThreadAnswer) => void>();
  private nextId = 0;
  private failure: string | undefined;
  private startWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private closeWaiter: (() => void) | undefined;
  private exited = false;
  /** Resolves once the thread connected and joined its reply group; rejects with why it could not. */
  readonly started: Promise<void>;

  constructor(settings: KafkaClientSettings, private readonly events: ClientThreadEvents) {
    this.worker = spawnClientThread(settings);
    this.started = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    this.started.catch(() => undefined);
    this.worker.on('message', (message: FromClientThread) => this.receive(message));
    this.worker.on('error', (error) => this.fail(`its Kafka client thread failed: ${error.message}`));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.fail(`its Kafka client thread exited with code ${code}`);
      this.closeWaiter?.();
    });
  }

  /** False once the thread failed or exited. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  /** Sends a request value until its reply comes (or every attempt timed out). */
  exchange(value: string | Uint8Array, headers: Record<string, string>, instances: number, waitMs: number): Promise<ThreadAnswer> {
    const id = this.nextId++;
    if (this.failure !== undefined) return Promise.resolve({ op: 'answer', id, ok: false, closed: false, lastSendError: this.failure });
    return new Promise<ThreadAnswer>((resolve) => {
      this.pending.set(id, resolve);
      const transfer = typeof value === 'string' ? [] : [value.buffer as ArrayBuffer];
      this.post({ op: 'exchange', id, value, headers, instances, waitMs }, transfer);
    });
  }

  /** Lets the thread answer what waits as closed, disconnect and leave its group, then ends it. */
  async close(): Promise<void> {
    if (!this.exited) {
      const closed = new Promise<void>((resolve) => (this.closeWaiter = resolve));
      this.post({ op: 'close' });
      await closed;
    }
    await this.worker.terminate();
  }

  /** Ends the thread at once (its connections with it): for a thread that could not start. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private post(message: ToClientThread, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private receive(message: FromClientThread): void {
    switch (message.op) {
      case 'started':
        this.startWaiter?.resolve();
        return;
      case 'failed':
        this.fail(message.message);
        return;
      case 'answer': {
        const resolve = this.pending.get(message.id);
        this.pending.delete(message.id);
        resolve?.(message);
        return;
      }
      case 'retried':
        this.events.retried(message.instances);
        return;
      case 'duplicate':
        this.events.duplicate();
        return;
      case 'closed':
        this.closeWaiter?.();
        return;
    }
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.startWaiter?.reject(new Error(this.failure));
    for (const [id, resolve] of this.pending) resolve({ op: 'answer', id, ok: false, closed: false, lastSendError: this.failure });
    this.pending.clear();
  }
}
