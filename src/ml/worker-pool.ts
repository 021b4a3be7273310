import { Worker } from 'node:worker_threads';
import type { SessionRunner, SessionSource } from './session-runner.ts';
import { transferables, type PlainTensor, type SessionSignature } from './tensor-batch.ts';

type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** One worker thread holding one session; referenced (keeps the process alive) only while it has work. */
class SessionWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  readonly loaded: Promise<SessionSignature>;

  constructor(source: SessionSource) {
    this.worker = new Worker(new URL('./onnx-worker.js', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`ONNX worker exited with code ${code}`)));
    const plainSource = { path: source.path, bytes: source.bytes, threads: source.threads };
    this.loaded = this.call({ op: 'load', source: plainSource }) as Promise<SessionSignature>;
    this.loaded.catch(() => undefined);
  }

  get alive(): boolean {
    return this.failure === undefined;
  }

  call(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error('ONNX worker was closed');
    await this.worker.terminate();
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) pending.resolve(reply.result);
    else {
      const error = new Error(reply.error.message);
      error.name = reply.error.name;
      pending.reject(error);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }
}

/**
 * Runs sessions in `size` worker threads (one session each) and sends every batch to the least
 * busy one. Input buffers are transferred, so the caller must not reuse a batch's arrays.
 * A worker that dies is replaced (and its model reloaded) at the next batch.
 */
export class WorkerPoolRunner implements SessionRunner {
  private readonly workers: (SessionWorker | undefined)[];
  private readonly busy: number[];
  private closed = false;

  constructor(private readonly source: SessionSource, size: number) {
    const count = Math.max(1, Math.floor(size));
    this.workers = new Array<SessionWorker | undefined>(count).fill(undefined);
    this.busy = new Array<number>(count).fill(0);
  }

  async load(): Promise<SessionSignature> {
    const signatures = await Promise.all(this.workers.map((_, i) => this.worker(i).loaded));
    return signatures[0]!;
  }

  async run(feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor>> {
    return this.runOn(this.leastBusy(), feeds);
  }

  async warmup(feeds: () => Record<string, PlainTensor>): Promise<void> {
    await Promise.all(this.workers.map((_, i) => this.runOn(i, feeds())));
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.filter((w): w is SessionWorker => w !== undefined);
    this.workers.fill(undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private async runOn(index: number, feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor>> {
    this.busy[index]!++;
    try {
      const worker = this.worker(index);
      await worker.loaded;
      return (await worker.call({ op: 'run', feeds }, transferables(feeds))) as Record<string, PlainTensor>;
    } finally {
      this.busy[index]!--;
    }
  }

  private leastBusy(): number {
    let best = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[best]!) best = i;
    return best;
  }

  /** Worker `index`, started (or restarted, if it died) with the model loading into it. */
  private worker(index: number): SessionWorker {
    if (this.closed) throw new Error('the ONNX worker pool is closed');
    const current = this.workers[index];
    if (current?.alive === true) return current;
    const worker = new SessionWorker(this.source);
    this.workers[index] = worker;
    return worker;
  }
}
