/**
 * `KafkaStreams` in embedded mode (in-memory broker and state): the same results as the test
 * driver, timestamp-ordered picking across partitions, group commits on close, backpressure, and
 * the liveness watchdog reporting (and with `failOnStall`, failing on) a stalled partition.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryBroker, KafkaStreams, ModelRegistry, Serdes, StreamsBuilder, TimeWindows, TopologyTestDriver, type Model, type ReadOnlyWindowStore, type ScoreOutcome, type StallReport, type Topology } from 'tributary';
import { nextQueue, PartitionQueue } from '../../src/runtime/partition-queue.ts';

const apps: KafkaStreams[] = [];
afterEach(async () => {
  await Promise.allSettled(apps.splice(0).map((a) => a.close()));
});

function embedded(topology: Topology, broker: InMemoryBroker, extra: Partial<ConstructorParameters<typeof KafkaStreams>[1]> = {}): KafkaStreams {
  const app = new KafkaStreams(topology, { applicationId: 'embedded-test', broker, commitIntervalMs: 50, watchdog: false, log: () => undefined, ...extra });
  apps.push(app);
  return app;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function wordCount(): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('lines', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.split(' '))
    .groupBy((_k, word) => word, { valueSerde: Serdes.string() })
    .count({ storeName: 'counts' })
    .toStream()
    .to('counts-out', { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  return builder.build();
}

const LINES = ['a b c', 'b c d', 'c d e', 'a a a'];

describe('KafkaStreams, embedded', () => {
  it('deletes committed records from the repartition topic, and keeps counting after the deletion', async () => {
    const broker = new InMemoryBroker({ defaultPartitions: 1 });
    broker.createTopic('lines', 2);
    const app = embedded(wordCount(), broker, { repartitionPurgeIntervalMs: 20 });
    await app.start();
    await app.waitForState('RUNNING');
    const repartition = broker.topicNames().find((t) => t.endsWith('-repartition'))!;
    const send = (from: number, to: number): void => {
      for (let i = from; i < to; i++) broker.append({ topic: 'lines', key: Buffer.from(`k${i}`), value: Buffer.from(LINES[i % 4]!), timestamp: i, headers: {} });
    };
    const total = (words: number): boolean => ['a', 'b', 'c', 'd', 'e'].reduce((sum, w) => sum + (app.store<string, number>('counts').get(w) ?? 0), 0) === words;
    const purged = (): number => broker.startOffset(repartition, 0) + broker.startOffset(repartition, 1);
    const stored = (): number => broker.read(repartition, 0, 0).length + broker.read(repartition, 1, 0).length;
    send(0, 200);
    await until('200 lines counted', () => total(600));
    await until('the repartition topic purged to its end', () => purged() === 600);
    expect(stored()).toBe(0);
    send(200, 400);
    await until('400 lines counted', () => total(1_200));
    expect(app.store<string, number>('counts').get('a')).toBe(400);
    await until('purged again', () => purged() === 1_200);
    expect(stored()).toBe(0);
    expect(broker.endOffset(repartition, 0) + broker.endOffset(repartition, 1)).toBe(1_200);
  });

  it('counts words across partitions as the test driver does, and commits the group offsets on close', async () => {
    const broker = new InMemoryBroker({ defaultPartitions: 1 });
    broker.createTopic('lines', 3);
    const app = embedded(wordCount(), broker);
    await app.start();
    await app.waitForState('RUNNING');
    expect(app.taskIds()).toEqual(['0_0', '0_1', '0_2', '1_0', '1_1', '1_2']);
    for (let i = 0; i < 400; i++) broker.append({ topic: 'lines', key: Buffer.from(`k${i}`), value: Buffer.from(LINES[i % 4]!), timestamp: i, headers: {} });

    const driver = new TopologyTestDriver(wordCount());
    const input = driver.createInputTopic('lines', Serdes.string(), Serdes.string());
    for (let i = 0; i < 400; i++) input.pipeInput(`k${i}`, LINES[i % 4]!, i);
    const expected = driver.getKeyValueStore<string, number>('counts')!.all();
    await driver.close();

    await until('all words counted', () => expected.every(({ key, value }) => app.store<string, number>('counts').get(key) === value));
    expect(app.store<string, number>('counts').all()).toEqual(expected);
    expect(app.store('counts').approximateNumEntries()).toBe(expected.length);
    await app.close();
    expect(app.state).toBe('NOT_RUNNING');
    for (let p = 0; p < 3; p++) expect(broker.committedOffset('embedded-test', 'lines', p)).toBe(broker.endOffset('lines', p));
    // The last count of each word on the output topic is the final one.
    const latest = new Map<string, number>();
    for (let p = 0; p < 3; p++) for (const r of broker.read('counts-out', p, 0)) latest.set(r.key!.toString(), Number(r.value!.readBigInt64BE(0)));
    expect(Object.fromEntries(latest)).toEqual(Object.fromEntries(expected.map((e) => [e.key, e.value])));
  });

  it('merges a key\'s updates within a commit interval in the record cache, and sends every one with cacheMaxEntries 0', async () => {
    const run = async (cacheMaxEntries: number | undefined): Promise<{ outputs: number; latest: Map<string, number> }> => {
      const broker = new InMemoryBroker({ defaultPartitions: 1 });
      broker.createTopic('lines', 2);
      // Written before the start: the whole backlog is processed within the first commit interval.
      for (let i = 0; i < 400; i++) broker.append({ topic: 'lines', key: Buffer.from(`k${i}`), value: Buffer.from(LINES[i % 4]!), timestamp: i, headers: {} });
      const app = embedded(wordCount(), broker, { commitIntervalMs: 60_000, ...(cacheMaxEntries === undefined ? {} : { cacheMaxEntries }) });
      await app.start();
      await app.waitForState('RUNNING');
      await until('all lines processed', async () => app.snapshot().processedInput === 400 && [...(await app.lag()).values()].every((lag) => lag === 0) && app.pendingRecords() === 0);
      await app.close();
      const latest = new Map<string, number>();
      let outputs = 0;
      for (let p = 0; p < 2; p++) {
        for (const r of broker.read('counts-out', p, 0)) {
          outputs++;
          latest.set(r.key!.toString(), Number(r.value!.readBigInt64BE(0)));
        }
      }
      return { outputs, latest };
    };
    const words = LINES.flatMap((line) => line.split(' '));
    const truth = new Map<string, number>();
    // Each of the four lines is written 100 times.
    for (const word of words) truth.set(word, (truth.get(word) ?? 0) + 100);
    const cached = await run(undefined);
    expect(cached.latest).toEqual(truth);
    // 5 words, each updated 100+ times before the (final) commit: one output each.
    expect(cached.outputs).toBe(5);
    const uncached = await run(0);
    expect(uncached.latest).toEqual(truth);
    expect(uncached.outputs).toBe(words.length * 100);
  });

  it('with cacheMaxEntries, sends the oldest cached update once the cache is full', async () => {
    const broker = new InMemoryBroker({ defaultPartitions: 1 });
    for (let i = 0; i < 10; i++) broker.append({ topic: 'lines', key: null, value: Buffer.from(`w${i}`), timestamp: i, headers: {} });
    const app = embedded(wordCount(), broker, { commitIntervalMs: 60_000, cacheMaxEntries: 4 });
    await app.start();
    await app.waitForState('RUNNING');
    await until('all lines processed', async () => app.snapshot().processedInput === 10 && [...(await app.lag()).values()].every((lag) => lag === 0) && app.pendingRecords() === 0);
    // Ten distinct words through a cache of four: six sent on eviction before any commit.
    expect(broker.read('counts-out', 0, 0).map((r) => r.key!.toString())).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
    await app.close();
    expect(broker.read('counts-out', 0, 0)).toHaveLength(10);
  });

  it('store(name) gives a window store its window view, as API.md queries it', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<{ amount: number }>() })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(60_000))
      .count({ storeName: 'payments-per-minute' });
    const broker = new InMemoryBroker();
    broker.createTopic('payments', 1);
    const app = embedded(builder.build(), broker);
    await app.start();
    for (let i = 0; i < 5; i++) broker.append({ topic: 'payments', key: Buffer.from('alice'), value: Buffer.from('{"amount":1}'), timestamp: 1_000 + i, headers: {} });
    const view = app.store('payments-per-minute') as unknown as ReadOnlyWindowStore<string, number>;
    await until('five payments counted', () => view.fetch('alice', 0) === 5);
    expect(view.fetch('alice', 0, 120_000)).toEqual([{ key: 0, value: 5 }]);
    expect(app.windowStore<string, number>('payments-per-minute').fetch('alice', 0)).toBe(5);
  });

  it('writes a model\'s drift alerts to the topic its drift options name', async () => {
    const registry = await ModelRegistry.open(fileURLToPath(new URL('../../models', import.meta.url)), {
      pollIntervalMs: 0,
      workers: 0,
      drift: { windowSize: 200, checkEvery: 50, threshold: 0.2, topic: 'model-drift' },
    });
    try {
      const builder = new StreamsBuilder();
      builder
        .stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Record<string, number>>() })
        .predict(registry.model<Record<string, number>>('fraud', { version: '2' }))
        .to('scored', { valueSerde: Serdes.json() });
      const broker = new InMemoryBroker();
      broker.createTopic('payments', 1);
      const app = embedded(builder.build(), broker);
      await app.start();
      const payment = { amount: 50_000, hour: 3, merchantRisk: 0.9, distanceFromHomeKm: 4_000, txCountLastHour: 0, foreign: 1, cardAgeDays: 2 };
      for (let i = 0; i < 400; i++) broker.append({ topic: 'payments', key: Buffer.from(`c${i}`), value: Buffer.from(JSON.stringify(payment)), timestamp: i, headers: {} });
      await until('400 scored', () => broker.endOffset('scored', 0) === 400);
      await until('drift alerts written', () => broker.endOffset('model-drift', 0) > 0);
      const alerts = broker.read('model-drift', 0, 0).map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()) as { psi: number; kind: string }] as const);
      expect(alerts.map(([key]) => key)).toContain('fraud@2/amount');
      for (const [, alert] of alerts) expect(alert.psi).toBeGreaterThan(0.2);
      await app.close();
    } finally {
      await registry.close();
    }
  });

  it('writes shadow comparisons to the topic the shadow names', async () => {
    const registry = await ModelRegistry.open(fileURLToPath(new URL('../../models', import.meta.url)), { pollIntervalMs: 0, workers: 0, drift: false });
    try {
      const builder = new StreamsBuilder();
      builder
        .stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Record<string, number>>() })
        .predict(registry.shadow<Record<string, number>>('fraud', { primary: '2', candidate: '1', topic: 'fraud-shadow' }))
        .to('scored', { valueSerde: Serdes.json() });
      const broker = new InMemoryBroker();
      broker.createTopic('payments', 1);
      const app = embedded(builder.build(), broker);
      await app.start();
      const payment = { amount: 120, hour: 14, merchantRisk: 0.2, distanceFromHomeKm: 3, txCountLastHour: 1, foreign: 0, cardAgeDays: 400 };
      for (let i = 0; i < 50; i++) broker.append({ topic: 'payments', key: Buffer.from(`c${i}`), value: Buffer.from(JSON.stringify(payment)), timestamp: 5_000 + i, headers: {} });
      await until('50 scored', () => broker.endOffset('scored', 0) === 50);
      await until('50 comparisons written', () => broker.endOffset('fraud-shadow', 0) === 50);
      const written = broker.read('fraud-shadow', 0, 0);
      expect(written.map((r) => r.key!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
      expect(written.map((r) => r.timestamp)).toEqual(Array.from({ length: 50 }, (_, i) => 5_000 + i));
      for (const r of written) expect(JSON.parse(r.value!.toString())).toMatchObject({ model: 'fraud', primaryVersion: '2', candidateVersion: '1' });
      await app.close();
    } finally {
      await registry.close();
    }
  });

  it('names the store type when a store is queried with the wrong method', async () => {
    const app = embedded(wordCount(), new InMemoryBroker());
    expect(() => app.windowStore('counts')).toThrow(/key-value store: query it with store\('counts'\)/);
    expect(() => app.store('nope')).toThrow(/no store named 'nope'.*counts/);
  });

  it('reports a partition whose lag grows while its position does not move, and fails on it with failOnStall', async () => {
    // A model that never answers: the predict operator fills up and the task stops pulling.
    const stuck: Model<unknown, { label: string }> = {
      name: 'stuck',
      ready: async () => undefined,
      close: async () => undefined,
      scoreBatch: () => new Promise<ScoreOutcome<{ label: string }>[]>(() => undefined),
    };
    const builder = new StreamsBuilder();
    builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.json() }).predict(stuck, { maxBatchSize: 4, concurrency: 1 }).to('out');
    const broker = new InMemoryBroker();
    broker.createTopic('in', 1);
    const app = embedded(builder.build(), broker, { watchdog: { intervalMs: 50, failOnStall: true } });
    const stalls: StallReport[] = [];
    app.stalls$.subscribe((s) => stalls.push(s));
    await app.start();
    await app.waitForState('RUNNING');
    let i = 0;
    const feeder = setInterval(() => {
      for (let n = 0; n < 20; n++) broker.append({ topic: 'in', key: Buffer.from(`k${i}`), value: Buffer.from(JSON.stringify({ i: i++ })), timestamp: i, headers: {} });
    }, 10);
    try {
      await until('the app to fail on the stall', () => app.state === 'ERROR');
    } finally {
      clearInterval(feeder);
    }
    expect(stalls.length).toBeGreaterThan(0);
    expect(stalls[0]).toMatchObject({ topic: 'in', partition: 0, taskId: '0_0' });
    expect(stalls[0]!.lag).toBeGreaterThan(stalls[0]!.previousLag);
    expect(app.error?.message).toMatch(/partition in:0 \(task 0_0\) stalled at offset \d+ with lag \d+/);
  });

  it('stops pulling a partition while its task is backpressured and resumes after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: Model<{ i: number }, { label: string }> = {
      name: 'slow',
      ready: async () => undefined,
      close: async () => undefined,
      scoreBatch: async (inputs) => {
        await gate;
        return inputs.map(() => ({ ok: true as const, prediction: { label: 'ok', model: 'slow', version: '1', latencyMs: 0 } }));
      },
    };
    const builder = new StreamsBuilder();
    builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.json<{ i: number }>() }).predict(slow, { maxBatchSize: 10, concurrency: 1 }).to('out', { valueSerde: Serdes.json() });
    const broker = new InMemoryBroker();
    broker.createTopic('in', 1);
    const app = embedded(builder.build(), broker, { maxQueuedRecordsPerPartition: 50 });
    await app.start();
    await app.waitForState('RUNNING');
    for (let i = 0; i < 1_000; i++) broker.append({ topic: 'in', key: Buffer.from(`k${i}`), value: Buffer.from(JSON.stringify({ i })), timestamp: i, headers: {} });
    await new Promise((r) => setTimeout(r, 200));
    // Bounded: a batch or two in the operator, at most a queue's worth (plus one fetch) waiting.
    expect(app.pendingRecords()).toBeLessThan(50 + 500 + 20);
    expect(app.snapshot().processedInput).toBeLessThan(100);
    release();
    await until('every record scored', () => broker.endOffset('out', 0) === 1_000);
    const out = broker.read('out', 0, 0).map((r) => (JSON.parse(r.value!.toString()) as { i: number }).i);
    expect(out).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });
});

describe('PartitionQueue', () => {
  const record = (topic: string, offset: number, timestamp: number) => ({ topic, partition: 0, offset, key: null, value: null, timestamp, headers: {} });

  it('drops records delivered again and picks the smallest timestamp across queues', () => {
    const a = new PartitionQueue('a', 0);
    const b = new PartitionQueue('b', 0);
    expect(a.push([record('a', 0, 10), record('a', 1, 30)])).toBe(2);
    expect(a.push([record('a', 1, 30), record('a', 2, 50)])).toBe(1);
    b.push([record('b', 0, 20)]);
    const order: string[] = [];
    let q;
    while ((q = nextQueue([a, b])) !== undefined) order.push(`${q.topic}${q.shift()!.offset}`);
    expect(order).toEqual(['a0', 'b0', 'a1', 'a2']);
  });

  it('waits for an empty partition that still has records to fetch, up to the idle limit', () => {
    const orders = new PartitionQueue('orders', 0);
    const customers = new PartitionQueue('customers', 0);
    orders.push([record('orders', 0, 100)]);
    customers.knownEnd = 5;
    customers.nextOffset = 0;
    expect(nextQueue([orders, customers], 1_000, 500)).toBeUndefined();
    expect(nextQueue([orders, customers], 1_400, 500)).toBeUndefined();
    expect(nextQueue([orders, customers], 1_600, 500)).toBe(orders);
    customers.push([record('customers', 0, 50)]);
    expect(nextQueue([orders, customers], 1_700, 500)).toBe(customers);
  });
});
