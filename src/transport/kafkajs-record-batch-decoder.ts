/**
 * kafkajs's record batch decoder (`src/protocol/recordBatch/v0/decoder.js`), returning the same
 * records with less work per record; installed by kafkajs-patches.ts. kafkajs reads every record
 * through a `Decoder` of its own, every varlong through a chain of BigInt `Long`s, computes each
 * offset and timestamp with `Long.fromValue(first).add(delta).toString()` and builds the headers
 * object with a spread per header. This one reads a batch's records in one loop over its buffer,
 * with numbers where the values fit in them (offsets and timestamps below 2^53, as every real one
 * is) and kafkajs's BigInt arithmetic where they do not. The batch header, partial-batch handling
 * and decompression are kafkajs's, as are the record objects' fields and their order.
 */
import { createRequire } from 'node:module';

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readAll(): Buffer;
  slice(size: number): KafkajsDecoder;
  forward(size: number): void;
}

/** What kafkajs's decoder returns for one record. */
export interface DecodedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte?: number;
}

interface Internals {
  Decoder: new (buffer: Buffer) => KafkajsDecoder;
  PartialMessageError: new (message: string) => Error;
  lookupCodecByAttributes(attributes: number): { decompress(buffer: Buffer): Promise<Buffer> } | undefined | null;
  LOG_APPEND_TIME: number;
  CREATE_TIME: number;
}

const require = createRequire(import.meta.url);
let internals: Internals | undefined;
function kafkajs(): Internals {
  if (internals) return internals;
  const from = (path: string): unknown => require(`kafkajs/src/${path}`);
  const timestampTypes = from('protocol/timestampTypes.js') as { LOG_APPEND_TIME: number; CREATE_TIME: number };
  internals = {
    Decoder: from('protocol/decoder.js') as Internals['Decoder'],
    PartialMessageError: (from('errors.js') as { KafkaJSPartialMessageError: Internals['PartialMessageError'] }).KafkaJSPartialMessageError,
    lookupCodecByAttributes: (from('protocol/message/compression/index.js') as Pick<Internals, 'lookupCodecByAttributes'>).lookupCodecByAttributes,
    LOG_APPEND_TIME: timestampTypes.LOG_APPEND_TIME,
    CREATE_TIME: timestampTypes.CREATE_TIME,
  };
  return internals;
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const TWO_POW_49 = 2 ** 49;
/** Header keys up to this many bytes are compared with the last one before being decoded. */
const SHORT_TEXT = 32;

/** The batch's records: a buffer and a read position moved by the readers below. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    /** Where reading must stop: the batch's end, or the current record's while one is read. */
    public end: number,
  ) {
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Error(`record batch: a record runs past the end of its batch (byte ${this.pos} of ${this.end})`);
    return this.buf[this.pos++]!;
  }

  /** An unsigned varint as a number: exact below 2^49 (7 bytes); beyond that, undefined (and the position is not moved). */
  uvarNumber(): number | undefined {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
      if (scale >= TWO_POW_49) {
        this.pos = start;
        return undefined;
      }
    }
  }

  /** A zigzag varint (Kafka's 32-bit varint: lengths, deltas, counts). */
  varint(): number {
    const z = this.uvarNumber();
    if (z === undefined) throw new Error(`record batch: a varint of more than 7 bytes at byte ${this.pos}`);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A zigzag varlong as a bigint, for the values uvarNumber does not hold. */
  varlongBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (shift > 63n) throw new Error('record batch: Invalid Long, must contain 9 bytes or less');
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
    }
    result = BigInt.asUintN(64, result);
    return BigInt.asIntN(64, (result >> 1n) ^ -(result & 1n));
  }

  bytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    if (this.pos + length > this.end) throw new Error(`record batch: a field of ${length} bytes runs past the end of its record`);
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /** The last header key read: records mostly carry the same names, compared here rather than decoded again. */
  private lastText = '';

  text(): string | null {
    const length = this.varint();
    if (length < 0) return null;
    const start = this.pos;
    if (start + length > this.end) throw new Error(`record batch: a header key of ${length} bytes runs past the end of its record`);
    this.pos += length;
    const last = this.lastText;
    if (length === last.length && length <= SHORT_TEXT) {
      let same = true;
      for (let i = 0; i < length; i++) {
        const b = this.buf[start + i]!;
        // ASCII only: there, and only there, a byte is its character
        if (b >= 0x80 || b !== last.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return last;
    }
    return (this.lastText = this.buf.toString('utf8', start, start + length));
  }
}

/** `base + delta` as kafkajs writes it (Long arithmetic, then toString). */
function plus(base: string, baseNumber: number, delta: number | bigint): string {
  if (typeof delta === 'number') {
    const sum = baseNumber + delta;
    if (Number.isSafeInteger(baseNumber) && Number.isSafeInteger(sum)) return String(sum);
  }
  return BigInt.asIntN(64, BigInt(base) + BigInt(delta)).toString();
}

function addHeader(headers: DecodedRecord['headers'], key: string, value: Buffer | null): void {
  const existing = Object.hasOwn(headers, key) ? headers[key] : undefined;
  const next = existing === undefined ? value : Array.isArray(existing) ? existing.concat([value]) : [existing, value];
  // a header named __proto__ is an own property, as kafkajs's spread makes it (assignment would set the prototype)
  if (key === '__proto__') Object.defineProperty(headers, key, { value: next, writable: true, enumerable: true, configurable: true });
  else headers[key] = next;
}

function decodeRecordsOf(reader: Reader, count: number, context: BatchContext, magicByte: number, logAppend: boolean): DecodedRecord[] {
  const { firstOffset, firstTimestamp, maxTimestamp, isControlBatch } = context;
  const firstOffsetNumber = Number(firstOffset);
  const firstTimestampNumber = Number(firstTimestamp);
  const records = new Array<DecodedRecord>(count);
  const batchEnd = reader.end;
  for (let i = 0; i < count; i++) {
    const length = reader.varint();
    const end = reader.pos + length;
    if (length < 0 || end > batchEnd) throw new Error(`record batch: record ${i} of ${length} bytes runs past the end of its batch`);
    reader.end = end; // the record's fields stay inside the record
    const attributes = (reader.byte() << 24) >> 24; // int8
    const z = reader.uvarNumber();
    const timestampDelta = z === undefined ? reader.varlongBig() : z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    const timestamp = logAppend && maxTimestamp ? maxTimestamp : plus(firstTimestamp, firstTimestampNumber, timestampDelta);
    const offset = plus(firstOffset, firstOffsetNumber, reader.varint());
    const key = reader.bytes();
    const value = reader.bytes();
    const headerCount = reader.varint();
    const headers: DecodedRecord['headers'] = {};
    for (let h = 0; h < headerCount; h++) {
      const headerKey = reader.text();
      addHeader(headers, String(headerKey), reader.bytes());
    }
    records[i] = { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext: context };
    reader.pos = end;
    reader.end = batchEnd;
  }
  return records;
}

/** kafkajs's RecordBatchDecoder: reads one batch from the fetch response's decoder. */
export async function decodeRecordBatch(fetchDecoder: KafkajsDecoder): Promise<BatchContext & { records: DecodedRecord[] }> {
  const k = kafkajs();
  const firstOffset = fetchDecoder.readInt64().toString();
  const length = fetchDecoder.readInt32();
  const decoder = fetchDecoder.slice(length);
  fetchDecoder.forward(length);
  const remainingBytes = Buffer.byteLength(decoder.buffer);
  if (remainingBytes < length) {
    throw new k.PartialMessageError(`Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`);
  }
  const partitionLeaderEpoch = decoder.readInt32();
  const magicByte = decoder.readInt8();
  decoder.readInt32(); // the CRC, not checked (as kafkajs)
  const attributes = decoder.readInt16();
  const lastOffsetDelta = decoder.readInt32();
  const firstTimestamp = decoder.readInt64().toString();
  const maxTimestamp = decoder.readInt64().toString();
  const producerId = decoder.readInt64().toString();
  const producerEpoch = decoder.readInt16();
  const firstSequence = decoder.readInt32();
  const inTransaction = (attributes & TRANSACTIONAL_FLAG_MASK) > 0;
  const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0;
  const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? k.LOG_APPEND_TIME : k.CREATE_TIME;
  const codec = k.lookupCodecByAttributes(attributes);
  const recordContext = { firstOffset, firstTimestamp, partitionLeaderEpoch, inTransaction, isControlBatch, lastOffsetDelta, producerId, producerEpoch, firstSequence, maxTimestamp, timestampType };
  const context: BatchContext = { ...recordContext, magicByte };
  const logAppend = timestampType === k.LOG_APPEND_TIME;
  const count = decoder.readInt32();
  let records: DecodedRecord[];
  if (!codec) {
    records = count === -1 ? [] : decodeRecordsOf(new Reader(decoder.buffer, decoder.offset, decoder.buffer.length), count, context, magicByte, logAppend);
  } else if (count <= 0) {
    records = [];
  } else {
    const decompressed = await codec.decompress(decoder.readAll());
    records = decodeRecordsOf(new Reader(decompressed, 0, decompressed.length), count, context, magicByte, logAppend);
  }
  return { ...recordContext, records };
}
