import { freePort } from '../integration/kafka-helpers.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ModelHttpServer, ModelKafkaServer, ModelRegistry, Serdes, StreamsBuilder, TopologyTestDriver, remoteModel,
  type Model, type Prediction, type PredictOptions, type RegistryOutput,
} from 'tributary';
import { createTopicsAndWait } from '../../src/transport/create-topics.ts';
import { counter, embedded, holdout, kafka, unique, waitFor, expectSamePredictions, type Payment } from './helpers.ts';

interface Scored { prediction: Prediction<RegistryOutput> }

let registry: ModelRegistry;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  registry = await ModelRegistry.open('models', { pollIntervalMs: 60_000 });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await registry?.close();
});

/** Scores records through `.predict(model)` in a test driver; returns the scored records and the dead letters. */
async function predictThrough(model: Model<Payment, RegistryOutput>, records: readonly Payment[], options: PredictOptions<Payment, RegistryOutput, Scored> = {}) {
  const builder = new StreamsBuilder();
  builder.stream('payments', { valueSerde: Serdes.json<Payment>() })
    .predict(model, { maxBatchSize: 20, maxDelayMs: 2, ...options })
    .to('scored');
  const driver = new TopologyTestDriver(builder.build(), { applicationId: 'remote', errorHandling: 'dead-letter' });
  try {
    const input = driver.createInputTopic('payments', Serdes.string(), Serdes.json<Payment>());
    await input.pipeKeyValueList(records.map((r, i) => [`p${i}`, r] as const));
    const scored = driver.createOutputTopic('scored', Serdes.string(), Serdes.json<Scored>()).readKeyValuesToList();
    const dlq = driver.createOutputTopic('remote-dlq', Serdes.string(), Serdes.bytes()).readRecordsToList();
    return { scored, dlq: dlq.map((r) => ({ key: r.key, stage: String(r.headers.stage), error: String(r.headers.error) })) };
  } finally {
    await driver.close();
  }
}

/** The number of records a topic holds. */
async function records(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The content type of each request record on `topic` ('json' without the header), in the order they were produced. */
/** The content type of each request record on a topic, in the order they were sent ('json' when it has none). */
function contentTypes(topic: string): Promise<string[]> {
  return requestHeaders(topic, 'content-type', 'json');
}

/** One header of each request record on a topic, in the order they were sent (`absent` when it has none). */
async function requestHeaders(topic: string, name: string, absent: string): Promise<string[]> {
  const expected = await records(topic);
  const seen: { at: number; type: string }[] = [];
  const consumer = kafka.consumer({ groupId: unique('request-reader'), maxWaitTimeInMs: 50 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push({ at: Number(message.timestamp), type: message.headers?.[name]?.toString() ?? absent }) });
    await waitFor('the request records', () => seen.length >= expected);
  } finally {
    await consumer.disconnect();
  }
  return seen.sort((a, b) => a.at - b.at).map((s) => s.type);
}

async function kafkaServer(groupId: string, requestTopic: string): Promise<ModelKafkaServer> {
  const server = await ModelKafkaServer.start(registry, { groupId, models: ['fraud'], requestTopic: () => requestTopic, partitions: 2, maxDelayMs: 2 });
  closers.push(() => server.close());
  return server;
}

describe('remoteModel over HTTP', () => {
  let server: ModelHttpServer;
  beforeAll(async () => {
    server = await ModelHttpServer.start(registry, { port: 0, host: '127.0.0.1' });
    closers.push(() => server.close());
  });

  it('.predict gets the same predictions as the embedded model, in input order', async () => {
    const records = holdout('2');
    const model = remoteModel<Payment>({ http: `${server.url}/v1/models/fraud/versions/2:predict` });
    const { scored, dlq } = await predictThrough(model, records);
    await model.close();
    expect(dlq).toEqual([]);
    expect(scored.map((r) => r.key)).toEqual(records.map((_, i) => `p${i}`));
    expectSamePredictions(scored.map((r) => r.value.prediction), await embedded(registry, '2', records));
  });

  it('an input failing the schema goes to the dead-letter topic with stage validate; the rest of its batch is scored', async () => {
    const records = holdout('2').slice(0, 10);
    records[3] = { ...records[3]!, amount: -5 };
    const model = remoteModel<Payment>({ http: `${server.url}/v1/models/fraud:predict` });
    const { scored, dlq } = await predictThrough(model, records);
    await model.close();
    expect(dlq).toEqual([{ key: 'p3', stage: 'validate', error: expect.stringMatching(/input schema/) }]);
    expect(scored.map((r) => r.key)).toEqual(records.map((_, i) => `p${i}`).filter((k) => k !== 'p3'));
  });

  it('while the server is down requests are retried, and succeed once it is up', async () => {
    const port = await freePort();
    const records = holdout('1').slice(0, 30);
    const model = remoteModel<Payment>({ http: `http://127.0.0.1:${port}/v1/models/fraud/versions/1:predict`, retries: 10, retryBackoffMs: 100, timeoutMs: 2000 });
    const retriesBefore = await counter('tributary_remote_model_retries_total', { transport: 'http', model: 'fraud' });
    const scoring = predictThrough(model, records);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const late = await ModelHttpServer.start(registry, { port, host: '127.0.0.1' });
    closers.push(() => late.close());
    const { scored, dlq } = await scoring;
    await model.close();
    expect(dlq).toEqual([]);
    expectSamePredictions(scored.map((r) => r.value.prediction), await embedded(registry, '1', records));
    expect(await counter('tributary_remote_model_retries_total', { transport: 'http', model: 'fraud' })).toBeGreaterThan(retriesBefore);
  });

  it('when the server stays unreachable, the records go to the dead-letter topic with stage inference', async () => {
    const port = await freePort();
    const model = remoteModel<Payment>({ http: `http://127.0.0.1:${port}/v1/models/fraud:predict`, retries: 1, retryBackoffMs: 10 });
    const { scored, dlq } = await predictThrough(model, holdout('2').slice(0, 3));
    await model.close();
    expect(scored).toEqual([]);
    expect(dlq.map((d) => [d.key, d.stage])).toEqual([['p0', 'inference'], ['p1', 'inference'], ['p2', 'inference']]);
    expect(dlq[0]!.error).toMatch(/failed 2 times/);
  });
});

describe('remoteModel over Kafka', () => {
  it('.predict gets the same predictions as the embedded model, in input order', async () => {
    const requestTopic = unique('fraud-requests');
    await kafkaServer(unique('group'), requestTopic);
    const records = holdout('2');
    const model = remoteModel<Payment>({ kafka: { requestTopic, replyTopic: unique('replies') } });
    const { scored, dlq } = await predictThrough(model, records);
    await model.close();
    expect(dlq).toEqual([]);
    expect(scored.map((r) => r.key)).toEqual(records.map((_, i) => `p${i}`));
    expectSamePredictions(scored.map((r) => r.value.prediction), await embedded(registry, '2', records));
  });

  it('a micro-batch travels as one request record: JSON until a reply says the server reads column batches, then a column batch (and its reply one); one above 512 KiB as several JSON ones; every record is scored once', async () => {
    const requestTopic = unique('fraud-requests');
    await kafkaServer(unique('group'), requestTopic);
    const small = holdout('2').slice(0, 100);
    // A generous timeout: a loaded machine takes seconds to score 10 000 records, and a retry would add request records.
    const model = remoteModel<Payment>({ kafka: { requestTopic, replyTopic: unique('replies'), timeoutMs: 120_000 } });
    // A batch goes only when full (a long maxDelayMs), so a loaded machine cannot cut it in two.
    const first = await predictThrough(model, small, { maxBatchSize: 100, maxDelayMs: 10_000 });
    expect(first.dlq).toEqual([]);
    expect(await contentTypes(requestTopic)).toEqual(['json']);
    // as JSON above 512 KiB, as columns (7 float64 per record) below it: one request
    const large = Array.from({ length: 4500 }, (_, i) => holdout('2')[i % 200]!);
    expect(Buffer.byteLength(JSON.stringify(large))).toBeGreaterThan(512 * 1024);
    const second = await predictThrough(model, large, { maxBatchSize: 4500, maxDelayMs: 10_000 });
    expect(second.dlq).toEqual([]);
    expect(second.scored.map((r) => r.key)).toEqual(large.map((_, i) => `p${i}`));
    expectSamePredictions(second.scored.map((r) => r.value.prediction), await embedded(registry, '2', large));
    expect(await contentTypes(requestTopic)).toEqual(['json', 'application/vnd.tributary.columns']);
    // the first reply said the server writes column replies: the second request asked for one (and read it: the predictions above)
    expect(await requestHeaders(requestTopic, 'reply-format', 'none')).toEqual(['compact', 'columns']);
    // above 512 KiB even as columns: JSON requests, each under 512 KiB
    const huge = Array.from({ length: 10_000 }, (_, i) => holdout('2')[i % 200]!);
    const third = await predictThrough(model, huge, { maxBatchSize: 10_000, maxDelayMs: 10_000 });
    await model.close();
    expect(third.dlq).toEqual([]);
    expect(third.scored).toHaveLength(huge.length);
    const types = await contentTypes(requestTopic);
    expect(types.length).toBeGreaterThanOrEqual(2 + Math.ceil(Buffer.byteLength(JSON.stringify(huge)) / (512 * 1024)));
    expect(types.slice(2).every((t) => t === 'json')).toBe(true);
  }, 240_000);

  it('an input failing the schema goes to the dead-letter topic with stage validate', async () => {
    const requestTopic = unique('fraud-requests');
    await kafkaServer(unique('group'), requestTopic);
    const records = holdout('2').slice(0, 5);
    records[1] = { ...records[1]!, hour: 99 };
    const model = remoteModel<Payment>({ kafka: { requestTopic, replyTopic: unique('replies'), version: '1' } });
    const { scored, dlq } = await predictThrough(model, records);
    await model.close();
    expect(dlq).toEqual([{ key: 'p1', stage: 'validate', error: expect.stringMatching(/input schema/) }]);
    expect(scored.map((r) => [r.key, r.value.prediction.version])).toEqual([['p0', '1'], ['p2', '1'], ['p3', '1'], ['p4', '1']]);
  });

  it('the model server restarts mid-stream: requests time out and are retried, and every input gets exactly one prediction', async () => {
    const groupId = unique('group');
    const requestTopic = unique('fraud-requests');
    const first = await kafkaServer(groupId, requestTopic);
    const records = Array.from({ length: 400 }, (_, i) => holdout('2')[i % 200]!);
    const model = remoteModel<Payment>({ name: 'fraud', kafka: { requestTopic, replyTopic: unique('replies'), timeoutMs: 1000, retries: 20 } });
    const retriesBefore = await counter('tributary_remote_model_retries_total', { transport: 'kafka', model: 'fraud' });
    let predicted = 0;
    const scoring = predictThrough(model, records, { maxBatchSize: 10, concurrency: 1, as: (value, prediction) => (predicted++, { ...value, prediction }) });
    await waitFor('the first predictions', () => predicted >= 40, 30_000);
    const atStop = predicted;
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await kafkaServer(groupId, requestTopic);
    const { scored, dlq } = await scoring;
    await model.close();
    expect(atStop).toBeLessThan(records.length);
    expect(dlq).toEqual([]);
    expect(scored).toHaveLength(records.length);
    expect(new Set(scored.map((r) => r.key))).toEqual(new Set(records.map((_, i) => `p${i}`)));
    expect(scored.map((r) => r.key)).toEqual(records.map((_, i) => `p${i}`));
    const expected = await embedded(registry, '2', records);
    expectSamePredictions(scored.map((r) => r.value.prediction), expected);
    expect(await counter('tributary_remote_model_retries_total', { transport: 'kafka', model: 'fraud' })).toBeGreaterThan(retriesBefore);
  });

  it('with no server answering, the records go to the dead-letter topic after the retries', async () => {
    const requestTopic = unique('nobody-requests');
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic: requestTopic, numPartitions: 1 }]);
    await admin.disconnect();
    const model = remoteModel<Payment>({ kafka: { requestTopic, replyTopic: unique('replies'), timeoutMs: 300, retries: 1 } });
    const { scored, dlq } = await predictThrough(model, holdout('2').slice(0, 2));
    await model.close();
    expect(scored).toEqual([]);
    expect(dlq.map((d) => [d.key, d.stage])).toEqual([['p0', 'inference'], ['p1', 'inference']]);
    expect(dlq[0]!.error).toMatch(/no reply .* within 2 attempt/);
  });
});
