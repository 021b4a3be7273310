/**
 * `KafkaStreams` against the real broker and Redis: word count end to end, a windowed
 * aggregation, a stream–table join over co-partitioned topics, a graceful restart with exact
 * counts, the dead-letter topic, and fail-fast misconfiguration.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaStreams, Serdes, StreamsBuilder, TimeWindows, type Topology } from 'tributary';
import { brokers, createTopic, getAdmin, produce, readAll, redisUrl, testApps, unique, waitUntil } from './kafka-helpers.ts';

const { app, closeAll } = testApps();

afterAll(closeAll);

function wordCount(input: string, output: string): Topology {
  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter((w) => w.length > 0))
    .groupBy((_k, word) => word, { valueSerde: Serdes.string() })
    .count({ storeName: 'counts' })
    .toStream()
    .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.int64() });
  return b.build();
}

function expectedWordCounts(lines: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) for (const w of line.toLowerCase().split(/\W+/).filter((x) => x.length > 0)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

const SENTENCES = ['all streams lead to kafka', 'hello kafka streams', 'join kafka summit', 'the quick brown fox', 'streams flow like rivers'];

describe('KafkaStreams on Kafka and Redis', () => {
  it('counts words end to end through a repartition topic, with state in Redis and interactive queries', async () => {
    const input = unique('lines');
    const output = unique('word-counts');
    await createTopic(input, 3);
    await createTopic(output, 3);
    const lines = Array.from({ length: 600 }, (_, i) => SENTENCES[i % SENTENCES.length]!);
    await produce(input, lines.map((line, i) => ({ key: `line-${i}`, value: line })));
    const id = unique('wc');
    const streams = app(wordCount(input, output), id);
    await streams.start();
    await streams.waitForState('RUNNING');
    expect(streams.taskIds()).toEqual(['0_0', '0_1', '0_2', '1_0', '1_1', '1_2']);
    const expected = expectedWordCounts(lines);
    await waitUntil('every word counted', () => [...expected].every(([w, n]) => streams.store<string, number>('counts').get(w) === n));
    await streams.close();
    expect(streams.state).toBe('NOT_RUNNING');
    const latest = new Map((await readAll(output)).map((m) => [m.key, m.valueBytes]));
    for (const [word, count] of expected) expect(Serdes.int64().deserialize(latest.get(word)!, output)).toBe(count);
  });

  it('restarts gracefully mid-stream and ends with exact counts from the Redis checkpoint', async () => {
    const input = unique('lines');
    const output = unique('word-counts');
    await createTopic(input, 2);
    await createTopic(output, 2);
    const id = unique('wc-restart');
    const first = Array.from({ length: 3_000 }, (_, i) => SENTENCES[i % SENTENCES.length]!);
    await produce(input, first.map((line, i) => ({ key: `a-${i}`, value: line })));
    const one = app(wordCount(input, output), id, { maxQueuedRecordsPerPartition: 100 });
    await one.start();
    await waitUntil('some progress', () => one.snapshot().processedInput > 200, 60_000, 20);
    await one.close();
    const processedBefore = one.snapshot().processedInput;
    const second = Array.from({ length: 1_000 }, (_, i) => SENTENCES[(i + 2) % SENTENCES.length]!);
    await produce(input, second.map((line, i) => ({ key: `b-${i}`, value: line })));
    const two = app(wordCount(input, output), id);
    await two.start();
    const expected = expectedWordCounts([...first, ...second]);
    await waitUntil('every word counted after the restart', () => [...expected].every(([w, n]) => two.store<string, number>('counts').get(w) === n));
    // The second run resumed where the first committed: it did not re-read what the first processed.
    expect(two.snapshot().processedInput).toBe(first.length + second.length - processedBefore);
    await two.close();
  });

  it('aggregates in tumbling windows, read back through the window store', async () => {
    const input = unique('clicks');
    await createTopic(input, 2);
    const builder = new StreamsBuilder();
    builder
      .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ page: string }>() })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(60_000))
      .count({ storeName: 'clicks-per-minute', retention: 3_600_000 });
    const base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    const records = [];
    for (let i = 0; i < 300; i++) records.push({ key: `user-${i % 3}`, value: JSON.stringify({ page: `p${i}` }), timestamp: base + i * 500 });
    await produce(input, records);
    const streams = app(builder.build(), unique('windows'));
    await streams.start();
    const windows = () => streams.windowStore<string, number>('clicks-per-minute');
    // 300 records 0.5 s apart, 100 per user → windows [0,60s) [60s,120s) [120s,180s) hold 40, 40 and 20 of each user's
    await waitUntil('windows counted', () => windows().fetch('user-0', base, base + 120_000).reduce((n, w) => n + w.value, 0) === 100);
    const perUser = windows().fetch('user-1', base, base + 180_000);
    expect(perUser.map((w) => w.key)).toEqual([base, base + 60_000, base + 120_000]);
    expect(perUser.map((w) => w.value)).toEqual([40, 40, 20]);
    expect(windows().fetchAll(base, base + 180_000).length).toBe(9);
    await streams.close();
  });

  it('joins a stream with a table over two co-partitioned topics', async () => {
    const orders = unique('orders');
    const customers = unique('customers');
    const enriched = unique('enriched');
    await Promise.all([createTopic(orders, 3), createTopic(customers, 3), createTopic(enriched, 3)]);
    await produce(customers, Array.from({ length: 30 }, (_, i) => ({ key: `c${i}`, value: JSON.stringify({ name: `Customer ${i}` }), timestamp: 1_000 })));
    await produce(orders, Array.from({ length: 90 }, (_, i) => ({ key: `c${i % 30}`, value: JSON.stringify({ id: i, amount: i * 2 }), timestamp: 2_000 + i })));
    const builder = new StreamsBuilder();
    const table = builder.table(customers, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ name: string }>() });
    builder
      .stream(orders, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ id: number; amount: number }>() })
      .join(table, (order, customer) => ({ ...order, customer: customer.name }))
      .to(enriched, { keySerde: Serdes.string(), valueSerde: Serdes.json() });
    const streams = app(builder.build(), unique('join'));
    await streams.start();
    await waitUntil('90 joined orders', async () => (await readAll(enriched)).length >= 90, 60_000, 500);
    const out = await readAll(enriched);
    expect(out).toHaveLength(90);
    for (const message of out) {
      const value = JSON.parse(message.value!) as { id: number; customer: string };
      expect(value.customer).toBe(`Customer ${value.id % 30}`);
      expect(message.key).toBe(`c${value.id % 30}`);
    }
    await streams.close();
  });

  it('loads a global table from every partition before processing, and joins a stream with it', async () => {
    const products = unique('products');
    const sales = unique('sales');
    const out = unique('sales-named');
    await Promise.all([createTopic(products, 3), createTopic(sales, 2), createTopic(out, 2)]);
    await produce(products, Array.from({ length: 12 }, (_, i) => ({ key: `p${i}`, value: JSON.stringify({ title: `Product ${i}` }), timestamp: 1_000 })));
    await produce(sales, Array.from({ length: 40 }, (_, i) => ({ key: `s${i}`, value: JSON.stringify({ product: `p${i % 12}`, qty: i }), timestamp: 2_000 + i })));
    const builder = new StreamsBuilder();
    const catalog = builder.globalTable(products, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ title: string }>() }, { storeName: 'catalog' });
    builder
      .stream(sales, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ product: string; qty: number }>() })
      .join(catalog, (_k, sale) => sale.product, (sale, product) => ({ ...sale, title: product.title }))
      .to(out, { keySerde: Serdes.string(), valueSerde: Serdes.json() });
    const streams = app(builder.build(), unique('global'));
    await streams.start();
    // start() resolves only once the global table is loaded: every product is there already.
    expect(streams.store<string, { title: string }>('catalog').approximateNumEntries()).toBe(12);
    await waitUntil('40 joined sales', async () => (await readAll(out)).length >= 40, 60_000, 500);
    const joined = (await readAll(out)).map((m) => JSON.parse(m.value!) as { product: string; title: string });
    expect(joined).toHaveLength(40);
    for (const sale of joined) expect(sale.title).toBe(`Product ${sale.product.slice(1)}`);
    await streams.close();
  });

  it('with createTopics, creates a missing output topic with the input\'s partition count', async () => {
    const input = unique('ct-in');
    const output = unique('ct-out');
    await createTopic(input, 3);
    const builder = new StreamsBuilder();
    builder.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() }).to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() });
    const streams = app(builder.build(), unique('create-topics'), { createTopics: true });
    await streams.start();
    await streams.close();
    const offsets = await (await getAdmin()).fetchTopicOffsets(output);
    expect(offsets.map((o) => o.partition).sort()).toEqual([0, 1, 2]);
  });

  it('dead-letters an output record larger than the broker takes, and goes on', async () => {
    const input = unique('docs');
    const output = unique('docs-out');
    await createTopic(input, 1);
    await createTopic(output, 1);
    const builder = new StreamsBuilder();
    builder
      .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ size: number }>() })
      .mapValues((d) => 'x'.repeat(d.size))
      .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() });
    await produce(input, [
      { key: 'small', value: '{"size": 10}' },
      { key: 'huge', value: '{"size": 2000000}' },
      { key: 'after', value: '{"size": 20}' },
    ]);
    const id = unique('too-large');
    const streams = app(builder.build(), id);
    await streams.start();
    await waitUntil('two outputs', async () => (await readAll(output)).length === 2, 60_000, 300);
    expect(streams.state).toBe('RUNNING');
    await streams.close();
    expect((await readAll(output)).map((m) => m.key)).toEqual(['small', 'after']);
    const dead = await readAll(`${id}-dlq`);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.key).toBe('huge');
    expect(dead[0]!.value).toBe('{"size": 2000000}');
    expect(dead[0]!.headers).toMatchObject({ stage: 'produce', topic: input, offset: '1' });
    expect(dead[0]!.headers.error).toMatch(/is 2000004 bytes, more than the 1048076 bytes/);
  });

  it('dead-letters a record without a key bound for a compacted topic (the broker would refuse its whole batch)', async () => {
    const input = unique('cmp-in');
    const output = unique('cmp-out');
    await createTopic(input, 1);
    await (await getAdmin()).createTopics({ topics: [{ topic: output, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await waitUntil('the compacted topic', async () => (await (await getAdmin()).fetchTopicOffsets(output).catch(() => [])).length === 1, 30_000, 100);
    const builder = new StreamsBuilder();
    builder
      .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .selectKey((key) => (key === 'none' ? null : key))
      .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.string() });
    await produce(input, [
      { key: 'a', value: '1' },
      { key: 'none', value: '2' },
      { key: 'b', value: '3' },
    ]);
    const id = unique('compacted');
    const streams = app(builder.build(), id);
    await streams.start();
    await waitUntil('two outputs', async () => (await readAll(output)).length === 2, 60_000, 300);
    await streams.close();
    expect((await readAll(output)).map((m) => m.key)).toEqual(['a', 'b']);
    const dead = await readAll(`${id}-dlq`);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers).toMatchObject({ stage: 'produce', topic: input, offset: '1' });
    expect(dead[0]!.headers.error).toMatch(/has no key, and '.*' is compacted/);
  });

  it('sends malformed records to the dead-letter topic with the reason and goes on', async () => {
    const input = unique('payments');
    const output = unique('amounts');
    await createTopic(input, 1);
    await createTopic(output, 1);
    const builder = new StreamsBuilder();
    builder
      .stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<{ amount: number }>() })
      .mapValues((p) => p.amount)
      .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.json() });
    await produce(input, [
      { key: 'a', value: '{"amount": 1}' },
      { key: 'b', value: '{not json' },
      { key: 'c', value: '{"amount": 3}' },
    ]);
    const id = unique('dlq');
    const streams = app(builder.build(), id);
    await streams.start();
    await waitUntil('two outputs', async () => (await readAll(output)).length === 2, 60_000, 300);
    await streams.close();
    const dead = await readAll(`${id}-dlq`);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.value).toBe('{not json');
    expect(dead[0]!.headers).toMatchObject({ stage: 'deserialize', topic: input, partition: '0', offset: '1' });
    expect(dead[0]!.headers.error).toMatch(/JSON/i);
  });

  it('fails fast with one clear message on a missing topic', async () => {
    const builder = new StreamsBuilder();
    const missing = unique('no-such-topic');
    builder.stream(missing).to(unique('out'));
    const streams = app(builder.build(), unique('missing'));
    await expect(streams.start()).rejects.toThrow(new RegExp(`'${missing}' \\(input\\).*do not exist: create them first`));
    expect(streams.state).toBe('ERROR');
  });

  it('fails fast on a join of topics that are not co-partitioned', async () => {
    const left = unique('left');
    const right = unique('right');
    await createTopic(left, 2);
    await createTopic(right, 3);
    const builder = new StreamsBuilder();
    const table = builder.table(right);
    builder.stream(left).join(table, (a, b) => `${String(a)}${String(b)}`).to(left);
    const streams = app(builder.build(), unique('copart'));
    await expect(streams.start()).rejects.toThrow(/co-partitioned.*has 2.*has 3|co-partitioned.*has 3.*has 2/);
  });

  it('fails fast when Kafka or Redis cannot be reached', async () => {
    const builder = new StreamsBuilder();
    builder.stream('x').to('y');
    const noKafka = app(builder.build(), unique('nokafka'), { brokers: ['127.0.0.1:1'] });
    await expect(noKafka.start()).rejects.toThrow(/127\.0\.0\.1:1/);
    const input = unique('in');
    await createTopic(input, 1);
    const b2 = new StreamsBuilder();
    b2.stream(input).to(input);
    const noRedis = app(b2.build(), unique('noredis'), { redis: 'redis://127.0.0.1:1' });
    await expect(noRedis.start()).rejects.toThrow(/redis:\/\/127\.0\.0\.1:1/);
  });
});
