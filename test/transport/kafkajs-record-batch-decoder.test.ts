import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkajsModulePath } from '../../src/transport/kafkajs-patches.ts';
import { decodeRecordBatch } from '../../src/transport/kafkajs-record-batch-decoder.ts';
import '../../src/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);
const decoderPath = kafkajsModulePath('kafkajs/src/protocol/recordBatch/v0/decoder.js')!;
type BatchDecoder = (decoder: unknown) => Promise<{ records: unknown[] } & Record<string, unknown>>;

/** kafkajs's own record batch decoder, evaluated from its file (the module cache holds ours). */
function kafkajsDecoder(): BatchDecoder {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', readFileSync(decoderPath, 'utf8'))(module, module.exports, createRequire(decoderPath));
  return module.exports as BatchDecoder;
}

const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: string | number): unknown };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: Record<string, unknown>) => unknown;
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };

interface Shape {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
  timestampDelta?: number;
}

async function batch(records: Shape[], options: Record<string, unknown> = {}): Promise<Buffer> {
  const encoded = records.map((r, i) => Record({ offsetDelta: i, ...r }));
  return (await RecordBatch({ records: encoded, firstTimestamp: 1_765_000_000_000, maxTimestamp: 1_765_000_009_999, lastOffsetDelta: records.length - 1, ...options })).buffer;
}

/** Decodes every batch in `bytes` with a decoder, as decodeMessages does. */
async function decodeAll(decode: BatchDecoder, bytes: Buffer): Promise<unknown[]> {
  const decoder = new Decoder(bytes) as { offset: number; buffer: Buffer };
  const out: unknown[] = [];
  while (decoder.buffer.length - decoder.offset >= 49) {
    try {
      out.push(await decode(decoder));
    } catch (error) {
      if ((error as Error).name === 'KafkaJSPartialMessageError') {
        out.push('partial');
        break;
      }
      throw error;
    }
  }
  return out;
}

describe('kafkajs record batch decoder patch', () => {
  it('kafkajs decodes record batches with ours', () => {
    expect(require(decoderPath)).toBe(decodeRecordBatch);
  });

  it('returns the records kafkajs returns: keys, values, headers (repeated, binary, unicode), deltas, offsets beyond 2^53, compression, transactions, control and log-append batches, partial tails', async () => {
    const theirs = kafkajsDecoder();
    const big = Buffer.alloc(70_000, 7);
    const shapes: Shape[] = [
      {},
      { key: Buffer.from('word'), value: Buffer.alloc(8, 1) },
      { key: '', value: '' },
      { key: null, value: null, timestampDelta: -5 },
      { key: 'kéy', value: big, timestampDelta: 1_234_567_890_123 }, // a 6-byte varlong
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { trace: 'abc', bin: Buffer.from([0, 1, 2]), 'ünïcode': 'wörd', many: ['a', Buffer.from('b'), 'c'] } },
      { key: Buffer.from('k'), value: Buffer.from('v'), timestampDelta: -(2 ** 62) }, // a 9-byte varlong: the BigInt path
    ];
    const many = Array.from({ length: 5_000 }, (_, i) => ({ key: Buffer.from(`w${i % 977}`), value: Buffer.alloc(8, i), timestampDelta: i % 300 }));
    const inputs: Buffer[] = [
      await batch(shapes),
      await batch(shapes, { firstOffset: Long.fromValue('9007199254740993'), producerId: Long.fromValue('4711'), producerEpoch: 2, firstSequence: 9, transactional: true }),
      await batch(shapes, { compression: Types.GZIP }),
      Buffer.concat([await batch(many), await batch(shapes.slice(0, 3), { firstOffset: Long.fromValue(5_000) })]),
      (await batch(many)).subarray(0, 30_000), // a fetch cut inside a batch
    ];
    // a control batch (attributes bit 0x20) and a log-append-time one (0x08): the attributes are not CRC-checked by kafkajs
    const control = Buffer.from(await batch([{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], { transactional: true }));
    control.writeInt16BE(control.readInt16BE(21) | 0x20, 21);
    const logAppend = Buffer.from(await batch(many.slice(0, 10)));
    logAppend.writeInt16BE(logAppend.readInt16BE(21) | 0x08, 21);
    inputs.push(control, logAppend);
    for (const input of inputs) {
      const expected = await decodeAll(theirs, input);
      expect(expected.length).toBeGreaterThan(0);
      expect(await decodeAll(decodeRecordBatch as unknown as BatchDecoder, input)).toEqual(expected);
    }
  });

  it('reads headers named like Object.prototype members as they were sent (kafkajs made arrays of the inherited member and the value)', async () => {
    const bytes = await batch([{ key: Buffer.from('k'), value: Buffer.from('v'), headers: JSON.parse('{"__proto__": "x", "constructor": "y", "toString": ["a", "b"]}') as Record<string, string> }]);
    const [decoded] = (await decodeAll(decodeRecordBatch as unknown as BatchDecoder, bytes)) as { records: { headers: Record<string, unknown> }[] }[];
    const { headers } = decoded!.records[0]!;
    expect(Object.keys(headers)).toEqual(['__proto__', 'constructor', 'toString']);
    expect([headers['__proto__'], headers.constructor, headers.toString]).toEqual([Buffer.from('x'), Buffer.from('y'), [Buffer.from('a'), Buffer.from('b')]]);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });
});
