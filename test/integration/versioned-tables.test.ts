/**
 * Versioned tables on the real broker and Redis: a stream joined with a versioned table under a
 * grace period, stopped and restarted mid-stream (the table's history and the records waiting in
 * the grace buffer come back from Redis), gives exactly what the test driver gives for the same
 * input, and the restored history answers `app.versionedStore(name)`'s as-of and multi-version
 * reads; the same through a derived table (mapValues of an unversioned table) materialized as a
 * versioned store, whose history also answers the HTTP interactive query; the same through a
 * stream's count materialized as a versioned store (its restored history compared with the
 * driver's, read by read), and a table groupBy count through its repartition topic; and Kafka's
 * VersionedKeyValueStoreIntegrationTest.shouldRestore.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { Materialized, Serdes, Stores, StreamsBuilder, TopologyTestDriver, type KafkaStreams, type ReadOnlyVersionedKeyValueStore, type Topology } from 'tributary';
import { queryRoutes } from '../../src/runtime/query-server.ts';
import { DataTracker, DELETE_VALUE_KEYWORD, versionedStoreContentChecker } from '../processors/versioned-store-checker.ts';
import { createTopic, freePort, produce, readAll, testApps, unique, waitUntil, type TestMessage } from './kafka-helpers.ts';

const apps = testApps();
afterAll(() => apps.closeAll());

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };

function pricedOrders(prices: string, orders: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const table = builder.table<string, string>(prices, strings, { storeName: 'prices', versioned: { historyRetention: '1h' } });
  builder.stream<string, string>(orders, strings)
    .leftJoin(table, (order, price) => `${order}@${price}`, { name: 'priced', gracePeriod: 100 })
    .to(output, strings);
  return builder.build();
}

/** The same join against `raw.mapValues(toUpperCase, Materialized.as(Stores.persistentVersionedKeyValueStore('price-history', 1h)))`, `raw` unversioned. */
function pricedOrdersThroughDerivedHistory(prices: string, orders: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const history = builder.table<string, string>(prices, strings, { storeName: 'raw-prices' })
    .mapValues((v) => v.toUpperCase(), Materialized.as(Stores.persistentVersionedKeyValueStore('price-history', '1h')));
  builder.stream<string, string>(orders, strings)
    .leftJoin(history, (order, price) => `${order}@${price}`, { name: 'priced', gracePeriod: 100 })
    .to(output, strings);
  return builder.build();
}

type Row = { key: string; value: string; timestamp: number };
const sorted = (rows: Row[]): Row[] => [...rows].sort((a, b) => a.key.localeCompare(b.key) || a.timestamp - b.timestamp || a.value.localeCompare(b.value));

// Table versions, some out of order; then orders, some out of order within the grace period.
const priceHistory: TestMessage[] = [
  { key: 'apple', value: 'a1', timestamp: 1_000 }, { key: 'apple', value: 'a3', timestamp: 3_000 }, { key: 'apple', value: 'a2', timestamp: 2_000 },
  { key: 'pear', value: 'p1', timestamp: 1_500 }, { key: 'pear', value: null, timestamp: 2_500 }, { key: 'plum', value: 'u1', timestamp: 500 },
];
const firstOrders: TestMessage[] = [
  { key: 'apple', value: 'o1', timestamp: 1_200 }, { key: 'apple', value: 'o2', timestamp: 2_100 }, { key: 'apple', value: 'o3', timestamp: 2_050 },
  { key: 'pear', value: 'o4', timestamp: 2_000 }, { key: 'pear', value: 'o5', timestamp: 2_600 }, { key: 'plum', value: 'o6', timestamp: 400 },
  { key: 'apple', value: 'o7', timestamp: 3_500 }, { key: 'kiwi', value: 'o8', timestamp: 4_000 },
];
// After the restart: kiwi's price arrives after its order, within the grace, then later orders pass it.
const latePrice: TestMessage[] = [{ key: 'kiwi', value: 'k1', timestamp: 3_950 }];
const secondOrders: TestMessage[] = [
  { key: 'kiwi', value: 'o9', timestamp: 5_000 }, { key: 'apple', value: 'o10', timestamp: 4_990 }, { key: 'plum', value: 'o11', timestamp: 6_000 },
];

/**
 * Ends a grace-join run: a record far ahead on each order partition releases every waiting order,
 * then, once `output` holds as many records as `expected`, closes `app` and compares them.
 */
async function flushAndCompare(orders: string, output: string, app: KafkaStreams, expected: Row[]): Promise<void> {
  await produce(orders, [0, 1].map((partition) => ({ key: 'flush', value: 'f', timestamp: 1_000_000, partition })));
  await waitUntil('every order joined', async () => (await readAll(output)).length >= expected.length);
  await app.close();
  const actual = (await readAll(output)).map((m) => ({ key: m.key!, value: m.value!, timestamp: m.timestamp }));
  expect(sorted(actual)).toEqual(expected);
}

async function driverOutput(topology: Topology): Promise<Row[]> {
  const driver = new TopologyTestDriver(topology);
  const prices = driver.createInputTopic('prices-in', Serdes.string(), Serdes.nullable(Serdes.string()));
  const orders = driver.createInputTopic('orders-in', Serdes.string(), Serdes.string());
  for (const m of priceHistory) await prices.pipeInput(m.key!, m.value, m.timestamp!);
  for (const m of firstOrders) await orders.pipeInput(m.key!, m.value!, m.timestamp!);
  for (const m of latePrice) await prices.pipeInput(m.key!, m.value, m.timestamp!);
  for (const m of secondOrders) await orders.pipeInput(m.key!, m.value!, m.timestamp!);
  await orders.pipeInput('flush', 'f', 1_000_000);
  const out = driver.createOutputTopic('out', Serdes.string(), Serdes.string()).readRecordsToList().map(({ key, value, timestamp }) => ({ key, value, timestamp }));
  await driver.close();
  return out;
}

/** `events.groupByKey().count(Materialized.as(Stores.persistentVersionedKeyValueStore('counts', 1h)))`, and orders joined with it as of each order's time, with a grace period. */
function countedOrders(events: string, orders: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const counts = builder.stream<string, string>(events, strings).groupByKey().count(Materialized.as(Stores.persistentVersionedKeyValueStore('counts', '1h')));
  builder.stream<string, string>(orders, strings)
    .leftJoin(counts, (order, count) => `${order}#${count}`, { name: 'counted', gracePeriod: 100 })
    .to(output, strings);
  return builder.build();
}

// Events, some out of order (apple's 2 000 after its 3 000: the count's time stays 3 000); the orders are firstOrders and secondOrders.
const firstEvents: TestMessage[] = [
  { key: 'apple', value: 'e', timestamp: 1_000 }, { key: 'apple', value: 'e', timestamp: 3_000 }, { key: 'apple', value: 'e', timestamp: 2_000 },
  { key: 'pear', value: 'e', timestamp: 1_500 }, { key: 'pear', value: 'e', timestamp: 2_500 }, { key: 'pear', value: 'e', timestamp: 1_800 },
  { key: 'plum', value: 'e', timestamp: 500 },
];
// After the restart: kiwi's first event arrives after its waiting order, within the grace; fig's is older than every count; apple's is newer.
const lateEvents: TestMessage[] = [
  { key: 'kiwi', value: 'e', timestamp: 3_950 }, { key: 'fig', value: 'e', timestamp: 100 }, { key: 'apple', value: 'e', timestamp: 6_000 },
];

/** Every as-of read (at each of `times`) and the whole history of `keys`, as a versioned store answers them. */
function historyReads<K extends string, V>(store: ReadOnlyVersionedKeyValueStore<K, V>, keys: K[], times: number[]): Record<string, unknown> {
  const reads: Record<string, unknown> = {};
  for (const key of keys) {
    reads[key] = store.get(key);
    reads[`${key} versions`] = store.getVersions(key, { order: 'ascending' });
    for (const asOf of times) reads[`${key}@${asOf}`] = store.get(key, asOf);
  }
  return reads;
}

const countHistory = (store: ReadOnlyVersionedKeyValueStore<string, number>): Record<string, unknown> =>
  historyReads(store, ['apple', 'pear', 'plum', 'kiwi', 'fig', 'none'], [0, 100, 499, 500, 999, 1_000, 1_499, 1_500, 1_800, 2_000, 2_499, 2_500, 2_999, 3_000, 3_949, 3_950, 5_999, 6_000, 1_000_000]);

/** The driver's output for the count join's input, and its count history after the first orders and at the end. */
async function driverCounts(): Promise<{ output: Row[]; afterFirst: Record<string, unknown>; atEnd: Record<string, unknown> }> {
  const driver = new TopologyTestDriver(countedOrders('events-in', 'orders-in', 'out'));
  const events = driver.createInputTopic('events-in', Serdes.string(), Serdes.string());
  const orders = driver.createInputTopic('orders-in', Serdes.string(), Serdes.string());
  const counts = driver.getVersionedKeyValueStore<string, number>('counts')!;
  for (const m of firstEvents) await events.pipeInput(m.key!, m.value!, m.timestamp!);
  for (const m of firstOrders) await orders.pipeInput(m.key!, m.value!, m.timestamp!);
  const afterFirst = countHistory(counts);
  for (const m of lateEvents) await events.pipeInput(m.key!, m.value!, m.timestamp!);
  for (const m of secondOrders) await orders.pipeInput(m.key!, m.value!, m.timestamp!);
  await orders.pipeInput('flush', 'f', 1_000_000);
  const atEnd = countHistory(counts);
  const output = driver.createOutputTopic('out', Serdes.string(), Serdes.string()).readRecordsToList().map(({ key, value, timestamp }) => ({ key, value, timestamp }));
  await driver.close();
  return { output, afterFirst, atEnd };
}

/** Users per region: `users.groupBy((user, region) => [region, user]).count(...)` into a versioned store (a repartition, and subtract-then-add on a move), written out as strings. */
function regionCounts(users: string, output: string): Topology {
  const builder = new StreamsBuilder();
  builder.table<string, string>(users, strings, { storeName: 'users' })
    .groupBy((user, region) => [region, user] as const, strings)
    .count(Materialized.as(Stores.persistentVersionedKeyValueStore('region-counts', '1h')))
    .toStream()
    .mapValues((count) => (count === null ? 'deleted' : String(count)))
    .to(output, strings);
  return builder.build();
}

// u1 moves from A to B, u2 is deleted, u4 comes late (A's count stays at 2 500); after the restart u3 moves and C gets a first, older user.
const firstMoves: TestMessage[] = [
  { key: 'u1', value: 'A', timestamp: 1_000 }, { key: 'u2', value: 'A', timestamp: 1_500 }, { key: 'u3', value: 'B', timestamp: 1_200 },
  { key: 'u1', value: 'B', timestamp: 2_000 }, { key: 'u2', value: null, timestamp: 2_500 }, { key: 'u4', value: 'A', timestamp: 1_800 },
];
const laterMoves: TestMessage[] = [{ key: 'u3', value: 'A', timestamp: 3_000 }, { key: 'u5', value: 'C', timestamp: 500 }];

const regionHistory = (store: ReadOnlyVersionedKeyValueStore<string, number>): Record<string, unknown> =>
  historyReads(store, ['A', 'B', 'C', 'D'], [0, 500, 999, 1_000, 1_200, 1_499, 1_500, 1_999, 2_000, 2_499, 2_500, 2_999, 3_000, 1_000_000]);

/** The driver's output and region-count history after the first moves and at the end. */
async function driverRegions(): Promise<{ output: Row[]; afterFirst: Record<string, unknown>; atEnd: Record<string, unknown> }> {
  const driver = new TopologyTestDriver(regionCounts('users-in', 'out'));
  const users = driver.createInputTopic('users-in', Serdes.string(), Serdes.nullable(Serdes.string()));
  const counts = driver.getVersionedKeyValueStore<string, number>('region-counts')!;
  for (const m of firstMoves) await users.pipeInput(m.key!, m.value, m.timestamp!);
  const afterFirst = regionHistory(counts);
  for (const m of laterMoves) await users.pipeInput(m.key!, m.value, m.timestamp!);
  const atEnd = regionHistory(counts);
  const output = driver.createOutputTopic('out', Serdes.string(), Serdes.string()).readRecordsToList().map(({ key, value, timestamp }) => ({ key, value, timestamp }));
  await driver.close();
  return { output, afterFirst, atEnd };
}

describe('versioned tables on Kafka and Redis', () => {
  it.each(['at-least-once', 'exactly-once'] as const)('%s: a grace-period join with a versioned table gives the driver\'s results across a restart', async (processingGuarantee) => {
    const [prices, orders, output] = [unique('prices'), unique('orders'), unique('priced')];
    await Promise.all([createTopic(prices, 2), createTopic(orders, 2), createTopic(output, 2)]);
    const expected = sorted(await driverOutput(pricedOrders('prices-in', 'orders-in', 'out')));
    expect(expected).toContainEqual({ key: 'kiwi', value: 'o8@k1', timestamp: 4_000 });
    expect(expected).toContainEqual({ key: 'apple', value: 'o3@a2', timestamp: 2_050 });

    const id = unique('versioned-join');
    const tableHas = (streams: KafkaStreams, key: string, value: string) => streams.store<string, string>('prices').get(key) === value;
    await produce(prices, priceHistory);
    const first = apps.app(pricedOrders(prices, orders, output), id, { processingGuarantee });
    await first.start();
    await waitUntil('the table history loaded', () => tableHas(first, 'apple', 'a3') && tableHas(first, 'plum', 'u1') && first.store<string, string>('prices').get('pear') === undefined);
    await produce(orders, firstOrders);
    // o1..o6 leave the buffer once o7/o8 pass them by the grace; o7 and o8 still wait at the restart.
    await waitUntil('the first orders joined', async () => (await readAll(output)).length >= 6);
    await first.close();

    await produce(prices, latePrice);
    const second = apps.app(pricedOrders(prices, orders, output), id, { processingGuarantee });
    await second.start();
    await waitUntil('the late price applied', () => tableHas(second, 'kiwi', 'k1'));
    // The history restored from Redis answers versioned interactive queries (VersionedKeyQuery, MultiVersionedKeyQuery).
    const history = second.versionedStore<string, string>('prices');
    expect(history.getVersions('apple', { order: 'ascending' })).toEqual([
      { value: 'a1', timestamp: 1_000, validTo: 2_000 }, { value: 'a2', timestamp: 2_000, validTo: 3_000 }, { value: 'a3', timestamp: 3_000 },
    ]);
    expect(history.getVersions('apple', { fromTime: 2_500, toTime: 2_500 })).toEqual([{ value: 'a2', timestamp: 2_000, validTo: 3_000 }]);
    expect(history.get('pear', 2_000)).toEqual({ value: 'p1', timestamp: 1_500, validTo: 2_500 });
    expect(history.get('pear')).toBeUndefined();
    expect(history.getVersions('pear', { fromTime: 2_500 })).toEqual([]);
    expect(() => second.versionedStore('priced-Buffer')).toThrow(/is a window store/);
    await produce(orders, secondOrders);
    await flushAndCompare(orders, output, second, expected);
  });

  it('a mapValues materialized as a versioned store: its history survives a restart in Redis, a grace join reads it as the driver does, and the HTTP query answers ?asOf', async () => {
    const [prices, orders, output] = [unique('derived-prices'), unique('derived-orders'), unique('derived-priced')];
    await Promise.all([createTopic(prices, 2), createTopic(orders, 2), createTopic(output, 2)]);
    const expected = sorted(await driverOutput(pricedOrdersThroughDerivedHistory('prices-in', 'orders-in', 'out')));
    // o3 (2050) meets A2, an out-of-order update kept in the derived history; kiwi's late price reaches o8.
    expect(expected).toContainEqual({ key: 'apple', value: 'o3@A2', timestamp: 2_050 });
    expect(expected).toContainEqual({ key: 'kiwi', value: 'o8@K1', timestamp: 4_000 });

    const id = unique('derived-versioned-join');
    const latest = (streams: KafkaStreams, key: string) => streams.versionedStore<string, string>('price-history').get(key)?.value;
    await produce(prices, priceHistory);
    const first = apps.app(pricedOrdersThroughDerivedHistory(prices, orders, output), id);
    await first.start();
    await waitUntil('the derived history loaded', () => latest(first, 'apple') === 'A3' && latest(first, 'plum') === 'U1' && first.store<string, string>('raw-prices').get('apple') === 'a2');
    await produce(orders, firstOrders);
    await waitUntil('the first orders joined', async () => (await readAll(output)).length >= 6);
    await first.close();

    await produce(prices, latePrice);
    const second = apps.app(pricedOrdersThroughDerivedHistory(prices, orders, output), id);
    await second.start();
    await waitUntil('the late price applied', () => latest(second, 'kiwi') === 'K1');
    const history = second.versionedStore<string, string>('price-history');
    expect(history.getVersions('apple', { order: 'ascending' })).toEqual([
      { value: 'A1', timestamp: 1_000, validTo: 2_000 }, { value: 'A2', timestamp: 2_000, validTo: 3_000 }, { value: 'A3', timestamp: 3_000 },
    ]);
    expect(history.get('pear', 2_000)).toEqual({ value: 'P1', timestamp: 1_500, validTo: 2_500 });
    expect(history.get('pear')).toBeUndefined();

    const port = await freePort();
    const routes = queryRoutes(second);
    const server: Server = createServer((request, response) => {
      if (!routes(request, response)) response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${port}/stores/price-history/apple?asOf=2500`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ store: 'price-history', key: 'apple', value: 'A2', timestamp: 2_000, validTo: 3_000 });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    await produce(orders, secondOrders);
    await flushAndCompare(orders, output, second, expected);
  });

  it.each(['at-least-once', 'exactly-once'] as const)('%s: a count materialized as a versioned store keeps its history across a restart in Redis and answers as-of reads and a grace join as the driver does', async (processingGuarantee) => {
    const [events, orders, output] = [unique('count-events'), unique('count-orders'), unique('counted')];
    await Promise.all([createTopic(events, 2), createTopic(orders, 2), createTopic(output, 2)]);
    const driver = await driverCounts();
    const expected = sorted(driver.output);
    // o5 (2 600) meets pear's count of 3 at 2 500 (its 1 800 event came late); o3 (2 050) apple's 1 (the out-of-order 2 000 counts at 3 000); kiwi's late event reaches o8.
    expect(expected).toContainEqual({ key: 'pear', value: 'o5#3', timestamp: 2_600 });
    expect(expected).toContainEqual({ key: 'apple', value: 'o3#1', timestamp: 2_050 });
    expect(expected).toContainEqual({ key: 'kiwi', value: 'o8#1', timestamp: 4_000 });
    expect(expected).toContainEqual({ key: 'plum', value: 'o6#null', timestamp: 400 });
    expect(driver.atEnd['apple@5999']).toEqual({ value: 3, timestamp: 3_000, validTo: 6_000 });

    const id = unique('versioned-count-join');
    const counts = (streams: KafkaStreams) => streams.versionedStore<string, number>('counts');
    const latestCounts = (streams: KafkaStreams, history: Record<string, unknown>) => ['apple', 'pear', 'plum', 'kiwi', 'fig'].every((key) => JSON.stringify(counts(streams).get(key)) === JSON.stringify(history[key]));
    await produce(events, firstEvents);
    const first = apps.app(countedOrders(events, orders, output), id, { processingGuarantee });
    await first.start();
    await waitUntil('the first events counted', () => latestCounts(first, driver.afterFirst));
    await produce(orders, firstOrders);
    await waitUntil('the first orders joined', async () => (await readAll(output)).length >= 6);
    await first.close();

    const second = apps.app(countedOrders(events, orders, output), id, { processingGuarantee });
    await second.start();
    await waitUntil('the counts restored', () => latestCounts(second, driver.afterFirst));
    // The history restored from Redis answers every as-of read as the driver's store did at that point.
    expect(countHistory(counts(second))).toEqual(driver.afterFirst);
    await produce(events, lateEvents);
    await waitUntil('the late events counted', () => latestCounts(second, driver.atEnd));
    expect(countHistory(counts(second))).toEqual(driver.atEnd);
    await produce(orders, secondOrders);
    await flushAndCompare(orders, output, second, expected);
  });

  it('a table groupBy count materialized as a versioned store: through its repartition topic and a restart, its updates and restored history are the driver\'s', async () => {
    const [users, output] = [unique('region-users'), unique('region-counts')];
    // One partition each: the order of the subtract and add records reaching a region (and so its versions' times) is then the driver's.
    await Promise.all([createTopic(users, 1), createTopic(output, 1)]);
    const driver = await driverRegions();
    expect(driver.atEnd['A versions']).toEqual([
      { value: 1, timestamp: 1_000, validTo: 1_500 }, { value: 2, timestamp: 1_500, validTo: 2_000 }, { value: 1, timestamp: 2_000, validTo: 2_500 },
      { value: 1, timestamp: 2_500, validTo: 3_000 }, { value: 2, timestamp: 3_000 },
    ]);
    expect(driver.atEnd['C@500']).toEqual({ value: 1, timestamp: 500 });

    const id = unique('versioned-region-counts');
    const counts = (streams: KafkaStreams) => streams.versionedStore<string, number>('region-counts');
    const latest = (streams: KafkaStreams, history: Record<string, unknown>) => ['A', 'B', 'C'].every((key) => JSON.stringify(counts(streams).get(key)) === JSON.stringify(history[key]));
    await produce(users, firstMoves);
    const first = apps.app(regionCounts(users, output), id);
    await first.start();
    await waitUntil('the first moves counted', () => latest(first, driver.afterFirst));
    await first.close();

    const second = apps.app(regionCounts(users, output), id);
    await second.start();
    await waitUntil('the region counts restored', () => latest(second, driver.afterFirst));
    expect(regionHistory(counts(second))).toEqual(driver.afterFirst);
    await produce(users, laterMoves);
    await waitUntil('the later moves counted', () => latest(second, driver.atEnd));
    expect(regionHistory(counts(second))).toEqual(driver.atEnd);
    await waitUntil('every update written', async () => (await readAll(output)).length >= driver.output.length);
    await second.close();
    const actual = (await readAll(output)).map((m) => ({ key: m.key!, value: m.value!, timestamp: m.timestamp }));
    expect(actual).toEqual(driver.output);
  });

  it('VersionedKeyValueStoreIntegrationTest.shouldRestore: a versioned store restored from Redis answers every version put before the restart', async () => {
    const [input, output] = [unique('versioned-in'), unique('versioned-checks')];
    await Promise.all([createTopic(input, 1), createTopic(output, 1)]);
    const ints = Serdes.int32();
    const topology = (data: DataTracker, write: boolean): Topology => {
      const builder = new StreamsBuilder();
      builder.addStateStore(Stores.versionedKeyValueStoreBuilder(Stores.persistentVersionedKeyValueStore('versioned-store', 3_600_000), ints, Serdes.string()));
      builder.stream<number, string | null>(input, { keySerde: ints, valueSerde: Serdes.nullable(Serdes.string()) })
        .process(versionedStoreContentChecker('versioned-store', write, data), 'versioned-store')
        .to(output, { keySerde: ints, valueSerde: ints });
      return builder.build();
    };
    const key = (k: number): string => ints.serialize(k)!.toString('latin1');
    const data = new DataTracker();
    const base = Date.now();
    const rounds: [number, [number, string | null][]][] = [
      [base, [[1, 'a0'], [2, 'b0'], [3, null]]],
      [base + 5, [[1, 'a5'], [2, null], [3, 'c5']]],
      [base + 2, [[1, 'a2'], [2, 'b2'], [3, null]]],
      [base + 5, [[1, 'a5_new'], [2, 'b5'], [3, null]]],
      [base + 7, [[1, DELETE_VALUE_KEYWORD], [2, DELETE_VALUE_KEYWORD], [3, DELETE_VALUE_KEYWORD]]],
      [base + 10, [[1, 'a10'], [2, 'b10'], [3, 'c10']]],
    ];
    const messages = (pairs: [number, string | null][], timestamp: number): TestMessage[] => pairs.map(([k, value]) => ({ key: key(k), value, timestamp }));
    const id = unique('versioned-restore');
    const first = apps.app(topology(new DataTracker(), true), id);
    await first.start();
    for (const [timestamp, pairs] of rounds) {
      await produce(input, messages(pairs, timestamp));
      for (const [k, value] of pairs) data.add(k, timestamp, value);
    }
    await waitUntil('the first run checked every record', async () => (await readAll(output)).length >= 18);
    await first.close();

    const second = apps.app(topology(data, true), id);
    await second.start();
    const later: [number, string | null][] = [[1, 'a12'], [2, 'b12'], [3, 'c12']];
    await produce(input, messages(later, base + 12));
    await waitUntil('the restarted run checked the new records', async () => (await readAll(output)).length >= 21);
    await second.close();
    const failed = (await readAll(output)).map((m) => m.valueBytes!.readInt32BE(0));
    expect(failed).toHaveLength(21);
    expect(failed).toEqual(new Array(21).fill(0));
  });

  it('an out-of-order table update is forwarded through mapValues and toStream and dropped by a table-table join (KIP-914)', async () => {
    const [prices, other, mapped, joined] = [unique('ooo-prices'), unique('ooo-other'), unique('ooo-mapped'), unique('ooo-joined')];
    await Promise.all([createTopic(prices, 1), createTopic(other, 1), createTopic(mapped, 1), createTopic(joined, 1)]);
    const builder = new StreamsBuilder();
    const table = builder.table<string, string>(prices, strings, { storeName: 'ooo-prices', versioned: { historyRetention: '1h' } });
    const names = builder.table<string, string>(other, strings, { storeName: 'ooo-names' });
    table.mapValues((v) => v.toUpperCase()).toStream().to(mapped, strings);
    table.join(names, (p, n) => `${p}+${n}`).toStream().to(joined, strings);
    await produce(other, [{ key: 'apple', value: 'x', timestamp: 0 }]);
    const app = apps.app(builder.build(), unique('versioned-ooo'));
    await app.start();
    await waitUntil('the other table loaded', () => app.store<string, string>('ooo-names').get('apple') === 'x');
    await produce(prices, [{ key: 'apple', value: 'b', timestamp: 2_000 }, { key: 'apple', value: 'a', timestamp: 1_000 }, { key: 'apple', value: 'c', timestamp: 3_000 }]);
    await waitUntil('the mapped stream has all three', async () => (await readAll(mapped)).length >= 3);
    await waitUntil('the join has its two results', async () => (await readAll(joined)).length >= 2);
    expect((await readAll(mapped)).map((m) => [m.value, m.timestamp])).toEqual([['B', 2_000], ['A', 1_000], ['C', 3_000]]);
    expect((await readAll(joined)).map((m) => [m.value, m.timestamp])).toEqual([['b+x', 2_000], ['c+x', 3_000]]);
    expect(app.versionedStore<string, string>('ooo-prices').get('apple', 1_500)).toEqual({ value: 'a', timestamp: 1_000, validTo: 2_000 });
  });
});
