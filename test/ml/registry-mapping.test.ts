import { expect, test } from 'vitest';
import { featureMapping } from '../../src/ml/registry-mapping.ts';

const metadata = (features: string[], input = 'float_input') => ({ inputs: [{ name: input, type: 'float32' as const, shape: [null, features.length] }], features });

// The compiled reader (one property load per name) and the loop it replaces must agree on every
// value, including names that are not identifiers and the errors a bad record gets.
test.each([
  ['compiled', true],
  ['loop', false],
])('the %s feature reader reads features by name, in order', (_, compile) => {
  const names = ['amount', 'odd "quoted" name', "it's", 'back\\slash', '0', 'foreign'];
  const read = featureMapping(metadata(names), compile);
  const value = { foreign: true, '0': -1.5, amount: 12.5, 'odd "quoted" name': 3, "it's": 4, 'back\\slash': 5, extra: 'ignored' };
  expect(read(value)).toEqual({ float_input: [12.5, 3, 4, 5, -1.5, 1] });
  expect(read({ ...value, foreign: false })).toEqual({ float_input: [12.5, 3, 4, 5, -1.5, 0] });

  expect(() => read({ ...value, "it's": '4' })).toThrow("feature 'it's' is a string, expected a number");
  expect(() => read({ ...value, amount: null })).toThrow("feature 'amount' is a null, expected a number");
  const { foreign: _foreign, ...missing } = value;
  expect(() => read(missing)).toThrow("feature 'foreign' is missing, expected a number");
  expect(() => read(null as unknown as object)).toThrow(/the record value must be an object with amount, odd "quoted" name/);
});

test('an input named __proto__ still gets an own property, not a prototype', () => {
  const read = featureMapping(metadata(['a'], '__proto__'));
  const row = read({ a: 1 });
  expect(Object.hasOwn(row, '__proto__')).toBe(true);
  expect(row['__proto__']).toEqual([1]);
});
