import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver, validateCopartitioning } from 'tributary';
import ordersEnrichment, { demo, type Customer, type Order, type OrderStatus, type Payment } from '../../topologies/orders-enrichment.ts';

const MINUTE = 60_000;
const T0 = 1_700_000_000_000;

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function start() {
  driver = new TopologyTestDriver(ordersEnrichment.build(), { applicationId: 'orders-enrichment' });
  return {
    customers: driver.createInputTopic('customers', Serdes.string(), Serdes.json<Customer>()),
    orders: driver.createInputTopic('orders', Serdes.string(), Serdes.json<Order>()),
    payments: driver.createInputTopic('payments', Serdes.string(), Serdes.json<Payment>()),
    paid: driver.createOutputTopic('orders-paid', Serdes.string(), Serdes.json<OrderStatus>()),
    unpaid: driver.createOutputTopic('orders-unpaid', Serdes.string(), Serdes.json<OrderStatus>()),
  };
}

describe('topologies/orders-enrichment', () => {
  it('enriches an order with its customer and marks it paid when the payment comes within 15 minutes', async () => {
    const t = start();
    await t.customers.pipeInput('c1', { name: 'Ada', country: 'GB' }, T0);
    await t.orders.pipeInput('o1', { orderId: 'o1', customerId: 'c1', amount: 42 }, T0 + MINUTE);
    expect(t.paid.isEmpty()).toBe(true);
    await t.payments.pipeInput('o1', { orderId: 'o1', amount: 42, method: 'card' }, T0 + 10 * MINUTE);
    expect(t.paid.readRecordsToList().map(({ key, value, timestamp }) => ({ key, value, timestamp }))).toEqual([
      {
        key: 'o1',
        value: { orderId: 'o1', customerId: 'c1', amount: 42, customerName: 'Ada', country: 'GB', paid: true, paymentMethod: 'card' },
        timestamp: T0 + 10 * MINUTE,
      },
    ]);
    expect(t.unpaid.isEmpty()).toBe(true);
  });

  it('sends an unpaid order to orders-unpaid only once its window and grace period have passed, with the order\'s timestamp', async () => {
    const t = start();
    await t.customers.pipeInput('c2', { name: 'Grace', country: 'US' }, T0);
    await t.orders.pipeInput('o2', { orderId: 'o2', customerId: 'c2', amount: 7 }, T0);
    // another order moves stream time to exactly window end + grace: not closed yet
    await t.orders.pipeInput('o3', { orderId: 'o3', customerId: 'c2', amount: 8 }, T0 + 16 * MINUTE);
    expect(t.unpaid.isEmpty()).toBe(true);
    // one millisecond later the window of o2 is closed
    await t.payments.pipeInput('o3', { orderId: 'o3', amount: 8, method: 'paypal' }, T0 + 16 * MINUTE + 1);
    expect(t.unpaid.readRecordsToList().map(({ key, value, timestamp }) => ({ key, paid: value.paid, customerName: value.customerName, timestamp }))).toEqual([
      { key: 'o2', paid: false, customerName: 'Grace', timestamp: T0 },
    ]);
    expect(t.paid.readValuesToList().map((s) => s.orderId)).toEqual(['o3']);
  });

  it('does not count a payment made before the order, and keeps orders of unknown customers', async () => {
    const t = start();
    await t.payments.pipeInput('o4', { orderId: 'o4', amount: 1, method: 'card' }, T0);
    await t.orders.pipeInput('o4', { orderId: 'o4', customerId: 'nobody', amount: 1 }, T0 + 1);
    await t.orders.pipeInput('o5', { orderId: 'o5', customerId: 'nobody', amount: 1 }, T0 + 30 * MINUTE);
    expect(t.paid.isEmpty()).toBe(true);
    expect(t.unpaid.readValuesToList()).toEqual([
      { orderId: 'o4', customerId: 'nobody', amount: 1, customerName: null, country: null, paid: false, paymentMethod: null },
    ]);
  });

  it('repartitions twice and requires the joined topics to be co-partitioned', () => {
    const topology = ordersEnrichment.build();
    const description = topology.describe();
    expect(description).toContain('(topic: orders-by-customer-repartition)');
    expect(description).toContain('(topic: orders-payments-left-repartition)');
    expect(topology.copartitionGroups()).toEqual([
      ['customers', 'orders-by-customer-repartition'],
      ['orders-payments-left-repartition', 'payments'],
    ]);
    expect(validateCopartitioning(topology, (topic) => ordersEnrichment.config.topics?.[topic]?.partitions)).toEqual(
      new Map([['orders-by-customer-repartition', 4], ['orders-payments-left-repartition', 4]]),
    );
  });

  it('routes every demo order exactly once: paid when it has a payment, unpaid once its window has closed', async () => {
    const t = start();
    const orders = new Map<string, number>();
    const payments = new Set<string>();
    let maxTimestamp = 0;
    for (const record of demo(300)) {
      const topic = record.topic === 'orders' ? t.orders : record.topic === 'payments' ? t.payments : t.customers;
      await (topic as typeof t.orders).pipeInput(record.key as string, record.value as Order, record.timestamp);
      if (record.topic === 'orders') orders.set(record.key as string, record.timestamp!);
      if (record.topic === 'payments') payments.add(record.key as string);
      maxTimestamp = Math.max(maxTimestamp, record.timestamp!);
    }
    const paid = t.paid.readValuesToList();
    const unpaid = t.unpaid.readValuesToList();
    expect(paid.map((s) => s.orderId).sort()).toEqual([...payments].sort());
    expect(paid.every((s) => s.customerName !== null)).toBe(true);
    const closedUnpaid = [...orders].filter(([id, ts]) => !payments.has(id) && ts + 16 * MINUTE < maxTimestamp).map(([id]) => id);
    expect(unpaid.map((s) => s.orderId).sort()).toEqual(closedUnpaid.sort());
    expect(unpaid.length).toBeGreaterThan(0);
  });
});
