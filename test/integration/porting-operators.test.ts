/**
 * Operators added for Kafka Streams users, on the real broker and Redis: a cogroup of two topics
 * (one re-keyed through a repartition topic) into one Redis-backed store that survives a restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaStreams, Serdes, StreamsBuilder, type Topology } from 'tributary';
import { brokers, closeHelpers, createTopic, latestByKey, produce, redisUrl, resetRedis, unique, waitUntil } from './kafka-helpers.ts';

const apps: KafkaStreams[] = [];
const appIds = new Set<string>();

function app(topology: Topology, applicationId: string): KafkaStreams {
  const streams = new KafkaStreams(topology, {
    applicationId, brokers, redis: redisUrl, commitIntervalMs: 200, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, watchdog: false, log: () => undefined,
  });
  apps.push(streams);
  appIds.add(applicationId);
  return streams;
}

afterAll(async () => {
  await Promise.allSettled(apps.map((a) => a.close()));
  await Promise.allSettled([...appIds].map((id) => resetRedis(id)));
  await closeHelpers();
});

interface Summary { clicks: number; spent: number }

function customerSummary(clicksTopic: string, purchasesTopic: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
  const clicks = builder.stream<string, string>(clicksTopic, strings).groupByKey();
  // purchases are keyed by order id and carry "customer:amount": re-keyed by customer, so repartitioned
  const purchases = builder.stream<string, string>(purchasesTopic, strings)
    .map((_order, v) => [v.split(':')[0]!, Number(v.split(':')[1])] as const)
    .groupByKey({ keySerde: Serdes.string(), valueSerde: Serdes.int32() });
  clicks.cogroup<Summary>((_c, _page, s) => ({ ...s, clicks: s.clicks + 1 }))
    .cogroup(purchases, (_c, amount, s) => ({ ...s, spent: s.spent + amount }))
    .aggregate(() => ({ clicks: 0, spent: 0 }), { storeName: 'summaries', valueSerde: Serdes.json<Summary>() })
    .toStream()
    .to(output, { valueSerde: Serdes.nullable(Serdes.json<Summary>()) });
  return builder.build();
}

describe('porting operators on Kafka and Redis', () => {
  it('cogroups two topics (one repartitioned) into one Redis store, exact across a restart', async () => {
    const [clicksTopic, purchasesTopic, output] = [unique('clicks'), unique('purchases'), unique('summaries')];
    await Promise.all([createTopic(clicksTopic, 2), createTopic(purchasesTopic, 2), createTopic(output, 2)]);
    const customers = ['ann', 'bob', 'cid', 'dee'];
    const expected = new Map<string, Summary>(customers.map((c) => [c, { clicks: 0, spent: 0 }]));
    const produceRound = async (round: number): Promise<void> => {
      const clicks = Array.from({ length: 40 }, (_, i) => ({ key: customers[i % 4]!, value: `page-${round}-${i}` }));
      const purchases = Array.from({ length: 20 }, (_, i) => ({ key: `order-${round}-${i}`, value: `${customers[(i * 3) % 4]}:${i + 1}` }));
      for (const c of clicks) expected.get(c.key)!.clicks++;
      for (const [i, p] of purchases.entries()) expected.get(p.value.split(':')[0]!)!.spent += i + 1;
      await produce(clicksTopic, clicks);
      await produce(purchasesTopic, purchases);
    };
    const id = unique('cogroup');
    const topology = customerSummary(clicksTopic, purchasesTopic, output);
    expect(topology.describe()).toContain('-repartition-source');

    await produceRound(0);
    const first = app(topology, id);
    await first.start();
    const snapshot = (): Map<string, Summary> => new Map(customers.map((c) => [c, { ...expected.get(c)! }]));
    let want = snapshot();
    const matches = (streams: KafkaStreams) => customers.every((c) => JSON.stringify(streams.store<string, Summary>('summaries').get(c)) === JSON.stringify(want.get(c)));
    await waitUntil('first round aggregated', () => matches(first));
    await first.close();

    await produceRound(1);
    want = snapshot();
    const second = app(customerSummary(clicksTopic, purchasesTopic, output), id);
    await second.start();
    await waitUntil('second round aggregated on the restored state', () => matches(second));
    await second.close();
    await waitUntil('output has the final summaries', async () => {
      const latest = await latestByKey(output);
      return customers.every((c) => latest.get(c) === JSON.stringify(want.get(c)));
    });
  });

  it('a pattern source reads every existing topic it matches, across partitions, into Redis state', async () => {
    const prefix = unique('orders');
    const [eu, us, other, output] = [`${prefix}-eu`, `${prefix}-us`, `${prefix}x-other`, unique('order-counts')];
    await Promise.all([createTopic(eu, 2), createTopic(us, 2), createTopic(other, 2), createTopic(output, 2)]);
    await produce(eu, Array.from({ length: 30 }, (_, i) => ({ key: `c${i % 3}`, value: 'eu' })));
    await produce(us, Array.from({ length: 12 }, (_, i) => ({ key: `c${i % 3}`, value: 'us' })));
    await produce(other, [{ key: 'c0', value: 'ignored' }]);
    const builder = new StreamsBuilder();
    builder.stream<string, string>(new RegExp(`${prefix}-[a-z]+`), { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .groupByKey().count({ storeName: 'per-customer' }).toStream().to(output, { valueSerde: Serdes.nullable(Serdes.int64()) });
    const topology = builder.build();
    expect(topology.describe()).toContain(`(topics: ${prefix}-[a-z]+)`);
    const streams = app(topology, unique('pattern'));
    await streams.start();
    expect(streams.topology.sourceTopics()).toEqual([eu, us]);
    expect(streams.taskIds()).toEqual(['0_0', '0_1']);
    await waitUntil('both topics counted', () => ['c0', 'c1', 'c2'].every((c) => streams.store<string, number>('per-customer').get(c) === 14));
    await streams.close();
  });
});
