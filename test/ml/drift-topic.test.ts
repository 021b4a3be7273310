/**
 * Drift alerts as records: a registry whose drift options name a topic has every alert written
 * there by the application that runs the model (here the test driver, as the runner does), once
 * per crossing, and nothing while the inputs look like the training data.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry, Serdes, StreamsBuilder, TopologyTestDriver, type DriftAlert } from 'tributary';

import { demo, registry as demoRegistry } from '../../topologies/fraud-detection.ts';

type Payment = Record<string, number>;
/** Payments drawn the way the training script draws ordinary ones. */
const ordinary = [...demo(4_000)].filter((r) => r.kind === 'ordinary').map((r) => r.value as Payment);
const registries: ModelRegistry[] = [demoRegistry];
afterAll(async () => {
  await Promise.all(registries.map((r) => r.close()));
});

async function scoredDriver(): Promise<TopologyTestDriver> {
  const registry = await ModelRegistry.open(new URL('../../models', import.meta.url).pathname, {
    pollIntervalMs: 0,
    workers: 0,
    drift: { windowSize: 500, checkEvery: 50, threshold: 0.2, topic: 'model-drift' },
  });
  registries.push(registry);
  const builder = new StreamsBuilder();
  builder
    .stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() })
    .predict(registry.model<Payment>('fraud', { version: '2' }), { maxBatchSize: 20 })
    .to('scored', { valueSerde: Serdes.json() });
  return new TopologyTestDriver(builder.build(), { applicationId: 'drift-app' });
}

describe('drift alerts to a topic', () => {
  it('writes one alert record per feature that crosses the threshold, none for training-like input', async () => {
    const driver = await scoredDriver();
    const payments = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Payment>());
    const alerts = driver.createOutputTopic('model-drift', Serdes.string(), Serdes.json<Omit<DriftAlert, 'topic'>>());
    for (let i = 0; i < 1_000; i++) await payments.pipeInput(`card-${i}`, ordinary[i]!);
    expect(alerts.readRecordsToList()).toEqual([]);
    // Amounts a hundred times larger than in training: the amount feature drifts (and the score may).
    for (let i = 1_000; i < 1_600; i++) {
      const p = ordinary[i]!;
      await payments.pipeInput(`card-${i}`, { ...p, amount: p.amount * 100 });
    }
    const records = alerts.readRecordsToList();
    const amount = records.filter((r) => r.key === 'fraud@2/amount');
    expect(amount).toHaveLength(1);
    expect(amount[0]!.value).toMatchObject({ model: 'fraud', version: '2', feature: 'amount', kind: 'feature', threshold: 0.2, windowSize: 500 });
    expect(amount[0]!.value.psi).toBeGreaterThan(0.2);
    expect(records.every((r) => r.value.psi > 0.2)).toBe(true);
    expect(new Set(records.map((r) => r.key)).size).toBe(records.length);
    expect(driver.createOutputTopic('scored', Serdes.string(), Serdes.json()).getQueueSize()).toBe(1_600);
    await driver.close();
  });
});
