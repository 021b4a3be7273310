import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { expect } from 'vitest';
import { modelMetrics, type ModelRegistry, type Prediction, type RegistryOutput } from 'tributary';

export type Payment = Record<string, number>;
interface Holdout { records: Payment[] }

export const holdout = (version: string): Payment[] => (JSON.parse(readFileSync(`models/fraud/${version}/holdout.json`, 'utf8')) as Holdout).records;

export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const kafka = new Kafka({ clientId: 'serving-tests', brokers, logLevel: logLevel.NOTHING });

/** A name unique to this test run. */
export const unique = (what: string): string => `serving-${what}-${randomUUID().slice(0, 8)}`;

/** A prediction without its latency, which differs between runs. */
export function withoutLatency(prediction: Prediction<RegistryOutput>): Omit<Prediction<RegistryOutput>, 'latencyMs'> {
  const { latencyMs: _, ...rest } = prediction;
  return rest;
}

/** What the registry model predicts in this process for these records. */
export async function embedded(registry: ModelRegistry, version: string, records: readonly Payment[]): Promise<Omit<Prediction<RegistryOutput>, 'latencyMs'>[]> {
  const model = registry.model('fraud', { version });
  const outcomes = await model.scoreBatch(records.map((value) => ({ key: null, value })));
  await model.close();
  return outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return withoutLatency(o.prediction);
  });
}

/** The `_count` and `_sum` of a histogram child. */
export async function histogram(name: string, labels: Record<string, string>): Promise<{ count: number; sum: number }> {
  const metric = await modelMetrics.getSingleMetric(name)!.get();
  const pick = (suffix: string): number =>
    metric.values.find((v) => (v as { metricName?: string }).metricName === `${name}_${suffix}` && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { count: pick('count'), sum: pick('sum') };
}

/** The value of a counter child (0 when it has none yet). */
export async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await modelMetrics.getSingleMetric(name)!.get();
  return metric.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Same predictions up to float32 rounding: ONNX kernels may round differently for different batch sizes. */
export function expectSamePredictions(actual: readonly Prediction<RegistryOutput>[], expected: readonly Omit<Prediction<RegistryOutput>, 'latencyMs'>[]): void {
  expect(actual).toHaveLength(expected.length);
  const split = (p: object): { exact: Record<string, unknown>; numbers: number[] } => {
    const { latencyMs: _, score, probabilities, ...exact } = p as Record<string, unknown>;
    return { exact, numbers: [score as number, ...((probabilities as number[] | undefined) ?? [])] };
  };
  actual.forEach((prediction, i) => {
    const a = split(prediction);
    const e = split(expected[i]!);
    expect(a.exact, `prediction ${i}`).toEqual(e.exact);
    expect(a.numbers.length, `prediction ${i}`).toBe(e.numbers.length);
    a.numbers.forEach((x, k) => expect(Math.abs(x - e.numbers[k]!), `prediction ${i}`).toBeLessThan(1e-5));
  });
}
