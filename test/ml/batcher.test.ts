import { describe, expect, test } from 'vitest';
import { MicroBatcher, type Schedule } from '../../src/ml/index.ts';

/** A manual clock for the batcher's maxDelayMs timer. */
function manualClock() {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const schedule: Schedule = (fn, ms) => {
    const timer = { at: now + ms, fn, cancelled: false };
    timers.push(timer);
    return () => (timer.cancelled = true);
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((t) => !t.cancelled && t.at <= now)) {
      t.cancelled = true;
      t.fn();
    }
  };
  return { schedule, advance, pending: () => timers.filter((t) => !t.cancelled).length };
}

/** A `run` whose batches complete only when the test says so, in any order. */
function controlledRun() {
  const calls: { batch: number[]; resolve: (r: string[]) => void; reject: (e: Error) => void }[] = [];
  const run = (batch: number[]) =>
    new Promise<string[]>((resolve, reject) => calls.push({ batch, resolve, reject }));
  const complete = (i: number) => calls[i]!.resolve(calls[i]!.batch.map((n) => `r${n}`));
  return { run, calls, complete };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('MicroBatcher', () => {
  test('sends a batch when it is full, or maxDelayMs after its first item', async () => {
    const clock = manualClock();
    const { run, calls, complete } = controlledRun();
    const delivered: [number, string][] = [];
    const batcher = new MicroBatcher<number, string>({ maxBatchSize: 3, maxDelayMs: 5, concurrency: 4, run, onResult: (i, r) => delivered.push([i, r]), schedule: clock.schedule });
    [1, 2, 3, 4].forEach((n) => batcher.push(n));
    expect(calls.map((c) => c.batch)).toEqual([[1, 2, 3]]);
    clock.advance(4);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    expect(calls.map((c) => c.batch)).toEqual([[1, 2, 3], [4]]);
    expect(clock.pending()).toBe(0);
    complete(0);
    complete(1);
    await tick();
    expect(delivered).toEqual([[1, 'r1'], [2, 'r2'], [3, 'r3'], [4, 'r4']]);
  });

  test('delivers in push order when later batches complete first', async () => {
    const { run, calls, complete } = controlledRun();
    const delivered: number[] = [];
    const batcher = new MicroBatcher<number, string>({ maxBatchSize: 2, maxDelayMs: 1000, concurrency: 3, run, onResult: (i) => delivered.push(i) });
    [1, 2, 3, 4, 5, 6].forEach((n) => batcher.push(n));
    expect(calls).toHaveLength(3);
    expect(batcher.inFlight).toBe(6);
    complete(2);
    complete(1);
    await tick();
    expect(delivered).toEqual([]);
    expect(batcher.inFlight).toBe(6);
    complete(0);
    await tick();
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batcher.inFlight).toBe(0);
  });

  test('runs at most `concurrency` batches at once', async () => {
    const { run, calls, complete } = controlledRun();
    const batcher = new MicroBatcher<number, string>({ maxBatchSize: 1, maxDelayMs: 1000, concurrency: 2, run, onResult: () => undefined });
    [1, 2, 3, 4].forEach((n) => batcher.push(n));
    expect(calls).toHaveLength(2);
    complete(1);
    await tick();
    expect(calls).toHaveLength(3);
  });

  test('flush() sends the partial batch now and resolves once everything pushed before it is delivered', async () => {
    const clock = manualClock();
    const { run, calls, complete } = controlledRun();
    const delivered: number[] = [];
    const batcher = new MicroBatcher<number, string>({ maxBatchSize: 10, maxDelayMs: 50, concurrency: 2, run, onResult: (i) => delivered.push(i), schedule: clock.schedule });
    batcher.push(1);
    batcher.push(2);
    let flushed = false;
    const flushing = batcher.flush().then(() => (flushed = true));
    expect(calls.map((c) => c.batch)).toEqual([[1, 2]]);
    expect(clock.pending()).toBe(0);
    batcher.push(3);
    complete(0);
    await flushing;
    expect(flushed).toBe(true);
    expect(delivered).toEqual([1, 2]);
    expect(batcher.inFlight).toBe(1);
    const second = batcher.flush();
    complete(1);
    await second;
    expect(delivered).toEqual([1, 2, 3]);
    await batcher.flush();
  });

  test('isFull turns on at the in-flight bound and off as results are delivered', async () => {
    const { run, complete } = controlledRun();
    const batcher = new MicroBatcher<number, string>({ maxBatchSize: 2, maxDelayMs: 1000, concurrency: 1, run, onResult: () => undefined });
    for (let n = 0; n < 3; n++) batcher.push(n);
    expect(batcher.isFull).toBe(false);
    batcher.push(3);
    expect(batcher.inFlight).toBe(4);
    expect(batcher.isFull).toBe(true);
    complete(0);
    await tick();
    expect(batcher.isFull).toBe(false);
  });

  test('a rejected run delivers an error for each of its items, in order, and later batches still deliver', async () => {
    const { run, calls, complete } = controlledRun();
    const events: string[] = [];
    const batcher = new MicroBatcher<number, string>({
      maxBatchSize: 2, maxDelayMs: 1000, concurrency: 2, run,
      onResult: (i, r) => events.push(`${i}:${r}`),
      onError: (i, e) => events.push(`${i}!${e.message}`),
    });
    [1, 2, 3, 4].forEach((n) => batcher.push(n));
    complete(1);
    calls[0]!.reject(new Error('session died'));
    await batcher.flush();
    expect(events).toEqual(['1!session died', '2!session died', '3:r3', '4:r4']);
  });

  test('without onError, a failed batch makes the next flush() reject', async () => {
    const batcher = new MicroBatcher<number, string>({ maxBatchSize: 2, maxDelayMs: 1000, run: async () => Promise.reject(new Error('down')), onResult: () => undefined });
    batcher.push(1);
    await expect(batcher.flush()).rejects.toThrow('down');
    await expect(batcher.flush()).resolves.toBeUndefined();
  });

  test('a run that returns the wrong number of results fails its batch', async () => {
    const errors: string[] = [];
    const batcher = new MicroBatcher<number, string>({ maxBatchSize: 2, maxDelayMs: 1000, run: async () => ['only one'], onResult: () => undefined, onError: (_, e) => errors.push(e.message) });
    batcher.push(1);
    batcher.push(2);
    await batcher.flush();
    expect(errors).toEqual(['run returned 1 results for a batch of 2', 'run returned 1 results for a batch of 2']);
  });
});
