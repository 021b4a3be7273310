import { describe, expect, it } from 'vitest';
import { SerdeError, Serdes } from 'tributary';

describe('Serdes', () => {
  it('round-trips every built-in serde and maps null to null (a tombstone, never the text "null")', () => {
    const cases: Array<[{ serialize(v: never): Buffer | null; deserialize(b: Buffer | null): unknown }, unknown]> = [
      [Serdes.string(), 'héllo'], [Serdes.json(), { a: [1, 'x'] }], [Serdes.int32(), -42], [Serdes.int64(), 2 ** 40],
      [Serdes.float64(), 3.25], [Serdes.bytes(), Buffer.from([1, 2, 3])],
      [Serdes.windowed(Serdes.string()), { key: 'k', window: { start: 60_000, end: 120_000 } }],
    ];
    for (const [serde, value] of cases) {
      expect(serde.deserialize(serde.serialize(value as never))).toEqual(value);
      expect(serde.serialize(null as never)).toBeNull();
    }
    expect(Serdes.nullable(Serdes.int32()).deserialize(null)).toBeNull();
  });

  it('a JSON Schema rejects an invalid value with a SerdeError that says why', () => {
    const serde = Serdes.json<{ amount: number }>({ type: 'object', required: ['amount'], properties: { amount: { type: 'number', minimum: 0 } } });
    expect(() => serde.deserialize(Buffer.from('{"amount":-1}'))).toThrow(SerdeError);
    expect(() => serde.deserialize(Buffer.from('{"amount":-1}'))).toThrow(/must be >= 0/);
    expect(serde.deserialize(Buffer.from('{"amount":3}'))).toEqual({ amount: 3 });
  });

  it('malformed JSON and wrong-sized numbers are SerdeErrors', () => {
    expect(() => Serdes.json().deserialize(Buffer.from('{oops'))).toThrow(/not valid JSON/);
    expect(() => Serdes.int64().deserialize(Buffer.from([1, 2]))).toThrow(/expects 8 bytes/);
  });
});
