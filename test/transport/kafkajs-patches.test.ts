import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { filterAbortedMessages, groupingModulePath, kafkajsModulePath, linearGroupMessagesPerPartition, type FetchedMessage } from '../../src/transport/kafkajs-patches.ts';
import '../../src/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);

/** kafkajs's own module at `path`, evaluated from its file (the module cache holds ours). */
function kafkajsOwn<T>(path: string): T {
  const module = { exports: {} as unknown };
  const local = createRequire(path);
  new Function('module', 'exports', 'require', readFileSync(path, 'utf8'))(module, module.exports, local);
  return module.exports as T;
}

const original = (): typeof linearGroupMessagesPerPartition => kafkajsOwn(groupingModulePath()!);
const filterPath = kafkajsModulePath('kafkajs/src/consumer/filterAbortedMessages.js')!;

const ABORT_KEY = Buffer.from([0, 0, 0, 0]);
const COMMIT_KEY = Buffer.from([0, 0, 0, 1]);
/** A data record of `producer` at `offset` (transactional unless said), or a control record with `key`. */
function at(offset: number, producer: string, control?: Buffer, inTransaction = true): FetchedMessage & { value: string } {
  return { offset: String(offset), key: control ?? Buffer.from(`k${offset}`), isControlRecord: control !== undefined, batchContext: { producerId: producer, inTransaction }, value: `${producer}@${offset}` };
}
const kept = (messages: Array<{ value: string; isControlRecord?: boolean }>): string[] => messages.filter((m) => !m.isControlRecord).map((m) => m.value);

describe('kafkajs patches', () => {
  it('kafkajs groups messages with the linear version', () => {
    expect(require(groupingModulePath()!)).toBe(linearGroupMessagesPerPartition);
  });

  it('groups exactly as kafkajs does: partitions in first-seen order, messages in send order', () => {
    const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }];
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${(i * 7919) % 13}`, value: `v${i}`, partition: (i * 31) % 3 }));
    const partitioner = ({ message }: { message: unknown }): number => (message as { partition: number }).partition;
    const args = { topic: 't', partitionMetadata, messages, partitioner };
    const ours = linearGroupMessagesPerPartition(args);
    const theirs = original()(args);
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect(ours).toEqual(theirs);
    expect(linearGroupMessagesPerPartition({ ...args, partitionMetadata: [] })).toEqual(original()({ ...args, partitionMetadata: [] }));
  });

  it('kafkajs filters aborted records with the fixed version', () => {
    expect(require(filterPath)).toBe(filterAbortedMessages);
  });

  it('drops aborted transactions listed out of first-offset order, as Kafka\'s Java consumer does (kafkajs delivered A@0)', () => {
    // A begins at 0, B at 1; B's abort marker (2) is written before A's (4); C commits at 5-6.
    const messages = [at(0, 'A'), at(1, 'B'), at(2, 'B', ABORT_KEY), at(3, 'A'), at(4, 'A', ABORT_KEY), at(5, 'C'), at(6, 'C', COMMIT_KEY)];
    const abortedTransactions = [
      { producerId: 'B', firstOffset: '1' },
      { producerId: 'A', firstOffset: '0' },
    ];
    expect(kept(filterAbortedMessages({ messages, abortedTransactions }))).toEqual(['C@5']);
    const theirs = kafkajsOwn<typeof filterAbortedMessages>(filterPath);
    expect(kept(theirs({ messages, abortedTransactions }))).toEqual(['A@0', 'C@5']);
  });

  it('starts every aborted transaction a fetch begins inside of, and ends one only at its own abort marker', () => {
    // The fetch starts at 10, inside both A's (from 4) and B's (from 7) aborted transactions; a
    // non-transactional record of A, a data record whose key is four zero bytes, and B's later
    // committed transaction are kept or dropped as the log says.
    const messages = [at(10, 'B'), at(11, 'A'), at(12, 'A', undefined, false), { ...at(13, 'A'), key: ABORT_KEY }, at(14, 'A', ABORT_KEY), at(15, 'A'), at(16, 'B', ABORT_KEY), at(17, 'B'), at(18, 'B', COMMIT_KEY)];
    const abortedTransactions = [
      { producerId: 'B', firstOffset: '7' },
      { producerId: 'A', firstOffset: '4' },
    ];
    expect(kept(filterAbortedMessages({ messages, abortedTransactions }))).toEqual(['A@12', 'A@15', 'B@17']);
    expect(filterAbortedMessages({ messages, abortedTransactions: [] })).toBe(messages);
  });
});
