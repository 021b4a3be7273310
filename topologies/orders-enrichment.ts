/**
 * Order enrichment: each order is joined with its customer (a table) and with its payment (a
 * stream, within a time window), then routed by whether it was paid.
 *
 *   orders (key: order id) ─ re-key by customer ─ leftJoin customers (table) ─ re-key by order ─┐
 *   payments (key: order id) ───────────────────────────────────────────────────────────────────┴─ leftJoin within
 *     [order time, order time + 15 min] (+ 1 min grace) ─┬─ paid   → orders-paid
 *                                                        └─ unpaid → orders-unpaid (once the window has closed)
 *
 * A paid order is emitted as soon as its payment arrives (once per payment). An order without a
 * payment is emitted to `orders-unpaid` only after its window and grace period have passed in
 * stream time, so a late but in-window payment is never reported as missing.
 */
import { JoinWindows, Serdes, topology, type DemoRecord } from 'tributary';

export interface Order {
  orderId: string;
  customerId: string;
  amount: number;
}

export interface Customer {
  name: string;
  country: string;
}

export interface Payment {
  orderId: string;
  amount: number;
  method: string;
}

/** An order with its customer's details (`null` when the customer is not known yet). */
export interface EnrichedOrder extends Order {
  customerName: string | null;
  country: string | null;
}

/** An enriched order with its payment status. */
export interface OrderStatus extends EnrichedOrder {
  paid: boolean;
  paymentMethod: string | null;
}

/** A payment counts when it is made within 15 minutes after the order; late records are awaited 1 more minute. */
export const PAYMENT_WINDOW = JoinWindows.ofTimeDifferenceAndGrace('15m', '1m').before(0);

export default topology(
  {
    applicationId: 'orders-enrichment',
    description: 'enriches orders with their customer and routes them by payment status',
    topics: { orders: { partitions: 4 }, customers: { partitions: 4 }, payments: { partitions: 4 } },
  },
  (builder) => {
    const customers = builder.table('customers', { keySerde: Serdes.string(), valueSerde: Serdes.json<Customer>() }, { storeName: 'customers' });
    const payments = builder.stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() });

    const statuses = builder
      .stream('orders', { keySerde: Serdes.string(), valueSerde: Serdes.json<Order>() })
      .selectKey((_orderId, order) => order.customerId)
      .leftJoin(
        customers,
        (order, customer): EnrichedOrder => ({ ...order, customerName: customer?.name ?? null, country: customer?.country ?? null }),
        { name: 'orders-by-customer' },
      )
      .selectKey((_customerId, order) => order.orderId)
      .leftJoin(
        payments,
        (order, payment): OrderStatus => ({ ...order, paid: payment !== null, paymentMethod: payment?.method ?? null }),
        PAYMENT_WINDOW,
        { name: 'orders-payments', keySerde: Serdes.string(), valueSerde: Serdes.json<EnrichedOrder>(), otherValueSerde: Serdes.json<Payment>() },
      );

    statuses
      .split()
      .branch((_orderId, status) => status.paid, { name: 'paid', to: 'orders-paid', produced: { valueSerde: Serdes.json<OrderStatus>() } })
      .defaultBranch({ name: 'unpaid', to: 'orders-unpaid', produced: { valueSerde: Serdes.json<OrderStatus>() } });
  },
);

const CUSTOMERS: Array<[string, Customer]> = [
  ['c1', { name: 'Ada', country: 'GB' }],
  ['c2', { name: 'Grace', country: 'US' }],
  ['c3', { name: 'Linus', country: 'FI' }],
  ['c4', { name: 'Margaret', country: 'US' }],
  ['c5', { name: 'Tim', country: 'GB' }],
];
const METHODS = ['card', 'paypal', 'transfer'];
const START = 1_700_000_000_000;
const MINUTE = 60_000;

/**
 * Sample input: the customers, then an order every 30 s; four orders in five are paid 1 to 10
 * minutes later. Records come in timestamp order.
 */
export function* demo(count = 2_000): Generator<DemoRecord> {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const records: DemoRecord[] = CUSTOMERS.map(([id, customer]) => ({ topic: 'customers', key: id, value: customer, timestamp: START }));
  for (let i = 0; i < count; i++) {
    const orderId = `o${i}`;
    const timestamp = START + i * 30_000;
    const amount = 5 + random(200);
    records.push({ topic: 'orders', key: orderId, value: { orderId, customerId: CUSTOMERS[random(CUSTOMERS.length)]![0], amount } satisfies Order, timestamp });
    if (random(5) !== 0) {
      const payment: Payment = { orderId, amount, method: METHODS[random(METHODS.length)]! };
      records.push({ topic: 'payments', key: orderId, value: payment, timestamp: timestamp + (1 + random(10)) * MINUTE });
    }
  }
  records.sort((a, b) => a.timestamp! - b.timestamp!);
  yield* records;
}
