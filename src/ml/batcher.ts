/** Schedules `fn` after `ms`; returns a function that cancels it. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface MicroBatcherOptions<T, R> {
  /** A batch is sent as soon as it holds this many items. */
  maxBatchSize: number;
  /** …or when this long has passed since its first item. */
  maxDelayMs: number;
  /** Batches running at once (default 1). */
  concurrency?: number;
  run: (batch: T[]) => Promise<R[]>;
  /** Receives each item's result, strictly in push order. */
  onResult: (item: T, result: R) => void;
  /** Receives each item of a batch whose `run` rejected (or a throw of `onResult`), in push order. */
  onError?: (item: T, error: Error) => void;
  /** Timer used for `maxDelayMs` (default setTimeout); a test driver passes its own clock. */
  schedule?: Schedule;
  /** `isFull` turns true at this many items in flight (default maxBatchSize × concurrency × 2). */
  maxInFlight?: number;
}

interface Batch<T, R> {
  items: T[];
  results?: R[];
  error?: Error;
  done: boolean;
}

const defaultSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * Collects items into batches (full, or `maxDelayMs` after their first item), runs up to
 * `concurrency` batches at once and delivers results in push order even when later batches
 * finish first.
 *
 * @example
 * const batcher = new MicroBatcher({ maxBatchSize: 256, maxDelayMs: 5, concurrency: 6,
 *   run: (records) => model.scoreBatch(records), onResult: (record, outcome) => emit(record, outcome) });
 */
export class MicroBatcher<T, R> {
  private open: T[] = [];
  private cancelTimer: (() => void) | undefined;
  /** Batches sent (running or waiting for a run slot), oldest first, until delivered. */
  private readonly sent: Batch<T, R>[] = [];
  private readonly waiting: Batch<T, R>[] = [];
  private running = 0;
  private pushed = 0;
  private delivered = 0;
  private readonly flushes: { upTo: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  private unreported: Error | undefined;
  private readonly concurrency: number;
  private readonly maxInFlight: number;
  private readonly schedule: Schedule;

  constructor(private readonly options: MicroBatcherOptions<T, R>) {
    if (!(options.maxBatchSize >= 1)) throw new RangeError(`maxBatchSize must be at least 1, got ${options.maxBatchSize}`);
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.maxInFlight = options.maxInFlight ?? options.maxBatchSize * this.concurrency * 2;
    this.schedule = options.schedule ?? defaultSchedule;
  }

  /** Items pushed but not yet delivered. */
  get inFlight(): number {
    return this.pushed - this.delivered;
  }

  /** True while `inFlight` is at or over the bound: the caller should stop pulling input. */
  get isFull(): boolean {
    return this.inFlight >= this.maxInFlight;
  }

  push(item: T): void {
    this.open.push(item);
    this.pushed++;
    if (this.open.length >= this.options.maxBatchSize) this.send();
    else if (this.open.length === 1) this.cancelTimer = this.schedule(() => this.send(), this.options.maxDelayMs);
  }

  /** Sends the partial batch now; resolves when everything pushed so far has been delivered. */
  flush(): Promise<void> {
    this.send();
    const upTo = this.pushed;
    if (this.delivered >= upTo) return this.settled();
    return new Promise((resolve, reject) => this.flushes.push({ upTo, resolve, reject }));
  }

  private settled(): Promise<void> {
    const error = this.unreported;
    this.unreported = undefined;
    return error === undefined ? Promise.resolve() : Promise.reject(error);
  }

  private send(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.open.length === 0) return;
    const batch: Batch<T, R> = { items: this.open, done: false };
    this.open = [];
    this.sent.push(batch);
    this.waiting.push(batch);
    this.startWaiting();
  }

  private startWaiting(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.shift()!;
      this.running++;
      this.execute(batch);
    }
  }

  private execute(batch: Batch<T, R>): void {
    let pending: Promise<R[]>;
    try {
      pending = this.options.run(batch.items);
    } catch (error) {
      pending = Promise.reject(asError(error));
    }
    pending.then(
      (results) => {
        if (results.length === batch.items.length) batch.results = results;
        else batch.error = new Error(`run returned ${results.length} results for a batch of ${batch.items.length}`);
      },
      (error: unknown) => {
        batch.error = asError(error);
      },
    ).finally(() => {
      batch.done = true;
      this.running--;
      this.deliver();
      this.startWaiting();
    });
  }

  /** Delivers completed batches from the oldest on, stopping at the first one still running. */
  private deliver(): void {
    while (this.sent.length > 0 && this.sent[0]!.done) {
      const batch = this.sent.shift()!;
      batch.items.forEach((item, i) => {
        try {
          if (batch.results !== undefined) this.options.onResult(item, batch.results[i]!);
          else this.fail(item, batch.error!);
        } catch (error) {
          this.fail(item, asError(error));
        }
        this.delivered++;
      });
    }
    this.resolveFlushes();
  }

  private fail(item: T, error: Error): void {
    if (this.options.onError === undefined) {
      this.unreported ??= error;
      return;
    }
    try {
      this.options.onError(item, error);
    } catch (thrown) {
      this.unreported ??= asError(thrown);
    }
  }

  private resolveFlushes(): void {
    while (this.flushes.length > 0 && this.flushes[0]!.upTo <= this.delivered) {
      const waiter = this.flushes.shift()!;
      const error = this.unreported;
      this.unreported = undefined;
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
