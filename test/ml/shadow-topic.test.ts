/**
 * Shadow comparisons as records: `registry.shadow(name, { candidate, topic })` has every
 * comparison written to the topic by the application that runs the model (here the test driver,
 * as the runner does), keyed and timed like the scored record, while only the primary's
 * predictions go down the stream.
 */
import { afterAll, expect, test } from 'vitest';
import { ModelRegistry, onModelRecord, Serdes, StreamsBuilder, TopologyTestDriver, type ClassifierOutput, type ModelRecord, type Prediction } from 'tributary';

import { demo } from '../../topologies/fraud-detection.ts';

type Payment = Record<string, number>;
interface Comparison {
  model: string;
  primaryVersion: string | null;
  candidateVersion: string | null;
  agree: boolean;
  scoreDiff: number | null;
  primary: Prediction<ClassifierOutput> | { error: string; stage: string };
  candidate: Prediction<ClassifierOutput> | { error: string; stage: string };
}

const payments = [...demo(300)].map((r) => r.value as Payment).slice(0, 200);
const registry = await ModelRegistry.open(new URL('../../models', import.meta.url).pathname, { pollIntervalMs: 0, workers: 0, drift: false });
afterAll(() => registry.close());

test('every comparison goes to the shadow topic with the record key and timestamp; the stream gets the primary only', async () => {
  const builder = new StreamsBuilder();
  builder
    .stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() })
    .predict(registry.shadow<Payment>('fraud', { primary: '2', candidate: '1', topic: 'fraud-shadow' }), { maxBatchSize: 32 })
    .to('scored', { valueSerde: Serdes.json() });
  const driver = new TopologyTestDriver(builder.build(), { applicationId: 'shadow-app', errorHandling: 'dead-letter' });
  const input = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Payment>());
  const scored = driver.createOutputTopic('scored', Serdes.string(), Serdes.json<Payment & { prediction: Prediction<ClassifierOutput> }>());
  const shadow = driver.createOutputTopic('fraud-shadow', Serdes.string(), Serdes.json<Comparison>());

  for (const [i, payment] of payments.entries()) await input.pipeInput(`card-${i}`, payment, 10_000 + i);
  await input.pipeInput('card-bad', { amount: -5 } as Payment, 20_000); // fails validation in both versions

  const out = scored.readRecordsToList();
  const comparisons = shadow.readRecordsToList();
  expect(out).toHaveLength(payments.length);
  expect(out.every((r) => r.value.prediction.version === '2')).toBe(true);
  expect(comparisons).toHaveLength(payments.length + 1);

  for (const [i, record] of out.entries()) {
    const c = comparisons[i]!;
    expect(c.key).toBe(`card-${i}`);
    expect(c.timestamp).toBe(10_000 + i);
    expect(c.value).toMatchObject({ model: 'fraud', primaryVersion: '2', candidateVersion: '1' });
    const primary = c.value.primary as Prediction<ClassifierOutput>;
    const candidate = c.value.candidate as Prediction<ClassifierOutput>;
    // the primary's side of the comparison is exactly what went down the stream
    const { latencyMs: _a, ...emitted } = record.value.prediction;
    const { latencyMs: _b, ...compared } = primary;
    expect(compared).toEqual(emitted);
    expect(candidate.version).toBe('1');
    expect(c.value.agree).toBe(primary.label === candidate.label);
    expect(c.value.scoreDiff).toBeCloseTo(candidate.score - primary.score, 12);
  }
  // the two models disagree on some of the demo's fraud: the comparison is not trivially all-agree
  expect(comparisons.some((c) => c.value.agree)).toBe(true);
  expect(comparisons.slice(0, -1).some((c) => c.value.scoreDiff !== 0)).toBe(true);

  const bad = comparisons.at(-1)!;
  expect(bad.key).toBe('card-bad');
  expect(bad.value).toMatchObject({ agree: false, scoreDiff: null, primaryVersion: null, candidateVersion: null, primary: { stage: 'validate' }, candidate: { stage: 'validate' } });
  expect((bad.value.primary as { error: string }).error).toMatch(/does not match the input schema/);
  expect(driver.createOutputTopic('shadow-app-dlq', Serdes.string(), Serdes.string()).getQueueSize()).toBe(1);
  await driver.close();
});

test('each application writes only the comparisons of its own records, even when two share the model', async () => {
  const shadow = registry.shadow<Payment>('fraud', { primary: '2', candidate: '1', topic: 'fraud-shadow' });
  const drivers = ['app-a', 'app-b'].map((applicationId) => {
    const builder = new StreamsBuilder();
    builder.stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() }).predict(shadow, { maxBatchSize: 16 }).to('scored', { valueSerde: Serdes.json() });
    return new TopologyTestDriver(builder.build(), { applicationId });
  });
  // both drivers are open while either scores: a process-wide channel would hand each comparison to both
  for (const [d, driver] of drivers.entries()) {
    const input = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Payment>());
    for (let i = 0; i < 20 + d * 10; i++) await input.pipeInput(`${d === 0 ? 'a' : 'b'}-${i}`, payments[i]!);
  }
  const written = drivers.map((driver) => driver.createOutputTopic('fraud-shadow', Serdes.string(), Serdes.json<Comparison>()).readRecordsToList().map((r) => r.key));
  expect(written[0]).toEqual(Array.from({ length: 20 }, (_, i) => `a-${i}`));
  expect(written[1]).toEqual(Array.from({ length: 30 }, (_, i) => `b-${i}`));
  await Promise.all(drivers.map((driver) => driver.close()));
});

test('a batch scored outside any application hands its comparisons to the onModelRecord listeners', async () => {
  const shadow = registry.shadow<Payment>('fraud', { primary: '2', candidate: '1', topic: 'fraud-shadow' });
  const heard: ModelRecord[] = [];
  const stop = onModelRecord((record) => heard.push(record));
  try {
    await shadow.scoreBatch(payments.slice(0, 3).map((value, i) => ({ key: `k${i}`, value, timestamp: 7 + i })));
  } finally {
    stop();
  }
  expect(heard.map((r) => [r.topic, r.key?.toString(), r.timestamp])).toEqual([['fraud-shadow', 'k0', 7], ['fraud-shadow', 'k1', 8], ['fraud-shadow', 'k2', 9]]);
});
