/**
 * One partition's uncompressed record batch of a Produce request, written in one pass into one
 * buffer of the exact size: the bytes kafkajs's record encoder, `RecordBatch` and the request's
 * partition level write together, without their garbage. kafkajs writes every varint through a
 * `Buffer.from([...bytes])`, every varlong through a chain of BigInt `Long`s, starts each record in
 * an Encoder of its own and copies the records five times on the way to the request (record →
 * batch body → batch → record batch → partition), growing zero-filled buffers by doubling. On a
 * word count that was a quarter of the runner's CPU.
 *
 * Used by kafkajs-produce-request.ts for uncompressed batches whose fields it knows (keys and
 * values as Buffers, strings, null or absent; headers as Buffers or strings, alone or in arrays;
 * integer timestamp deltas); anything else goes through kafkajs's own path, which keeps its
 * behaviour (including its errors) for what this one does not write.
 */

/** A message as kafkajs's producer hands it to the request (the fields a record batch reads). */
export interface BatchMessage {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: string | number | null;
}

import { utf8Length, writeUtf8 } from '../util/utf8.ts';

const BODY_HEADER_BYTES = 40;
/** int32 partition, int32 record batch size, int64 first offset, int32 batch length, int32 partition leader epoch, int8 magic, uint32 CRC. */
const PREFIX_BYTES = 4 + 4 + 8 + 4 + 4 + 1 + 4;
const MAGIC = 2;

/** Bytes of a zigzag-encoded varint/varlong of `z` (an unsigned integer below 2^53). */
function sizeOfUVar(z: number): number {
  let bytes = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    bytes++;
  }
  return bytes;
}

/** Zigzag encoding for any safe integer, as Kafka's varint (32-bit values) and varlong do. */
const zigzag = (v: number): number => (v >= 0 ? v * 2 : -v * 2 - 1);

function writeUVar(buf: Buffer, pos: number, z: number): number {
  while (z >= 0x80) {
    buf[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[pos++] = z;
  return pos;
}

function writeBytes(buf: Buffer, pos: number, bytes: Buffer): number {
  const n = bytes.length;
  if (n > 32) return pos + bytes.copy(buf, pos);
  for (let i = 0; i < n; i++) buf[pos + i] = bytes[i]!;
  return pos + n;
}

/** Byte length of a key, value or header value this writer handles, -1 for null, or undefined when it does not handle it. */
function lengthOf(value: unknown): number | undefined {
  if (value == null) return -1;
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'string') return utf8Length(value);
  return undefined;
}

/** A varint-prefixed field (length then bytes, or -1). */
function writeField(buf: Buffer, pos: number, value: unknown, length: number): number {
  pos = writeUVar(buf, pos, zigzag(length));
  if (length <= 0) return pos;
  if (Buffer.isBuffer(value)) return writeBytes(buf, pos, value);
  return writeUtf8(buf, pos, value as string, length);
}

/** Size of a varint-prefixed field of `length` bytes (-1: null). */
const sizeOfField = (length: number): number => sizeOfUVar(zigzag(length)) + (length > 0 ? length : 0);

/**
 * Size of a headers object's encoding (count and entries), or undefined when a value is not a
 * Buffer or string; the number of entries goes to `counts[i]` for writeHeaders.
 */
function sizeOfHeaders(headers: unknown, counts: Int32Array, i: number): number | undefined {
  counts[i] = 0;
  if (headers === undefined) return 1;
  if (headers === null || typeof headers !== 'object') return undefined;
  let count = 0;
  let size = 0;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const entry = (headers as Record<string, unknown>)[name];
    const nameSize = sizeOfField(utf8Length(name));
    if (Array.isArray(entry)) {
      for (const item of entry) {
        const length = lengthOf(item);
        if (length === undefined || length < 0) return undefined;
        size += nameSize + sizeOfField(length);
        count++;
      }
    } else {
      const length = lengthOf(entry);
      if (length === undefined || length < 0) return undefined;
      size += nameSize + sizeOfField(length);
      count++;
    }
  }
  counts[i] = count;
  return sizeOfUVar(zigzag(count)) + size;
}

/** Writes the headers sizeOfHeaders measured: their count, then name and value of each entry. */
function writeHeaders(buf: Buffer, pos: number, headers: unknown, count: number): number {
  pos = writeUVar(buf, pos, zigzag(count));
  if (count === 0) return pos;
  for (const name in headers as object) {
    if (!Object.hasOwn(headers as object, name)) continue;
    const entry = (headers as Record<string, unknown>)[name];
    const nameLength = utf8Length(name);
    if (Array.isArray(entry)) {
      for (const item of entry) {
        pos = writeField(buf, pos, name, nameLength);
        pos = writeField(buf, pos, item, lengthOf(item)!);
      }
    } else {
      pos = writeField(buf, pos, name, nameLength);
      pos = writeField(buf, pos, entry, lengthOf(entry)!);
    }
  }
  return pos;
}

/**
 * Encodes the partition level of a Produce request for `messages`, or returns undefined when a
 * message has a field this writer does not handle. `timestampDelta(i)` is kafkajs's delta of
 * message i; `header` writes the 40 bytes from attributes to the record count.
 */
export function encodeUncompressedPartition(
  partition: number,
  messages: readonly BatchMessage[],
  timestampDelta: (message: BatchMessage) => number,
  header: () => Buffer,
  crc32C: (bytes: Buffer) => number,
): Buffer | undefined {
  const n = messages.length;
  const bodySizes = new Float64Array(n);
  const deltas = new Float64Array(n);
  const keyLengths = new Int32Array(n);
  const valueLengths = new Int32Array(n);
  const headerCounts = new Int32Array(n);
  let recordsSize = 0;
  for (let i = 0; i < n; i++) {
    const message = messages[i]!;
    const keyLength = lengthOf(message.key);
    const valueLength = lengthOf(message.value);
    const headersSize = sizeOfHeaders(message.headers, headerCounts, i);
    const delta = timestampDelta(message);
    if (keyLength === undefined || valueLength === undefined || headersSize === undefined || !Number.isSafeInteger(delta)) return undefined;
    const body = 1 + sizeOfUVar(zigzag(delta)) + sizeOfUVar(zigzag(i)) + sizeOfField(keyLength) + sizeOfField(valueLength) + headersSize;
    bodySizes[i] = body;
    deltas[i] = delta;
    keyLengths[i] = keyLength;
    valueLengths[i] = valueLength;
    recordsSize += sizeOfUVar(zigzag(body)) + body;
  }
  const bodyHeader = header();
  if (bodyHeader.length !== BODY_HEADER_BYTES) throw new Error(`record batch header of ${bodyHeader.length} bytes, expected ${BODY_HEADER_BYTES}`);
  const batchLength = 4 + 1 + 4 + BODY_HEADER_BYTES + recordsSize; // leader epoch, magic, CRC, body
  const buf = Buffer.allocUnsafe(PREFIX_BYTES + BODY_HEADER_BYTES + recordsSize);
  let pos = buf.writeInt32BE(partition, 0);
  pos = buf.writeInt32BE(8 + 4 + batchLength, pos); // the record batch: first offset, length, batch
  pos = buf.writeInt32BE(0, pos); // first offset, int64 0
  pos = buf.writeInt32BE(0, pos);
  pos = buf.writeInt32BE(batchLength, pos);
  pos = buf.writeInt32BE(0, pos); // partition leader epoch
  pos = buf.writeInt8(MAGIC, pos);
  const crcAt = pos;
  pos += 4;
  const bodyAt = pos;
  pos += bodyHeader.copy(buf, pos);
  for (let i = 0; i < n; i++) {
    const message = messages[i]!;
    pos = writeUVar(buf, pos, zigzag(bodySizes[i]!));
    buf[pos++] = 0; // record attributes: none are used
    pos = writeUVar(buf, pos, zigzag(deltas[i]!));
    pos = writeUVar(buf, pos, zigzag(i));
    pos = writeField(buf, pos, message.key, keyLengths[i]!);
    pos = writeField(buf, pos, message.value, valueLengths[i]!);
    pos = writeHeaders(buf, pos, message.headers, headerCounts[i]!);
  }
  if (pos !== buf.length) throw new Error(`record batch written to ${pos} of ${buf.length} bytes`);
  buf.writeUInt32BE(crc32C(buf.subarray(bodyAt)), crcAt);
  return buf;
}
