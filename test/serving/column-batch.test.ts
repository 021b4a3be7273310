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

describe('column replies (arrays of numbers as f64x columns)', () => {
  it('predictions with probability arrays come back equal, arrays as arrays, in key order', () => {
    const predictions = Array.from({ length: 40 }, (_, i) => ({ label: i % 3 === 0 ? 'fraud' : 'legit', labelIndex: i % 3 === 0 ? 1 : 0, score: i / 40, probabilities: [1 - i / 40, i / 40] }));
    const bytes = encodeColumns(predictions, { arrays: true })!;
    const decoded = decodeColumns(bytes);
    expect(decoded).toEqual(predictions);
    expect(Object.keys(decoded[5]!)).toEqual(['label', 'labelIndex', 'score', 'probabilities']);
    // the arrays travel as numbers: the JSON layout holds only the labels
    const layoutBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    expect(Buffer.from(bytes.subarray(4, 4 + layoutBytes)).toString()).toContain('["probabilities","f64x",2]');
  });

  it('without the option, or when the arrays differ in length or hold other values, they stay JSON', () => {
    const rows = [{ p: [1, 2] }, { p: [3, 4] }];
    const layoutOf = (bytes: Uint8Array): string => Buffer.from(bytes.subarray(4, 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true))).toString();
    expect(layoutOf(encodeColumns(rows)!)).toContain('["p","json"]');
    const ragged = [{ p: [1, 2] }, { p: [3] }];
    expect(layoutOf(encodeColumns(ragged, { arrays: true })!)).toContain('["p","json"]');
    expect(decodeColumns(encodeColumns(ragged, { arrays: true })!)).toEqual(ragged);
    const mixed = [{ p: [1, NaN] }, { p: ['x', 2] }];
    expect(decodeColumns(encodeColumns(mixed, { arrays: true })!)).toEqual([{ p: [1, null] }, { p: ['x', 2] }]);
  });

  it('a value at any byte offset (inside a fetched batch) decodes, and an odd name cannot set a prototype', () => {
    // JSON.parse makes an own `__proto__` key, as a request's values can hold
    const rows = [JSON.parse('{"__proto__": 1, "a": 2}') as Record<string, unknown>];
    const bytes = encodeColumns([{ x: 1.5, p: [0.25, 0.75] }, { x: -2, p: [1, 0] }], { arrays: true })!;
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    expect(decodeColumns(shifted.subarray(3))).toEqual([{ x: 1.5, p: [0.25, 0.75] }, { x: -2, p: [1, 0] }]);
    const decoded = decodeColumns(encodeColumns(rows)!);
    expect(Object.getPrototypeOf(decoded[0])).toBe(Object.prototype);
    expect(Object.hasOwn(decoded[0]!, '__proto__')).toBe(true);
    expect(decoded[0]!.a).toBe(2);
  });

  it('a malformed f64x column is refused saying why', () => {
    const bad = (columns: unknown): Uint8Array => {
      const layout = Buffer.from(JSON.stringify({ rows: 1, columns, json: [] }));
      const bytes = new Uint8Array(Math.ceil((4 + layout.length) / 8) * 8 + 16);
      new DataView(bytes.buffer).setUint32(0, layout.length, true);
      bytes.set(layout, 4);
      return bytes;
    };
    expect(() => decodeColumns(bad([['p', 'f64x']]))).toThrow(/is not \[name, "f64" \| "bool" \| "json"\] or \[name, "f64x", length\]/);
    expect(() => decodeColumns(bad([['p', 'f64x', 3]]))).toThrow(/need \d+ bytes, the value holds/);
    expect(decodeColumns(bad([['p', 'f64x', 2]]))).toEqual([{ p: [0, 0] }]);
  });
});
