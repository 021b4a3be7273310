import { describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver } from 'tributary';
import { buildTour, type Payment } from '../../docs/examples/dsl-tour.ts';

describe('docs/examples/dsl-tour.ts (the examples of docs/dsl.md)', () => {
  it('runs every documented operator with the documented results', async () => {
    const driver = new TopologyTestDriver(buildTour(), { applicationId: 'tour' });
    const input = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Payment>());
    await input.pipeInput('alice', { account: 'alice', amount: 1500, country: 'NL' }, 1_000);
    await input.pipeInput('bob', { account: 'bob', amount: -5, country: 'DE' }, 2_000);
    await input.pipeInput('alice', { account: 'alice', amount: 20, country: 'NL' }, 61_000);

    const read = (topic: string) => driver.createOutputTopic(topic, Serdes.string(), Serdes.json()).readKeyValuesToList();
    expect(read('payments-cents').map((r) => (r.value as { cents: number }).cents)).toEqual([150000, 2000]);
    expect(read('payments-by-country').map((r) => r.key)).toEqual(['NL', 'NL']);
    expect(read('payments-doubled-large')).toHaveLength(4);
    expect(read('payments-large').map((r) => r.key)).toEqual(['alice']);
    expect(read('payments-small').map((r) => r.key)).toEqual(['bob', 'alice']);
    const perMinute = driver.createOutputTopic('payments-per-minute', Serdes.windowed(Serdes.string()), Serdes.int64()).readKeyValuesToList();
    expect(perMinute).toEqual([
      { key: { key: 'alice', window: { start: 0, end: 60_000 } }, value: 1 },
      { key: { key: 'bob', window: { start: 0, end: 60_000 } }, value: 1 },
      { key: { key: 'alice', window: { start: 60_000, end: 120_000 } }, value: 1 },
    ]);
    await driver.close();
  });
});
