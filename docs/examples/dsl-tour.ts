/** The examples of docs/dsl.md, as one topology that test/docs/examples.test.ts runs. */
import { Serdes, StreamsBuilder, TimeWindows } from 'tributary';

export interface Payment {
  account: string;
  amount: number;
  country: string;
}

export function buildTour() {
  const builder = new StreamsBuilder();
  const payments = builder.stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() });

  // filter / mapValues / selectKey: types flow from the serde
  const positive = payments.filter((_key, p) => p.amount > 0);
  positive.mapValues((p) => ({ ...p, cents: Math.round(p.amount * 100) })).to('payments-cents');
  positive.selectKey((_key, p) => p.country).to('payments-by-country');

  // flatMapValues: zero or more values per record
  payments.flatMapValues((p) => (p.amount > 1000 ? [p, p] : [p])).to('payments-doubled-large');

  // split: the first matching branch wins
  payments
    .split()
    .branch((_key, p) => p.amount >= 1000, { name: 'large', to: 'payments-large' })
    .defaultBranch({ name: 'small', to: 'payments-small' });

  // groupByKey + windowedBy + count: a per-minute count per account
  payments
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeWithNoGrace('1m'))
    .count({ storeName: 'payments-per-minute' })
    .toStream()
    .to('payments-per-minute');

  return builder.build();
}
