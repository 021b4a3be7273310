import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer, IHeaders, Producer } from 'kafkajs';
import { ModelKafkaServer, ModelRegistry, type Prediction, type RegistryOutput } from 'tributary';
import { decodeColumns, encodeColumns } from '../../src/serving/column-batch.ts';
import { createTopicsAndWait } from '../../src/transport/create-topics.ts';
import { counter, embedded, holdout, kafka, unique, waitFor, withoutLatency, expectSamePredictions } from './helpers.ts';

interface Reply {
  headers: Record<string, string>;
  value: { prediction?: Prediction<RegistryOutput>; predictions?: Prediction<RegistryOutput>[]; model?: string; version?: string; error?: string; stage?: string; instance?: number };
}

const groupId = unique('group');
const requestTopic = unique('fraud-requests');
const sharedTopic = unique('shared');
const replyTopic = unique('replies');
const logged: string[] = [];

let registry: ModelRegistry;
let servers: ModelKafkaServer[] = [];
let producer: Producer;
let consumer: Consumer;
const replies = new Map<string, Reply[]>();

const text = (headers: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));

function startServer(): Promise<ModelKafkaServer> {
  return ModelKafkaServer.start(registry, {
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    groupId,
    models: ['fraud'],
    requestTopic: () => requestTopic,
    sharedTopic,
    partitions: 2,
    log: (line) => logged.push(line),
  }).then((server) => {
    servers.push(server);
    return server;
  });
}

/** Sends requests (value, headers) and resolves with their replies by correlation id. */
async function request(topic: string, requests: { key?: string; value: string | Buffer; headers?: Record<string, string> }[]): Promise<Reply[]> {
  const ids = requests.map(() => randomUUID());
  await producer.send({
    topic,
    messages: requests.map((r, i) => ({ key: r.key ?? ids[i]!, value: r.value, headers: { 'correlation-id': ids[i]!, 'reply-to': replyTopic, ...r.headers } })),
  });
  await waitFor('the replies', () => ids.every((id) => replies.has(id)));
  return ids.map((id) => replies.get(id)![0]!);
}

beforeAll(async () => {
  registry = await ModelRegistry.open('models', { pollIntervalMs: 60_000 });
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic: replyTopic, numPartitions: 1 }]);
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  consumer = kafka.consumer({ groupId: unique('reader'), maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics: [replyTopic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = text(message.headers);
      const list = replies.get(headers['correlation-id']!) ?? [];
      // a column reply holds only the predictions (as columns); its model and version are headers
      const value = headers['content-type'] === 'application/vnd.tributary.columns'
        ? { predictions: decodeColumns(message.value!) as unknown as Prediction<RegistryOutput>[] }
        : (JSON.parse(message.value!.toString()) as Reply['value']);
      list.push({ headers, value });
      replies.set(headers['correlation-id']!, list);
    },
  });
  await startServer();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await consumer?.disconnect();
  await producer?.disconnect();
  await registry?.close();
});

describe('ModelKafkaServer', () => {
  it('replies to reply-to with the correlation id and the registry model\'s prediction', async () => {
    const records = holdout('2').slice(0, 40);
    const answers = await request(requestTopic, records.map((r) => ({ value: JSON.stringify(r) })));
    expectSamePredictions(answers.map((a) => a.value.prediction!), await embedded(registry, '2', records));
    expect(answers[0]!.headers).toMatchObject({ model: 'fraud', version: '2', server: servers[0]!.id });
  });

  it('a JSON array value is a batch answered with "predictions"; the version header pins a version', async () => {
    const records = holdout('1').slice(0, 5);
    const [answer] = await request(requestTopic, [{ value: JSON.stringify(records), headers: { version: '1' } }]);
    expectSamePredictions(answer!.value.predictions!, await embedded(registry, '1', records));
    expect(answer!.headers.version).toBe('1');
  });

  it('with reply-format: compact a batch reply names the model and version once, not in every prediction', async () => {
    const records = holdout('2').slice(0, 5);
    const [compact, full] = await request(requestTopic, [
      { value: JSON.stringify(records), headers: { 'reply-format': 'compact' } },
      { value: JSON.stringify(records) },
    ]);
    expect(Object.keys(compact!.value).sort()).toEqual(['model', 'predictions', 'version']);
    expect(compact!.value).toMatchObject({ model: 'fraud', version: '2' });
    const expected = await embedded(registry, '2', records);
    for (const prediction of compact!.value.predictions!) expect(Object.keys(prediction).sort()).toEqual(['label', 'labelIndex', 'probabilities', 'score']);
    expectSamePredictions(compact!.value.predictions!.map((p) => ({ ...p, model: 'fraud', version: '2', latencyMs: 0 })), expected);
    // without the header (an older client) every prediction still carries them
    expectSamePredictions(full!.value.predictions!, expected);
    expect(full!.value.model).toBeUndefined();
  });

  it('a column batch (content-type application/vnd.tributary.columns) is scored as its JSON array is; replies advertise it in accepts', async () => {
    const records = holdout('2').slice(0, 20);
    const [columns, malformed] = await request(requestTopic, [
      { value: Buffer.from(encodeColumns(records.map((r, i) => ({ paymentId: `p${i}`, ...r })))!), headers: { 'content-type': 'application/vnd.tributary.columns' } },
      { value: 'not a column batch', headers: { 'content-type': 'application/vnd.tributary.columns' } },
    ]);
    expectSamePredictions(columns!.value.predictions!, await embedded(registry, '2', records));
    expect(columns!.headers.accepts).toBe('application/vnd.tributary.columns');
    expect(malformed!.value).toMatchObject({ stage: 'request' });
    expect(malformed!.value.error).toMatch(/^the request value is not a column batch: /);
  });

  it('with reply-format: columns a batch reply is a column batch of the predictions, the model and version in its headers; replies advertise it in reply-formats', async () => {
    const records = holdout('2').slice(0, 30);
    const [columns, single] = await request(requestTopic, [
      { value: JSON.stringify(records), headers: { 'reply-format': 'columns' } },
      // one instance (not a batch) is answered as JSON whatever the format
      { value: JSON.stringify(records[0]), headers: { 'reply-format': 'columns' } },
    ]);
    expect(columns!.headers).toMatchObject({ 'content-type': 'application/vnd.tributary.columns', model: 'fraud', version: '2', 'reply-formats': 'compact,columns' });
    const predictions = columns!.value.predictions!;
    for (const prediction of predictions) expect(Object.keys(prediction)).toEqual(['label', 'labelIndex', 'score', 'probabilities']);
    expect(Array.isArray((predictions[0] as { probabilities?: unknown }).probabilities)).toBe(true);
    expectSamePredictions(predictions.map((p) => ({ ...p, model: 'fraud', version: '2', latencyMs: 0 })), await embedded(registry, '2', records));
    expect(single!.headers['content-type']).toBeUndefined();
    expect(single!.value.prediction).toMatchObject({ model: 'fraud', version: '2' });
  });

  it('a backlog whose replies exceed the broker\'s 1 MiB record batch is answered in several sends, each request once', async () => {
    // 64 column-batch requests of 256 instances (15 KB each, so a 1 MiB fetch holds them all) get
    // about 2.6 MB of full JSON replies, in one chunk of a server that starts after them
    const topic = unique('backlog-requests');
    const records = holdout('2').slice(0, 256);
    const value = Buffer.from(encodeColumns(records)!);
    const ids = Array.from({ length: 64 }, () => randomUUID());
    await producer.send({ topic, messages: ids.map((id) => ({ key: id, value, headers: { 'correlation-id': id, 'reply-to': replyTopic, 'content-type': 'application/vnd.tributary.columns' } })) });
    const server = await ModelKafkaServer.start(registry, { groupId: unique('backlog-group'), models: ['fraud'], requestTopic: () => topic, partitions: 1, log: (line) => logged.push(line) });
    servers.push(server);
    await waitFor('the backlog\'s replies', () => ids.every((id) => replies.has(id)), 60_000);
    const expected = await embedded(registry, '2', records);
    for (const id of ids) {
      expect(replies.get(id)!.length).toBeLessThanOrEqual(1);
      expectSamePredictions(replies.get(id)![0]!.value.predictions!, expected);
    }
    expect(logged.filter((line) => line.includes(topic))).toEqual([]);
  }, 90_000);

  it('on the shared topic the model header names the model', async () => {
    const [answer] = await request(sharedTopic, [{ value: JSON.stringify(holdout('2')[0]), headers: { model: 'fraud' } }]);
    expect(answer!.value.prediction).toMatchObject({ model: 'fraud', version: '2' });
  });

  it('bad requests get an error reply, never silence', async () => {
    const record = holdout('2')[0]!;
    const [notJson, schema, unknownModel, noModel, badVersion, badInBatch] = await request(requestTopic, [
      { value: '{"amount": ' },
      { value: JSON.stringify({ ...record, amount: -1 }) },
      { value: JSON.stringify(record), headers: { model: 'nope' } },
      { value: '{}' },
      { value: JSON.stringify(record), headers: { version: '42' } },
      { value: JSON.stringify([record, { ...record, hour: 99 }]) },
    ]);
    expect(notJson!.value).toMatchObject({ stage: 'request', error: expect.stringMatching(/not JSON/) });
    expect(schema!.value).toMatchObject({ stage: 'validate', error: expect.stringMatching(/input schema/) });
    expect(unknownModel!.value).toMatchObject({ stage: 'request', error: expect.stringMatching(/no model 'nope'/) });
    expect(noModel!.value).toMatchObject({ stage: 'validate' });
    expect(badVersion!.value).toMatchObject({ stage: 'request', error: expect.stringMatching(/no version '42'/) });
    expect(badInBatch!.value).toMatchObject({ stage: 'validate', instance: 1, error: expect.stringMatching(/^instance 1:/) });
    const [shared] = await request(sharedTopic, [{ value: JSON.stringify(record) }]);
    expect(shared!.value).toMatchObject({ stage: 'request', error: expect.stringMatching(/model header/) });
  });

  it('a request without reply-to goes to <group>-dlq with the reason, is logged and counted', async () => {
    const before = await counter('tributary_serving_dead_letters_total');
    const dlq: { value: string; headers: Record<string, string> }[] = [];
    const reader = kafka.consumer({ groupId: unique('dlq-reader'), maxWaitTimeInMs: 50 });
    await reader.connect();
    await reader.subscribe({ topics: [`${groupId}-dlq`], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void dlq.push({ value: message.value!.toString(), headers: text(message.headers) }) });
    await producer.send({ topic: requestTopic, messages: [{ key: 'lost', value: '{"amount": 1}', headers: { 'correlation-id': 'no-reply-to' } }] });
    await waitFor('the dead letter', () => dlq.length > 0);
    await reader.disconnect();
    expect(dlq[0]).toMatchObject({ value: '{"amount": 1}', headers: { 'correlation-id': 'no-reply-to', error: expect.stringMatching(/no reply-to header/) } });
    expect(await counter('tributary_serving_dead_letters_total')).toBe(before + 1);
    expect(logged.some((line) => line.includes('no reply-to header'))).toBe(true);
  });

  it('two servers in one group share the partitions and both answer', async () => {
    const second = await startServer();
    const partitions = (s: ModelKafkaServer): number => Object.values(s.assignment).flat().length;
    await waitFor('both servers to own partitions', () => partitions(servers[0]!) > 0 && partitions(second) > 0 && partitions(servers[0]!) + partitions(second) === 4);
    const records = holdout('2').slice(0, 60);
    const answers = await request(requestTopic, records.map((r, i) => ({ key: `k${i}`, value: JSON.stringify(r) })));
    expectSamePredictions(answers.map((a) => a.value.prediction!), await embedded(registry, '2', records));
    expect(new Set(answers.map((a) => a.headers.server))).toEqual(new Set([servers[0]!.id, second.id]));
  });
});
