import { describe, expect, it } from 'vitest';
import { JoinWindows, Serdes, StreamsBuilder, TopologyError, validateCopartitioning } from 'tributary';

const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
const counts = (map: Record<string, number>) => (topic: string): number | undefined => map[topic];

describe('co-partitioning of join inputs', () => {
  it('a stream-table join requires its stream and table topics to be co-partitioned', () => {
    const builder = new StreamsBuilder();
    builder.stream('orders', strings).join(builder.table('customers', strings), (o, c) => `${o}/${c}`).to('out');
    const topology = builder.build();
    expect(topology.copartitionGroups()).toEqual([['customers', 'orders']]);
    expect(validateCopartitioning(topology, counts({ orders: 4, customers: 4 }))).toEqual(new Map());
  });

  it('different partition counts fail with a TopologyError naming the topics and their counts', () => {
    const builder = new StreamsBuilder();
    builder.stream('orders', strings).join(builder.table('customers', strings), (o, c) => `${o}/${c}`).to('out');
    const topology = builder.build();
    const check = (): unknown => validateCopartitioning(topology, counts({ orders: 4, customers: 6 }));
    expect(check).toThrow(TopologyError);
    expect(check).toThrow(/\[customers, orders\].*'customers' has 6, 'orders' has 4/);
  });

  it('a stream-stream join and a table-table join each form a group', () => {
    const builder = new StreamsBuilder();
    builder.stream('left', strings).join(builder.stream('right', strings), (l, r) => `${l}/${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(100));
    builder.table('t1', strings).join(builder.table('t2', strings), (a, b) => `${a}/${b}`);
    const topology = builder.build();
    expect(topology.copartitionGroups()).toEqual([['left', 'right'], ['t1', 't2']]);
    expect(() => validateCopartitioning(topology, counts({ left: 2, right: 2, t1: 3, t2: 1 }))).toThrow(/'t1' has 3, 't2' has 1/);
  });

  it('a re-keyed stream is joined through its repartition topic, which takes the count of the other side and never fails', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('clicks', strings)
      .selectKey((_k, v) => v)
      .join(builder.table('users', strings), (c, u) => `${c}/${u}`, { name: 'enrich' })
      .to('out');
    const topology = builder.build();
    expect(topology.copartitionGroups()).toEqual([['enrich-repartition', 'users']]);
    expect(validateCopartitioning(topology, counts({ clicks: 3, users: 8 }))).toEqual(new Map([['enrich-repartition', 8]]));
  });

  it('both sides of a stream-stream join are repartitioned through <name>-left-repartition and <name>-right-repartition', () => {
    const builder = new StreamsBuilder();
    const left = builder.stream('a', strings).selectKey((_k, v) => v);
    const right = builder.stream('b', strings).selectKey((_k, v) => v);
    left.leftJoin(right, (l, r) => `${l}/${r}`, JoinWindows.ofTimeDifferenceWithNoGrace('1s'), { name: 'pair' }).to('out');
    const topology = builder.build();
    expect(topology.copartitionGroups()).toEqual([['pair-left-repartition', 'pair-right-repartition']]);
    expect(topology.internalTopics().map((t) => t.topic).sort()).toEqual(['pair-left-repartition', 'pair-right-repartition']);
    expect(validateCopartitioning(topology, counts({ a: 2, b: 5 }))).toEqual(new Map());
  });

  it('groups that share a topic are merged', () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', strings);
    orders.join(builder.table('customers', strings), (o, c) => `${o}/${c}`);
    orders.leftJoin(builder.table('products', strings), (o, p) => `${o}/${p}`);
    const topology = builder.build();
    expect(topology.copartitionGroups()).toEqual([['customers', 'orders', 'products']]);
    expect(() => validateCopartitioning(topology, counts({ orders: 2, customers: 2, products: 3 }))).toThrow(TopologyError);
  });

  it('a global table join needs no co-partitioning', () => {
    const builder = new StreamsBuilder();
    builder.stream('orders', strings).join(builder.globalTable('products', strings), (_k, v) => v, (o, p) => `${o}/${p}`);
    expect(builder.build().copartitionGroups()).toEqual([]);
  });

  it('topics whose partition count is not known yet are not checked', () => {
    const builder = new StreamsBuilder();
    builder.stream('orders', strings).join(builder.table('customers', strings), (o, c) => `${o}/${c}`);
    expect(validateCopartitioning(builder.build(), counts({ orders: 4 }))).toEqual(new Map());
  });

  it('an internal topic with an explicit partition count must match like an input topic', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('orders', strings)
      .repartition({ name: 'by-customer', partitions: 2 })
      .join(builder.table('customers', strings), (o, c) => `${o}/${c}`);
    const topology = builder.build();
    expect(topology.copartitionGroups()).toEqual([['by-customer-repartition', 'customers']]);
    expect(() => validateCopartitioning(topology, counts({ orders: 4, customers: 4 }))).toThrow(/'by-customer-repartition' has 2, 'customers' has 4/);
    expect(validateCopartitioning(topology, counts({ orders: 4, customers: 2 }))).toEqual(new Map([['by-customer-repartition', 2]]));
  });
});
