import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/transport/crc32c.ts';
import { kafkajsModulePath } from '../../src/transport/kafkajs-patches.ts';
import '../../src/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);
const indexPath = kafkajsModulePath('kafkajs/src/protocol/recordBatch/crc32C/index.js')!;

/** kafkajs's own byte-at-a-time CRC-32C, evaluated from its file (the module cache holds ours). */
function kafkajsCrc(): (bytes: Buffer) => number {
  const path = indexPath.replace(/index\.js$/, 'crc32C.js');
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', readFileSync(path, 'utf8'))(module, module.exports, createRequire(path));
  const crc = module.exports as (bytes: Buffer) => number;
  return (bytes) => crc(bytes) >>> 0;
}

describe('CRC-32C', () => {
  it('kafkajs checksums record batches with ours', () => {
    expect(require(indexPath)).toBe(crc32c);
  });

  it("gives the standard check value and kafkajs's result for every length and offset", () => {
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    const theirs = kafkajsCrc();
    let seed = 7;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) & 0xff;
    const pool = Buffer.from(Array.from({ length: 5_000 }, random));
    for (let length = 0; length <= 300; length++) {
      for (const start of [0, 1, 3, 7]) {
        const bytes = pool.subarray(start, start + length);
        expect(crc32c(bytes)).toBe(theirs(bytes));
      }
    }
    expect(crc32c(pool)).toBe(theirs(pool));
    expect(crc32c(Buffer.alloc(4_096, 0xff))).toBe(theirs(Buffer.alloc(4_096, 0xff)));
  });
});
