/**
 * UTF-8 lengths and writes of short strings (header names and values, keys) in JavaScript: for a
 * few dozen characters, a loop costs less than the call into Node's native `Buffer.byteLength`
 * and `buf.write`, which a produced record made several times each.
 */

/** Strings longer than this go to Node's native code, which is faster on long ones. */
const SHORT = 64;

/** What `Buffer.byteLength(text, 'utf8')` returns (a lone surrogate counts 3 bytes, as its U+FFFD). */
export function utf8Length(text: string): number {
  const n = text.length;
  if (n > SHORT) return Buffer.byteLength(text, 'utf8');
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for its two code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Writes `text`, whose `utf8Length` is `length`, at `pos` of `buf`; returns the position after it. */
export function writeUtf8(buf: Buffer, pos: number, text: string, length: number): number {
  if (length !== text.length || length > SHORT) return pos + buf.write(text, pos, length, 'utf8');
  for (let i = 0; i < length; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + length;
}
