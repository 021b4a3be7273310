import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { produceRequestV3, type ProduceRequestArgs } from '../../src/transport/kafkajs-produce-request.ts';
import { kafkajsModulePath } from '../../src/transport/kafkajs-patches.ts';
import { encodeUncompressedPartition } from '../../src/transport/kafkajs-record-batch.ts';
import '../../src/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);
const requestPath = kafkajsModulePath('kafkajs/src/protocol/requests/produce/v3/request.js')!;
type Request = (args: ProduceRequestArgs) => { apiKey: number; apiVersion: number; apiName: string; expectResponse(): boolean; encode(): Promise<{ buffer: Buffer }> };

/** kafkajs's own Produce v3 request, evaluated from its file (the module cache holds ours). */
function kafkajsRequest(): Request {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', readFileSync(requestPath, 'utf8'))(module, module.exports, createRequire(requestPath));
  return module.exports as Request;
}

async function encoded(request: Request, args: ProduceRequestArgs): Promise<Buffer> {
  return (await request(args).encode()).buffer;
}

const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: string): unknown };
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };

function messages(n: number, timestamp: (i: number) => string | undefined): ProduceRequestArgs['topicData'][number]['partitions'][number]['messages'] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 0 ? null : Buffer.from(`w${(i * 7919) % 100}`),
    value: Buffer.alloc(8, i),
    timestamp: timestamp(i),
    headers: i % 7 === 0 ? { trace: `t${i}` } : {},
  }));
}

describe('kafkajs produce request patch', () => {
  afterEach(() => vi.restoreAllMocks());

  it('kafkajs builds produce requests with ours', () => {
    expect(require(requestPath)).toBe(produceRequestV3);
  });

  it('encodes the bytes kafkajs encodes: topics, partitions, timestamps out of order and of different lengths, transactional or not', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_765_000_000_000);
    const theirs = kafkajsRequest();
    const cases: ProduceRequestArgs[] = [
      {
        acks: -1,
        timeout: 30_000,
        producerId: Long.fromValue('4711'),
        producerEpoch: 3,
        topicData: [
          { topic: 'words', partitions: [{ partition: 0, firstSequence: 10, messages: messages(300, (i) => String(1_765_000_000_000 + ((i * 37) % 101) - 50)) }, { partition: 3, firstSequence: 0, messages: messages(2, () => undefined) }] },
          // '999' sorts after '1000' as a string: kafkajs takes '1000' as the first timestamp and '999' as the largest.
          { topic: 'counts', partitions: [{ partition: 1, messages: messages(20, (i) => (i % 3 === 0 ? undefined : String([1000, 999, 25, 0][i % 4]))) }] },
        ],
      },
      { acks: 1, timeout: 5_000, transactionalId: 'app-0_1', producerId: Long.fromValue('9'), topicData: [{ topic: 't', partitions: [{ partition: 2, firstSequence: 5, messages: messages(50, (i) => String(1_700_000_000_000 + i)) }] }] },
      { acks: 0, timeout: 1, topicData: [] },
    ];
    for (const args of cases) {
      expect((await encoded(produceRequestV3 as unknown as Request, args)).equals(await encoded(theirs, args))).toBe(true);
      const ours = produceRequestV3(args);
      const their = theirs(args);
      expect([ours.apiKey, ours.apiVersion, ours.apiName, ours.expectResponse()]).toEqual([their.apiKey, their.apiVersion, their.apiName, their.expectResponse()]);
    }
  });

  it('writes uncompressed batches in one pass with the bytes kafkajs writes: every key, value and header shape, long fields, numeric timestamps', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_765_000_000_000);
    const theirs = kafkajsRequest();
    const big = Buffer.alloc(70_000, 7); // past the 2-byte varint range and the copy-loop threshold
    const shapes: ProduceRequestArgs['topicData'][number]['partitions'][number]['messages'] = [
      {},
      { key: Buffer.from('word'), value: Buffer.alloc(8, 1) },
      { key: '', value: '' },
      { key: 'string kéy', value: 'string välue', timestamp: 1_765_000_000_123 },
      { key: null, value: null, timestamp: '1764999999000' },
      { key: big, value: big },
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { trace: 'abc', bin: Buffer.from([0, 1, 2]), 'ünïcode': 'wörd' } },
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { many: ['a', Buffer.from('b'), 'c'], empty: [] } },
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { long: 'x'.repeat(600) } },
      { key: Buffer.from('past'), value: Buffer.from('v'), timestamp: 1 }, // a delta of -1.7e12: a 6-byte varlong
    ];
    const many = Array.from({ length: 20_000 }, (_, i) => ({ key: Buffer.from(`w${i % 977}`), value: Buffer.alloc(8, i), timestamp: String(1_765_000_000_000 + (i % 300)) }));
    const cases: ProduceRequestArgs[] = [
      { acks: -1, timeout: 30_000, producerId: Long.fromValue('4711'), producerEpoch: 3, topicData: [{ topic: 'shapes', partitions: [{ partition: 0, firstSequence: 7, messages: shapes }] }] },
      { acks: -1, timeout: 30_000, transactionalId: 'app-1_0', producerId: Long.fromValue('9007199254740993'), producerEpoch: 32_000, topicData: [{ topic: 'many', partitions: [{ partition: 5, firstSequence: 2_000_000_000, messages: many }] }] },
    ];
    for (const args of cases) expect((await encoded(produceRequestV3 as unknown as Request, args)).equals(await encoded(theirs, args))).toBe(true);
    // and the one-pass writer wrote them (kafkajs's path, the fallback, would pass the comparison too)
    const header = (): Buffer => Buffer.alloc(40);
    for (const args of cases) for (const { partitions } of args.topicData) for (const { partition, messages } of partitions) expect(encodeUncompressedPartition(partition, messages, () => 0, header, () => 0)).toBeInstanceOf(Buffer);
  });

  it('leaves what the one-pass writer does not handle to kafkajs, errors included', async () => {
    const theirs = kafkajsRequest();
    const odd: ProduceRequestArgs = { acks: 1, timeout: 1_000, topicData: [{ topic: 'odd', partitions: [{ partition: 0, messages: [{ key: Buffer.from('k'), value: Buffer.from('v'), headers: { nothing: null } as unknown as Record<string, unknown> }] }] }] };
    const error = async (request: Request): Promise<string> => encoded(request, odd).then(() => 'no error', (e: unknown) => String(e));
    expect(await error(produceRequestV3 as unknown as Request)).toBe(await error(theirs));
    expect(await error(theirs)).not.toBe('no error');
    expect(encodeUncompressedPartition(0, odd.topicData[0]!.partitions[0]!.messages, () => 0, () => Buffer.alloc(40), () => 0)).toBeUndefined();
  });

  it('compresses as kafkajs does', async () => {
    const theirs = kafkajsRequest();
    const args: ProduceRequestArgs = { acks: -1, timeout: 30_000, compression: Types.GZIP, topicData: [{ topic: 'z', partitions: [{ partition: 0, messages: messages(100, (i) => String(1_765_000_000_000 + i)) }] }] };
    expect((await encoded(produceRequestV3 as unknown as Request, args)).equals(await encoded(theirs, args))).toBe(true);
  });
});
