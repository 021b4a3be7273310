/**
 * The topology `bench/dashboard-overhead.ts` runs at saturation: fraud payments scored by an A/B
 * split of the fraud model (so every model chart of the dashboard has series), its demo input
 * unthrottled (`DASHBOARD_BENCH_RECORDS` payments, default 60 000), amounts shifted after the first
 * half so that the drift gauges and alerts move too.
 */
import { fileURLToPath } from 'node:url';
import { ModelRegistry, Serdes, topology, type ClassifierOutput, type DemoRecord } from 'tributary';
import { demo as payments, type Payment } from '../../topologies/fraud-detection.ts';

const RECORDS = Number(process.env.DASHBOARD_BENCH_RECORDS ?? 60_000);

export const registry = await ModelRegistry.open(fileURLToPath(new URL('../../models', import.meta.url)));

export default topology({ applicationId: 'dashboard-overhead', topics: { payments: { partitions: 4 } } }, (builder) => {
  builder
    .stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() })
    .predict(registry.split<Payment, ClassifierOutput>('fraud', { '1': 0.5, '2': 0.5 }), { maxBatchSize: 256, maxDelayMs: 5 })
    .to('payments-scored');
});

export function* demo(): Generator<DemoRecord> {
  let i = 0;
  for (const record of payments(RECORDS, { seed: 11 })) {
    const value = record.value as Payment;
    yield { topic: record.topic, key: record.key, value: i++ < RECORDS / 2 ? value : { ...value, amount: value.amount * 30 }, timestamp: record.timestamp };
  }
}
