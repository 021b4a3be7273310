import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, type KStream } from 'tributary';

interface Payment { account: string; amount: number }

// Checked by `tsc --noEmit` in `npm test`: types flow from the serdes through every step.
function typed(builder: StreamsBuilder) {
  const payments = builder.stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() });
  const amounts: KStream<string, number> = payments.filter((_k, p) => p.amount > 0).mapValues((p) => p.amount);
  const byAccount: KStream<string, Payment> = payments.selectKey((_k, p) => p.account);
  const pairs: KStream<number, string> = payments.map((_k, p) => [p.amount, p.account]);
  // @ts-expect-error a Payment has no `currency`
  payments.mapValues((p) => p.currency);
  // @ts-expect-error the value is a number after mapValues, not a Payment
  amounts.filter((_k, v) => v.amount > 0);
  // @ts-expect-error map must return a [key, value] pair
  payments.map((_k, p) => p.amount);
  return { amounts, byAccount, pairs };
}

describe('types', () => {
  it('flow through a chain (see the @ts-expect-error lines, checked by tsc)', () => {
    expect(Object.keys(typed(new StreamsBuilder()))).toEqual(['amounts', 'byAccount', 'pairs']);
  });
});
