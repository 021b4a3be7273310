import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkajsModulePath } from '../../src/transport/kafkajs-patches.ts';
import { encodeRecord, type KafkajsRecord } from '../../src/transport/kafkajs-record-encoder.ts';
import '../../src/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);
const recordPath = kafkajsModulePath('kafkajs/src/protocol/recordBatch/record/v0/index.js')!;

/** kafkajs's own record encoder, evaluated from its file (the module cache holds ours). */
function kafkajsRecord(): (record: KafkajsRecord) => { buffer: Buffer; buf: Buffer } {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', readFileSync(recordPath, 'utf8'))(module, module.exports, createRequire(recordPath));
  return module.exports as (record: KafkajsRecord) => { buffer: Buffer; buf: Buffer };
}

const bytes = (encoder: unknown): Buffer => (encoder as { buffer: Buffer }).buffer;

describe('kafkajs record encoder patch', () => {
  it('kafkajs encodes records with ours', () => {
    expect(require(recordPath)).toBe(encodeRecord);
  });

  it('writes the bytes kafkajs writes, for keys, values, deltas and headers of every shape', () => {
    const theirs = kafkajsRecord();
    const big = Buffer.alloc(70_000, 7); // past kafkajs's 512-byte start and the 2-byte varint range
    const records: KafkajsRecord[] = [
      {},
      { key: Buffer.from('word'), value: Buffer.alloc(8, 1) },
      { key: null, value: Buffer.from('a line of words'), offsetDelta: 9_999, timestampDelta: 0 },
      { key: 'string key', value: 'string value', offsetDelta: 300, timestampDelta: 1_234_567_890_123 },
      { key: Buffer.from('k'), value: null, timestampDelta: -5 },
      { key: big, value: big, offsetDelta: 1 },
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { trace: 'abc', bin: Buffer.from([0, 1, 2]), 'ünïcode': 'wörd' } },
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { many: ['a', Buffer.from('b'), 'c'], empty: [] } },
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { long: 'x'.repeat(600) } },
    ];
    for (const record of records) expect(bytes(encodeRecord(record)).equals(bytes(theirs(record)))).toBe(true);
  });

  it('sizes the encoder to the record instead of kafkajs\'s 512 bytes', () => {
    const ours = encodeRecord({ key: Buffer.from('word'), value: Buffer.alloc(8) }) as unknown as { buf: Buffer };
    const theirs = kafkajsRecord()({ key: Buffer.from('word'), value: Buffer.alloc(8) });
    expect(ours.buf.length).toBeLessThanOrEqual(32);
    expect(theirs.buf.length).toBe(512);
  });
});
