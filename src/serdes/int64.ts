const TWO_32 = 4_294_967_296;

/**
 * Writes a number as a big-endian signed 64-bit integer. Safe integers take two 32-bit writes,
 * several times faster than going through a BigInt; others (and fractions, truncated) use BigInt.
 */
export function writeInt64(buffer: Buffer, value: number, offset: number): void {
  if (Number.isSafeInteger(value)) {
    const high = Math.floor(value / TWO_32);
    buffer.writeInt32BE(high, offset);
    buffer.writeUInt32BE(value - high * TWO_32, offset + 4);
    return;
  }
  buffer.writeBigInt64BE(BigInt(Math.trunc(value)), offset);
}

/** Reads a big-endian signed 64-bit integer as a number (exact within the safe integer range). */
export function readInt64(buffer: Buffer, offset: number): number {
  const high = buffer.readInt32BE(offset);
  if (high >= -0x200000 && high < 0x200000) return high * TWO_32 + buffer.readUInt32BE(offset + 4);
  return Number(buffer.readBigInt64BE(offset));
}
