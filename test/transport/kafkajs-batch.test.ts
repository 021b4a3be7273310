import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { offsetAtLeast } from '../../src/transport/kafkajs-batch.ts';
import { kafkajsModulePath, type FetchedMessage } from '../../src/transport/kafkajs-patches.ts';
import '../../src/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);
const batchPath = kafkajsModulePath('kafkajs/src/consumer/batch.js')!;

interface BatchLike {
  topic: string;
  partition: number;
  highWatermark: string;
  fetchedOffset: string;
  rawMessages: unknown[];
  messagesWithinOffset: unknown[];
  messages: unknown[];
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  isEmpty(): boolean;
}
type BatchConstructor = new (topic: string, fetchedOffset: string, partitionData: unknown) => BatchLike;

/** kafkajs's own Batch, evaluated from its file (the module cache holds ours). */
function kafkajsBatch(): BatchConstructor {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', readFileSync(batchPath, 'utf8'))(module, module.exports, createRequire(batchPath));
  return module.exports as BatchConstructor;
}

function at(offset: string, control = false): FetchedMessage & { value: string } {
  return { offset, key: Buffer.from(`k${offset}`), isControlRecord: control, batchContext: { producerId: '7', inTransaction: false }, value: `v${offset}` };
}

const view = (batch: BatchLike): unknown => ({
  topic: batch.topic,
  partition: batch.partition,
  highWatermark: batch.highWatermark,
  fetchedOffset: batch.fetchedOffset,
  raw: batch.rawMessages,
  within: batch.messagesWithinOffset,
  messages: batch.messages,
  first: batch.firstOffset(),
  last: batch.lastOffset(),
  lag: batch.offsetLag(),
  empty: batch.isEmpty(),
});

describe('kafkajs Batch patch', () => {
  it('kafkajs builds batches with ours', () => {
    const Ours = require(batchPath) as BatchConstructor;
    expect(Ours).not.toBe(kafkajsBatch());
    expect(Object.getPrototypeOf(Ours.prototype).constructor.name).toBe('Batch');
  });

  it('keeps the records kafkajs keeps, at or after the fetched offset, without control records', () => {
    const Ours = require(batchPath) as BatchConstructor;
    const Theirs = kafkajsBatch();
    const offsets = ['0', '5', '9', '10', '11', '99', '100', '101', '998', '999', '1000', '9007199254740993', '18446744073709551615'];
    for (const fetched of ['0', '9', '10', '100', '999', '1000', '9007199254740992', '-1', '007']) {
      for (let from = 0; from < offsets.length; from += 3) {
        const messages = offsets.slice(from).map((offset, i) => at(offset, i === 2));
        messages.push(at('-3'));
        const data = { partition: 2, highWatermark: '2000', messages, abortedTransactions: [] };
        expect(view(new Ours('t', fetched, data)), `fetched ${fetched}`).toEqual(view(new Theirs('t', fetched, data)));
      }
    }
  });

  it('orders canonical decimal offsets as numbers', () => {
    const values = [0, 1, 9, 10, 99, 100, 12345, 123456, 2 ** 53];
    for (const a of values) for (const b of values) expect(offsetAtLeast(String(a), String(b))).toBe(a >= b);
  });
});
