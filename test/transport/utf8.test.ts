import { describe, expect, it } from 'vitest';
import { utf8Length, writeUtf8 } from '../../src/util/utf8.ts';

const samples = ['', 'a', '~tp', 'é', '€', '😀', '\ud800', '\udc00', 'a\ud800b', '\ud800\ud800\udc00', 'x'.repeat(64), 'é'.repeat(40), 'x'.repeat(65), '0_1~abcdefgh:3/12345/2', 'ab😀c€é\udfff'];

describe('short UTF-8 strings', () => {
  it('measures and writes every string as Buffer.byteLength and buf.write do, lone surrogates included', () => {
    for (const text of samples) {
      const length = utf8Length(text);
      expect(length, JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
      const ours = Buffer.alloc(length + 4, 0xaa);
      const theirs = Buffer.alloc(length + 4, 0xaa);
      theirs.write(text, 2, length, 'utf8');
      expect(writeUtf8(ours, 2, text, length)).toBe(2 + length);
      expect(ours.equals(theirs), JSON.stringify(text)).toBe(true);
    }
  });
});
