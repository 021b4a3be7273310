/**
 * The remote model's per-request timeout over Kafka grows with the records a request holds
 * (`timeoutMs` + `timeoutPerRecordMs` each), so a large micro-batch on a slow server is waited for
 * instead of dead-lettered. The server here holds each request for its full `maxDelayMs` (1 s: its
 * batches are never full), a lower bound a loaded machine can only lengthen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelKafkaServer, ModelRegistry, remoteModel, type ScoreOutcome, type RegistryOutput } from 'tributary';
import { embedded, expectSamePredictions, holdout, unique } from './helpers.ts';

const records = holdout('2').slice(0, 100);
const requestTopic = unique('slow-requests');
let registry: ModelRegistry;
let server: ModelKafkaServer;

beforeAll(async () => {
  registry = await ModelRegistry.open('models', { pollIntervalMs: 60_000, drift: false });
  server = await ModelKafkaServer.start(registry, { groupId: unique('slow'), models: ['fraud'], requestTopic: () => requestTopic, partitions: 1, maxBatchSize: 10_000, maxDelayMs: 1000, log: () => undefined });
});

afterAll(async () => {
  await server?.close();
  await registry?.close();
});

async function score(timeoutPerRecordMs: number, replyTopic = unique('slow-replies')): Promise<ScoreOutcome<RegistryOutput>[]> {
  const model = remoteModel({ name: 'fraud', kafka: { requestTopic, replyTopic, version: '2', timeoutMs: 300, timeoutPerRecordMs, retries: 0 } });
  try {
    return await model.scoreBatch(records.map((value, i) => ({ key: `r${i}`, value })));
  } finally {
    await model.close();
  }
}

describe('remoteModel over Kafka, a request slower than timeoutMs', () => {
  it('with timeoutPerRecordMs 0 the 100-record request times out after 300 ms and its records fail at stage inference, saying why', async () => {
    // first in the file: its request opens the server's batch, which waits the full second
    const replyTopic = unique('slow-replies');
    const outcomes = await score(0, replyTopic);
    expect(outcomes).toHaveLength(100);
    for (const o of outcomes) {
      expect(o.ok).toBe(false);
      if (o.ok) continue;
      expect(o.stage).toBe('inference');
      expect(o.error.message).toBe(`model fraud: no reply on ${replyTopic} to ${requestTopic} within 1 attempt(s) of 300 ms (timeoutMs 300 + 100 record(s) × timeoutPerRecordMs 0)`);
    }
  });

  it('with timeoutPerRecordMs 100 the same request waits 10.3 s and every record is scored, equal to the embedded model', async () => {
    const outcomes = await score(100);
    expectSamePredictions(outcomes.map((o) => {
      if (!o.ok) throw o.error;
      return o.prediction;
    }), await embedded(registry, '2', records));
  });

  it('a negative timeoutPerRecordMs fails at construction, naming the option', () => {
    expect(() => remoteModel({ kafka: { requestTopic, replyTopic: 'r', timeoutPerRecordMs: -1 } })).toThrow('remoteModel kafka.timeoutPerRecordMs must be a finite number >= 0, got -1');
  });
});
