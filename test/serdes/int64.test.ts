/** The fast int64 path writes and reads the same bytes as BigInt does, negatives and non-safe values included. */
import { expect, it } from 'vitest';
import { readInt64, writeInt64 } from '../../src/serdes/int64.ts';

it('writes and reads int64 exactly as Buffer.writeBigInt64BE does', () => {
  const fast = Buffer.alloc(8);
  const slow = Buffer.alloc(8);
  const values = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32), 2 ** 32 + 5, -(2 ** 32) - 5, 1_700_000_000_000, -1_700_000_000_123,
    Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 60, -(2 ** 60), 12.7, -12.7];
  for (const n of values) {
    writeInt64(fast, n, 0);
    slow.writeBigInt64BE(BigInt(Math.trunc(n)), 0);
    expect(fast.toString('hex'), String(n)).toBe(slow.toString('hex'));
    expect(readInt64(fast, 0), String(n)).toBe(Number(slow.readBigInt64BE(0)));
  }
});
