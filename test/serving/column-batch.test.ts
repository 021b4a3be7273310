/** A column batch (the binary Kafka request) gives the server the same values as the JSON array it replaces. */
import { describe, expect, it } from 'vitest';
import { decodeColumns, encodeColumns } from '../../src/serving/column-batch.ts';
import { holdout } from './helpers.ts';

/** What the server reads from the JSON request of these values (with ±Infinity kept, as requestJson writes them). */
const viaJson = (values: unknown[]): unknown => JSON.parse(JSON.stringify(values, (_k, v: unknown) => (v === Infinity ? '+inf' : v === -Infinity ? '-inf' : v)), (_k, v: unknown) => (v === '+inf' ? Infinity : v === '-inf' ? -Infinity : v));

describe('column batches', () => {
  it('payments with ids, numbers and booleans come back equal, in key order', () => {
    const values = holdout('2').slice(0, 50).map((r, i) => ({ paymentId: `p-${i}`, ...r, flagged: i % 2 === 0, note: i === 3 ? { nested: [1, 'x'] } : null }));
    const decoded = decodeColumns(encodeColumns(values)!);
    expect(decoded).toEqual(values);
    expect(Object.keys(decoded[7]!)).toEqual(Object.keys(values[7]!));
  });

  it('NaN becomes null (JSON\'s missing value) and ±Infinity stay numbers, as in a JSON request', () => {
    const values = [{ a: NaN, b: Infinity, c: 1 }, { a: 2, b: -Infinity, c: -0.5 }];
    expect(decodeColumns(encodeColumns(values)!)).toEqual(viaJson(values));
    expect(decodeColumns(encodeColumns(values)!)[0]!.a).toBeNull();
  });

  it('values of different keys, undefined fields or non-objects are left to JSON', () => {
    expect(encodeColumns([{ a: 1 }, { b: 1 }])).toBeUndefined();
    expect(encodeColumns([{ a: 1 }, { a: 1, b: 2 }])).toBeUndefined();
    expect(encodeColumns([{ a: 1, b: undefined }])).toBeUndefined();
    expect(encodeColumns([[1, 2]])).toBeUndefined();
    expect(encodeColumns([new Date(0)])).toBeUndefined();
    expect(encodeColumns([])).toBeUndefined();
  });

  it('a malformed batch is refused saying why', () => {
    const bytes = encodeColumns([{ a: 1 }, { a: 2 }])!;
    expect(() => decodeColumns(bytes.subarray(0, bytes.byteLength - 8))).toThrow(/need \d+ bytes, the value holds/);
    expect(() => decodeColumns(new Uint8Array([1]))).toThrow('at least 4 bytes');
  });
});
