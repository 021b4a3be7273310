/**
 * keyHash is MurmurHash3 x86_32 (seed 0) over 2^32: the vectors are Python's mmh3 package
 * (`mmh3.hash(s.encode(), 0, signed=False)`), an implementation independent of ours.
 */
import { describe, expect, test } from 'vitest';
import { keyHash } from 'tributary';

describe('keyHash', () => {
  test.each([
    ['', 0],
    ['abc', 3017643002],
    ['hello', 613153351],
    ['card-00042', 1833533909],
    ['ünïcödé-κλειδί', 2092261312],
    ['The quick brown fox jumps over the lazy dog', 776992547],
  ])('of %j is mmh3 %i / 2^32', (key, mmh3) => {
    expect(keyHash(key)).toBe(mmh3 / 2 ** 32);
    expect(keyHash(Buffer.from(key, 'utf8'))).toBe(mmh3 / 2 ** 32);
  });

  test.each([0.1, 0.3, 0.5, 0.9])('100 000 sequential keys card-%%05d fall below %f within 3 standard deviations of it', (fraction) => {
    const n = 100_000;
    let below = 0;
    for (let i = 0; i < n; i++) if (keyHash(`card-${String(i).padStart(5, '0')}`) < fraction) below++;
    const sd = Math.sqrt((fraction * (1 - fraction)) / n);
    expect(Math.abs(below / n - fraction) / sd).toBeLessThan(3);
  });
});
