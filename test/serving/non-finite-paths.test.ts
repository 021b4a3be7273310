/**
 * NaN, ±Infinity and numbers beyond float32 are refused with the reason on every way a record
 * reaches a model: `.predict` in the test driver and on Kafka (dead-letter topic), the HTTP server
 * (400), the Kafka-native server (an error reply) and the remote model clients (dead letters).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer, Producer } from 'kafkajs';
import {
  ModelHttpServer, ModelKafkaServer, ModelRegistry, Serdes, StreamsBuilder, TopologyTestDriver, remoteModel,
  type Model, type RegistryOutput, type Topology,
} from 'tributary';
import { createTopic, produce, readAll, testApps, waitUntil } from '../integration/kafka-helpers.ts';
import { holdout, kafka, unique, type Payment } from './helpers.ts';

const good = holdout('2')[0]!;

/** A fraud@2 record whose `field` is written as the JSON number token `token` (`1e999` parses as Infinity). */
const withToken = (field: string, token: string): string => JSON.stringify({ ...good, [field]: 0 }).replace(`"${field}":0`, `"${field}":${token}`);

/** The raw JSON texts piped or produced, and the reason each must be refused with (stage validate). */
const RAW: { key: string; value: string; error: string }[] = [
  { key: 'inf', value: withToken('amount', '1e999'), error: "model fraud@2: feature 'amount' is Infinity; features must be finite numbers" },
  { key: 'neg-inf', value: withToken('amount', '-1e999'), error: 'model fraud@2: record does not match the input schema: /amount must be >= 0 (it is -Infinity)' },
  { key: 'f32', value: withToken('amount', '1e308'), error: "model fraud@2: feature 'amount' is 1e+308, beyond float32's range (±3.4028234663852886e+38): it would reach the model as Infinity" },
  { key: 'good', value: JSON.stringify(good), error: '' },
];

/** A record the topology turns into NaN and Infinity features: a ratio of two fields, 0/0 and 1/0. */
interface Raw extends Payment { riskPoints: number; riskOf: number }
const ratios: { key: string; value: Raw; error: string }[] = [
  { key: 'nan', value: { ...good, riskPoints: 0, riskOf: 0 }, error: 'model fraud@2: record does not match the input schema: /merchantRisk must be <= 1 (it is NaN)' },
  { key: 'div0', value: { ...good, riskPoints: 1, riskOf: 0 }, error: 'model fraud@2: record does not match the input schema: /merchantRisk must be <= 1 (it is Infinity)' },
  { key: 'fine', value: { ...good, riskPoints: 1, riskOf: 4 }, error: '' },
];
const merchantRisk = ({ riskPoints, riskOf, ...payment }: Raw): Payment => ({ ...payment, merchantRisk: riskPoints / riskOf });

/** payments (JSON) → a derived merchantRisk for records that carry riskPoints → predict → scored. */
function topology(model: Model<Payment, RegistryOutput>): Topology {
  const builder = new StreamsBuilder();
  builder.stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment | Raw>() })
    .mapValues((p) => ('riskPoints' in p ? merchantRisk(p as Raw) : p))
    .predict(model, { maxBatchSize: 8, maxDelayMs: 2 })
    .to('scored', { keySerde: Serdes.string(), valueSerde: Serdes.json() });
  return builder.build();
}

/** Runs the topology in a test driver: the keys scored, and each dead letter's key, stage and error. */
async function throughDriver(model: Model<Payment, RegistryOutput>, raw: readonly { key: string; value: string }[], values: readonly { key: string; value: Raw }[]) {
  const driver = new TopologyTestDriver(topology(model), { applicationId: 'nonfinite', errorHandling: 'dead-letter' });
  try {
    await driver.createInputTopic('payments', Serdes.string(), Serdes.string()).pipeKeyValueList(raw.map((r) => [r.key, r.value] as const));
    await driver.createInputTopic('payments', Serdes.string(), Serdes.json<Raw>()).pipeKeyValueList(values.map((r) => [r.key, r.value] as const));
    const scored = driver.createOutputTopic('scored', Serdes.string(), Serdes.json()).readKeyValuesToList().map((r) => r.key);
    const dlq = driver.createOutputTopic('nonfinite-dlq', Serdes.string(), Serdes.bytes()).readRecordsToList()
      .map((r) => ({ key: r.key, stage: String(r.headers.stage), error: String(r.headers.error) }));
    return { scored, dlq };
  } finally {
    await driver.close();
  }
}

const expectedDeadLetters = (cases: readonly { key: string; error: string }[]) =>
  cases.filter((c) => c.error !== '').map((c) => ({ key: c.key, stage: 'validate', error: c.error }));
const expectedScored = (cases: readonly { key: string; error: string }[]) => cases.filter((c) => c.error === '').map((c) => c.key);

let registry: ModelRegistry;
const apps = testApps();
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  registry = await ModelRegistry.open('models', { pollIntervalMs: 60_000, drift: false });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await apps.closeAll();
  await registry?.close();
});

describe('.predict with an embedded model', () => {
  it('in the test driver: each non-finite record goes to the dead-letter topic at stage validate with its reason; the rest is scored', async () => {
    const model = registry.model<Payment>('fraud', { version: '2' });
    const { scored, dlq } = await throughDriver(model, RAW, ratios);
    await model.close();
    expect(dlq).toEqual([...expectedDeadLetters(RAW), ...expectedDeadLetters(ratios)]);
    expect(scored).toEqual([...expectedScored(RAW), ...expectedScored(ratios)]);
  });

  it('on Kafka: the same records produced as JSON text are dead-lettered with the same reasons', async () => {
    const id = unique('nonfinite-app');
    const input = `${id}-payments`;
    const output = `${id}-scored`;
    await createTopic(input, 1);
    await createTopic(output, 1);
    const model = registry.model<Payment>('fraud', { version: '2' });
    const builder = new StreamsBuilder();
    builder.stream(input, { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment | Raw>() })
      .mapValues((p) => ('riskPoints' in p ? merchantRisk(p as Raw) : p))
      .predict(model, { maxBatchSize: 8, maxDelayMs: 2 })
      .to(output, { keySerde: Serdes.string(), valueSerde: Serdes.json() });
    const app = apps.app(builder.build(), id, { errorHandling: 'dead-letter' });
    await app.start();
    await produce(input, [...RAW, ...ratios.map((r) => ({ key: r.key, value: JSON.stringify(r.value) }))]);
    const dlqTopic = app.deadLetterTopic;
    const cases = [...RAW, ...ratios];
    await waitUntil('every record scored or dead-lettered', async () => {
      const [out, dead] = await Promise.all([readAll(output), readAll(dlqTopic)]);
      return out.length + dead.length >= cases.length;
    });
    const dead = (await readAll(dlqTopic)).map((r) => ({ key: r.key, stage: r.headers.stage, error: r.headers.error }));
    expect(dead).toEqual(expectedDeadLetters(cases));
    expect((await readAll(output)).map((r) => r.key)).toEqual(expectedScored(cases));
  });
});

describe('the HTTP server', () => {
  let server: ModelHttpServer;
  beforeAll(async () => {
    server = await ModelHttpServer.start(registry, { port: 0, dashboard: false });
    closers.push(() => server.close());
  });

  const post = async (body: string) => {
    const res = await fetch(`${server.url}/v1/models/fraud/versions/2:predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as { error?: string; stage?: string; instance?: number; predictions?: unknown[] } };
  };

  it.each([
    ['1e999', withToken('amount', '1e999'), "instance 1: model fraud@2: feature 'amount' is Infinity; features must be finite numbers"],
    ['-1e999', withToken('amount', '-1e999'), 'instance 1: model fraud@2: record does not match the input schema: /amount must be >= 0 (it is -Infinity)'],
    ['1e308 (beyond float32)', withToken('amount', '1e308'), "instance 1: model fraud@2: feature 'amount' is 1e+308, beyond float32's range (±3.4028234663852886e+38): it would reach the model as Infinity"],
    ['"NaN" as a string', withToken('amount', '"NaN"'), 'instance 1: model fraud@2: record does not match the input schema: /amount must be number'],
    ['"Infinity" as a string', withToken('merchantRisk', '"Infinity"'), 'instance 1: model fraud@2: record does not match the input schema: /merchantRisk must be number'],
  ])('an instance holding %s is answered 400 at stage validate, naming the instance and the feature', async (_, bad, error) => {
    const answer = await post(`{"instances":[${JSON.stringify(good)},${bad}]}`);
    expect(answer).toEqual({ status: 400, body: { error, stage: 'validate', instance: 1 } });
  });

  it('the same instances without the bad one are answered 200', async () => {
    const answer = await post(`{"instances":[${JSON.stringify(good)},${JSON.stringify(good)}]}`);
    expect(answer.status).toBe(200);
    expect(answer.body.predictions).toHaveLength(2);
  });
});

describe('the Kafka-native server and the remote model clients', () => {
  let requestTopic: string;
  let producer: Producer;
  let consumer: Consumer;
  const replyTopic = unique('nonfinite-replies');
  const replies = new Map<string, { error?: string; stage?: string; instance?: number; predictions?: unknown[] }>();
  let http: ModelHttpServer;

  beforeAll(async () => {
    requestTopic = unique('nonfinite-requests');
    const server = await ModelKafkaServer.start(registry, { groupId: unique('nonfinite-group'), models: ['fraud'], requestTopic: () => requestTopic, partitions: 1, maxDelayMs: 2, log: () => undefined });
    closers.push(() => server.close());
    http = await ModelHttpServer.start(registry, { port: 0, dashboard: false });
    closers.push(() => http.close());
    await createTopic(replyTopic, 1);
    producer = kafka.producer();
    await producer.connect();
    closers.push(() => producer.disconnect());
    consumer = kafka.consumer({ groupId: unique('nonfinite-reader'), maxWaitTimeInMs: 50 });
    await consumer.connect();
    closers.push(() => consumer.disconnect());
    await consumer.subscribe({ topics: [replyTopic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        replies.set(String(message.headers?.['correlation-id']), JSON.parse(message.value!.toString()) as never);
      },
    });
  });

  it('a request holding 1e999 or 1e308 gets an error reply at stage validate naming the instance', async () => {
    const requests = [
      { id: randomUUID(), value: `[${JSON.stringify(good)},${withToken('amount', '1e999')}]`, error: "instance 1: model fraud@2: feature 'amount' is Infinity; features must be finite numbers", instance: 1 },
      { id: randomUUID(), value: `[${withToken('amount', '1e308')}]`, error: "instance 0: model fraud@2: feature 'amount' is 1e+308, beyond float32's range (±3.4028234663852886e+38): it would reach the model as Infinity", instance: 0 },
    ];
    await producer.send({
      topic: requestTopic,
      messages: requests.map((r) => ({ key: r.id, value: r.value, headers: { 'correlation-id': r.id, 'reply-to': replyTopic } })),
    });
    await waitUntil('the replies', () => requests.every((r) => replies.has(r.id)), 30_000, 50);
    for (const r of requests) expect(replies.get(r.id)).toEqual({ error: r.error, stage: 'validate', instance: r.instance });
  });

  // The clients send ±Infinity as 1e999 (JSON.stringify would write null, a missing value) and NaN as null.
  const remoteCases = [
    { key: 'nan', value: { ...good, riskPoints: 0, riskOf: 0 }, error: 'model fraud@2: record does not match the input schema: /merchantRisk must be number' },
    { key: 'div0', value: { ...good, riskPoints: 1, riskOf: 0 }, error: 'model fraud@2: record does not match the input schema: /merchantRisk must be <= 1 (it is Infinity)' },
    { key: 'fine', value: { ...good, riskPoints: 1, riskOf: 4 }, error: '' },
  ];
  const rawCases = RAW.filter((r) => r.key !== 'neg-inf');

  it('over Kafka, .predict dead-letters each refused record with the server\'s reason, naming the model once', async () => {
    const model = remoteModel<Payment>({ name: 'fraud', kafka: { requestTopic, replyTopic: unique('nonfinite-client'), version: '2' } });
    const { scored, dlq } = await throughDriver(model, rawCases, remoteCases);
    await model.close();
    expect(dlq).toEqual([...expectedDeadLetters(rawCases), ...expectedDeadLetters(remoteCases)]);
    expect(scored).toEqual([...expectedScored(rawCases), ...expectedScored(remoteCases)]);
  });

  it('over HTTP, .predict dead-letters them with the same reasons', async () => {
    const model = remoteModel<Payment>({ http: `${http.url}/v1/models/fraud/versions/2:predict` });
    const { scored, dlq } = await throughDriver(model, rawCases, remoteCases);
    await model.close();
    expect(dlq).toEqual([...expectedDeadLetters(rawCases), ...expectedDeadLetters(remoteCases)]);
    expect(scored).toEqual([...expectedScored(rawCases), ...expectedScored(remoteCases)]);
  });
});
