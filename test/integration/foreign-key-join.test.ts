/**
 * Foreign-key table joins on the real broker and Redis: orders (2 partitions) joined with products
 * (3 partitions) on the product id in the order's value, an inner join and a left join in one
 * topology. The subscription topics take the partition counts of the tables they serve, the
 * subscription stores live in Redis and are restored by the next instance, and the results equal
 * what the test driver gives on the same input.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TableJoined, TopologyTestDriver, type Topology } from 'tributary';
import { createTopic, getAdmin, latestByKey, produce, redisUrl, testApps, unique, waitUntil, type TestMessage } from './kafka-helpers.ts';

const apps = testApps();
afterAll(() => apps.closeAll());

const strings = Serdes.string();
const nullableStrings = Serdes.nullable(strings);
/** An order's value is `<product>:<quantity>`; `none:<quantity>` references no product. */
const productOf = (order: string): string | null => (order.startsWith('none:') ? null : order.split(':')[0]!);
const joiner = (order: string, product: string | null): string => `${order}=${product}`;

function ordersWithProducts(orders: string, products: string, innerOut: string, leftOut: string): Topology {
  const builder = new StreamsBuilder();
  const left = builder.table<string, string>(orders, { keySerde: strings, valueSerde: strings });
  const right = builder.table<string, string>(products, { keySerde: strings, valueSerde: strings });
  left.join(right, productOf, joiner, TableJoined.as('inner-fk'), { storeName: 'inner-result', valueSerde: strings })
    .toStream().to(innerOut, { keySerde: strings, valueSerde: nullableStrings });
  left.leftJoin(right, productOf, joiner, TableJoined.as('left-fk'), { storeName: 'left-result', valueSerde: strings })
    .toStream().to(leftOut, { keySerde: strings, valueSerde: nullableStrings });
  return builder.build();
}

interface Input { topic: 'orders' | 'products'; key: string; value: string | null; timestamp: number }

let clock = 1_000;
const at = (topic: Input['topic'], key: string, value: string | null): Input => ({ topic, key, value, timestamp: (clock += 10) });

/** Products p0…p5, then 24 orders over p0…p6 (p6 does not exist yet) and some without a product. */
function firstRound(): Input[] {
  const products = Array.from({ length: 6 }, (_, j) => at('products', `p${j}`, `product-${j}@${10 + j}`));
  const orders = Array.from({ length: 24 }, (_, i) => at('orders', `o${i}`, i % 8 === 7 ? `none:${i}` : `p${i % 7}:${i}`));
  return [...products, ...orders];
}

/** Every kind of change, each of them needing the subscriptions of the first round. */
function secondRound(): Input[] {
  return [
    at('products', 'p1', 'product-1@99'), // re-joins every order of p1
    at('products', 'p3', null), // inner: tombstones; left: joined with null
    at('products', 'p6', 'product-6@16'), // the orders waiting for p6 join
    at('orders', 'o0', 'p2:100'), // moves from p0 to p2
    at('orders', 'o5', null), // deleted
    at('orders', 'o8', 'none:8'), // no longer references p1, while p1's update is on its way to it
    at('orders', 'o11', 'none:11'),
    at('orders', 'o7', 'p4:7'), // starts referencing one
    at('orders', 'o24', 'p1:24'),
    at('orders', 'o25', 'p3:25'), // references the deleted product
    at('products', 'p2', 'product-2@42'),
  ];
}

/** What the test driver gives on the same input: the last value of each result key, tombstones as null. */
async function truth(topology: Topology, input: Input[]): Promise<{ inner: Map<string, string | null>; left: Map<string, string | null> }> {
  const driver = new TopologyTestDriver(topology, { applicationId: 'fk-truth' });
  try {
    const topics = { orders: driver.createInputTopic(ORDERS, strings, nullableStrings), products: driver.createInputTopic(PRODUCTS, strings, nullableStrings) };
    for (const r of input) await topics[r.topic].pipeInput(r.key, r.value, r.timestamp);
    return {
      inner: driver.createOutputTopic(INNER_OUT, strings, nullableStrings).readKeyValuesToMap(),
      left: driver.createOutputTopic(LEFT_OUT, strings, nullableStrings).readKeyValuesToMap(),
    };
  } finally {
    await driver.close();
  }
}

const ORDERS = 'orders';
const PRODUCTS = 'products';
const INNER_OUT = 'inner-out';
const LEFT_OUT = 'left-out';

const present = (results: Map<string, string | null>): [string, string][] =>
  [...results].filter((e): e is [string, string] => e[1] !== null).sort((a, b) => a[0].localeCompare(b[0]));

describe('foreign-key table joins on Kafka and Redis', () => {
  it('joins across differently partitioned tables, restores its subscription stores from Redis after a restart, and agrees with the driver', async () => {
    const id = unique('fk-join');
    const names = { orders: `${id}-orders`, products: `${id}-products`, inner: `${id}-inner`, left: `${id}-left` };
    await Promise.all([createTopic(names.orders, 2), createTopic(names.products, 3), createTopic(names.inner, 2), createTopic(names.left, 2)]);
    const send = async (input: Input[]): Promise<void> => {
      for (const topic of ['products', 'orders'] as const) {
        const messages: TestMessage[] = input.filter((r) => r.topic === topic).map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp }));
        await produce(names[topic], messages);
      }
    };
    const topology = (): Topology => ordersWithProducts(names.orders, names.products, names.inner, names.left);
    const sameAs = (name: string, want: Map<string, string | null>, streams: ReturnType<typeof apps.app>): boolean =>
      JSON.stringify(streams.store<string, string>(name).all().map((e) => [e.key, e.value])) === JSON.stringify(present(want));

    const round1 = firstRound();
    const want1 = await truth(ordersWithProducts(ORDERS, PRODUCTS, INNER_OUT, LEFT_OUT), round1);
    // The first round alone exercises each path: missing products, null foreign keys, joined rows.
    expect(present(want1.inner).length).toBeGreaterThan(10);
    expect([...want1.left.values()].filter((v) => v?.endsWith('=null')).length).toBeGreaterThan(3);
    await send(round1);
    const first = apps.app(topology(), id);
    await first.start();
    await waitUntil('first round joined', () => sameAs('inner-result', want1.inner, first) && sameAs('left-result', want1.left, first), 90_000);

    // The registration topics follow the products' partitioning, the responses the orders'.
    const metadata = await (await getAdmin()).fetchTopicMetadata({
      topics: ['inner-fk', 'left-fk'].flatMap((fk) => [`${id}-${fk}-subscription-registration-topic`, `${id}-${fk}-subscription-response-topic`]),
    });
    expect(Object.fromEntries(metadata.topics.map((t) => [t.name.slice(id.length + 1), t.partitions.length]))).toEqual({
      'inner-fk-subscription-registration-topic': 3, 'inner-fk-subscription-response-topic': 2,
      'left-fk-subscription-registration-topic': 3, 'left-fk-subscription-response-topic': 2,
    });
    await first.close();

    // The subscriptions were checkpointed to Redis, in the products' tasks (sub-topology of the registration source).
    const redis = new Redis(redisUrl);
    try {
      const keys = (await redis.keys(`trib:{${id}:*}:kv:*-subscription-store`)).sort();
      expect(keys.length).toBe(6); // two joins × three partitions of products
      let subscriptions = 0;
      for (const key of keys) subscriptions += await redis.hlen(key);
      // Each join stores one subscription per order with a product (the left join's null foreign keys are not stored).
      const withProduct = round1.filter((r) => r.topic === 'orders' && productOf(r.value!) !== null).length;
      expect(subscriptions).toBe(2 * withProduct);
    } finally {
      redis.disconnect();
    }

    const round2 = secondRound();
    const want = await truth(ordersWithProducts(ORDERS, PRODUCTS, INNER_OUT, LEFT_OUT), [...round1, ...round2]);
    await send(round2);
    const second = apps.app(topology(), id);
    await second.start();
    await waitUntil('second round joined on the restored subscriptions', () => sameAs('inner-result', want.inner, second) && sameAs('left-result', want.left, second), 90_000);
    expect(second.store<string, string>('inner-result').get('o1')).toBe('p1:1=product-1@99');
    expect(second.store<string, string>('left-result').get('o3')).toBe('p3:3=null');
    expect(second.store<string, string>('inner-result').get('o3')).toBeUndefined();
    expect(second.store<string, string>('inner-result').get('o8')).toBeUndefined();
    expect(second.store<string, string>('inner-result').get('o11')).toBeUndefined();
    expect(second.store<string, string>('inner-result').get('o7')).toBe('p4:7=product-4@14');
    expect(second.store<string, string>('left-result').get('o11')).toBe('none:11=null');
    await second.close();

    // The output topics end where the driver's do, deletes included.
    const [innerOut, leftOut] = await Promise.all([latestByKey(names.inner), latestByKey(names.left)]);
    expect(present(innerOut)).toEqual(present(want.inner));
    expect(present(leftOut)).toEqual(present(want.left));
    for (const [key, value] of want.inner) if (value === null) expect(innerOut.get(key) ?? null).toBeNull();
    for (const [key, value] of want.left) if (value === null) expect(leftOut.get(key) ?? null).toBeNull();
  }, 240_000);
});
