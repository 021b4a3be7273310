import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, Serdes, StreamsBuilder, TopologyTestDriver, type ClassifierOutput, type Model, type Prediction } from 'tributary';

interface Holdout { records: Record<string, number>[]; labels: number[]; probabilities: number[][] }
const holdout = JSON.parse(readFileSync('models/fraud/2/holdout.json', 'utf8')) as Holdout;

describe('KStream.predict through the test driver', () => {
  let registry: ModelRegistry;
  beforeAll(async () => {
    registry = await ModelRegistry.open('models', { pollIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await registry.close();
  });

  it('scores every record in input order, equal to scikit-learn, with model, version and latency', async () => {
    const builder = new StreamsBuilder();
    builder.stream('payments', { valueSerde: Serdes.json<Record<string, number>>() })
      .predict(registry.model('fraud', { version: '2' }), { maxBatchSize: 32 })
      .to('scored');
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Record<string, number>>());
    await input.pipeKeyValueList(holdout.records.map((r, i) => [`p${i}`, r] as const));
    const scored = driver.createOutputTopic('scored', Serdes.string(), Serdes.json<Record<string, number> & { prediction: Prediction<ClassifierOutput> }>()).readKeyValuesToList();
    expect(scored.map((r) => r.key)).toEqual(holdout.records.map((_, i) => `p${i}`));
    scored.forEach((r, i) => {
      expect(r.value.prediction.labelIndex).toBe(holdout.labels[i]);
      expect(Math.abs(r.value.prediction.score - holdout.probabilities[i]![1]!)).toBeLessThan(1e-5);
      expect(r.value.prediction).toMatchObject({ model: 'fraud', version: '2' });
      expect(r.value.prediction.latencyMs).toBeGreaterThanOrEqual(0);
    });
    await driver.close();
  });

  it('a record that fails the model input schema goes to the dead-letter topic with stage validate; the others are scored', async () => {
    const builder = new StreamsBuilder();
    builder.stream('payments', { valueSerde: Serdes.json<Record<string, number>>() })
      .predict(registry.model<Record<string, number>, ClassifierOutput>('fraud', { version: '1' }), { as: (value, p) => ({ id: value.amount, label: p.label }) })
      .to('scored');
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'fraud', errorHandling: 'dead-letter' });
    const input = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Record<string, number>>());
    await input.pipeInput('good', holdout.records[0]!);
    await input.pipeInput('bad', { ...holdout.records[1]!, amount: -5 });
    expect(driver.createOutputTopic('scored', Serdes.string(), Serdes.json()).readKeyValuesToList().map((r) => r.key)).toEqual(['good']);
    const dlq = driver.createOutputTopic('fraud-dlq', Serdes.string(), Serdes.bytes()).readRecordsToList();
    expect(dlq.map((r) => [r.key, r.headers.stage])).toEqual([['bad', 'validate']]);
    await driver.close();
  });
});

describe('predict, a model that is not ready at first', () => {
  it('sends the first batch to the dead-letter topic and asks the model again for the next one', async () => {
    let attempts = 0;
    const flaky: Model<{ n: number }, { label: string }> = {
      name: 'flaky',
      ready: async () => {
        attempts++;
        if (attempts === 1) throw new Error('model server not up yet');
      },
      close: async () => undefined,
      scoreBatch: async (inputs) => inputs.map(() => ({ ok: true as const, prediction: { label: 'ok', model: 'flaky', version: '1', latencyMs: 0 } })),
    };
    const builder = new StreamsBuilder();
    builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.json<{ n: number }>() }).predict(flaky, { maxBatchSize: 1 }).to('out', { valueSerde: Serdes.json() });
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'flaky-app', errorHandling: 'dead-letter' });
    const input = driver.createInputTopic('in', Serdes.string(), Serdes.json<{ n: number }>());
    await input.pipeInput('a', { n: 1 });
    await input.pipeInput('b', { n: 2 });
    const dead = driver.createOutputTopic('flaky-app-dlq', Serdes.string(), Serdes.bytes()).readRecordsToList();
    expect(dead.map((r) => [r.key, r.headers.stage, r.headers.error])).toEqual([['a', 'inference', 'model server not up yet']]);
    expect(driver.createOutputTopic('out', Serdes.string(), Serdes.json()).readKeyValuesToList()).toEqual([{ key: 'b', value: { n: 2, prediction: { label: 'ok', model: 'flaky', version: '1', latencyMs: 0 } } }]);
    expect(attempts).toBe(2);
    await driver.close();
  });
});
