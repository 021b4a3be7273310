/**
 * kafkajs's Produce request v3 (`src/protocol/requests/produce/v3/request.js`, which v4–v7 reuse),
 * encoding the same bytes with less work per record; installed by kafkajs-patches.ts. Per
 * partition, kafkajs maps, filters and sorts every message's timestamp to find the first and the
 * largest (`.sort()` without a comparator: string order, kept here), and copies every message with
 * an object spread before encoding it. This one finds both timestamps in one pass and hands the
 * record encoder the five fields it reads. The request and topic levels are kafkajs's as they were.
 */
import { createRequire } from 'node:module';
import { encodeUncompressedPartition } from './kafkajs-record-batch.ts';

/** RecordBatch's attributes bit for a batch inside a transaction (kafkajs's TRANSACTIONAL_MASK). */
const TRANSACTIONAL_MASK = 16;

type Timestamp = string | number;
/** A message as kafkajs's producer hands it to the request. */
interface ProduceMessage {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, unknown>;
  timestamp?: Timestamp | null;
}
interface PartitionData {
  partition: number;
  messages: ProduceMessage[];
  firstSequence?: number;
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
/** kafkajs's Encoder, as far as this module writes with it. */
interface Encoder {
  writeString(value: string | null): Encoder;
  writeInt16(value: number): Encoder;
  writeInt32(value: number): Encoder;
  writeInt64(value: unknown): Encoder;
  writeArray(values: unknown[]): Encoder;
  writeEncoder(value: Encoder): Encoder;
  size(): number;
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}
interface Internals {
  Long: { fromInt(value: number): unknown };
  Encoder: new (initialSize?: number) => Encoder;
  crc32C: (bytes: Buffer) => number;
  apiKey: number;
  None: number;
  Record: (record: { offsetDelta: number; timestampDelta: number; key: unknown; value: unknown; headers: unknown }) => unknown;
  RecordBatch: (args: Record<string, unknown>) => Promise<Encoder>;
}

export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}

const require = createRequire(import.meta.url);
let internals: Internals | undefined;
/** kafkajs's modules, loaded on first use: after every patch is in the module cache. */
function kafkajs(): Internals {
  if (internals) return internals;
  const from = (path: string): unknown => require(`kafkajs/src/${path}`);
  internals = {
    Long: from('utils/long.js') as Internals['Long'],
    Encoder: from('protocol/encoder.js') as Internals['Encoder'],
    crc32C: from('protocol/recordBatch/crc32C/index.js') as Internals['crc32C'],
    apiKey: (from('protocol/requests/apiKeys.js') as { Produce: number }).Produce,
    None: (from('protocol/message/compression/index.js') as { Types: { None: number } }).Types.None,
    Record: from('protocol/recordBatch/record/v0/index.js') as Internals['Record'],
    RecordBatch: (from('protocol/recordBatch/v0/index.js') as { RecordBatch: Internals['RecordBatch'] }).RecordBatch,
  };
  return internals;
}

/** kafkajs's Produce v3 request builder. */
export function produceRequestV3({ acks, timeout, transactionalId = null, producerId, producerEpoch = 0, compression, topicData }: ProduceRequestArgs): {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<Encoder>;
} {
  const k = kafkajs();
  const id = producerId ?? k.Long.fromInt(-1);
  const codec = compression ?? k.None;
  return {
    apiKey: k.apiKey,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async () => {
      const encodedTopics: Encoder[] = [];
      for (const { topic, partitions } of topicData) {
        const encodedPartitions: Encoder[] = [];
        for (const data of partitions) encodedPartitions.push(await encodePartition(k, codec, data, transactionalId, id, producerEpoch));
        encodedTopics.push(new k.Encoder().writeString(topic).writeArray(encodedPartitions));
      }
      return new k.Encoder().writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeArray(encodedTopics);
    },
  };
}

/** A kafkajs Encoder holding `bytes` as what it has written (the request levels copy it from there). */
function encoderOf(k: Internals, bytes: Buffer): Encoder {
  const encoder = new k.Encoder(0);
  encoder.buf = bytes;
  encoder.offset = bytes.length;
  return encoder;
}

async function encodePartition(k: Internals, compression: number, { partition, messages, firstSequence }: PartitionData, transactionalId: string | null, producerId: unknown, producerEpoch: number): Promise<Encoder> {
  const dateNow = Date.now();
  // kafkajs: the first and last of the timestamps given, sorted as strings (Array.prototype.sort's default).
  let first: Timestamp | undefined;
  let firstKey = '';
  let max: Timestamp | undefined;
  let maxKey = '';
  for (const { timestamp } of messages) {
    if (timestamp == null) continue;
    const key = String(timestamp);
    if (first === undefined || key < firstKey) {
      first = timestamp;
      firstKey = key;
    }
    if (max === undefined || key > maxKey) {
      max = timestamp;
      maxKey = key;
    }
  }
  const firstTimestamp = first ?? dateNow;
  const maxTimestamp = max ?? dateNow;
  const base = Number(firstTimestamp); // what `x - firstTimestamp` converts it to, once
  if (compression === k.None) {
    const transactional = transactionalId ? TRANSACTIONAL_MASK : 0;
    const written = encodeUncompressedPartition(
      partition,
      messages,
      (message) => Number(message.timestamp || dateNow) - base,
      () =>
        new k.Encoder(40)
          .writeInt16(compression | transactional)
          .writeInt32(messages.length - 1)
          .writeInt64(firstTimestamp)
          .writeInt64(maxTimestamp)
          .writeInt64(producerId)
          .writeInt16(producerEpoch)
          .writeInt32(firstSequence ?? 0)
          .writeInt32(messages.length).buffer,
      k.crc32C,
    );
    if (written !== undefined) return encoderOf(k, written);
  }
  const records = new Array<unknown>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    records[i] = k.Record({
      offsetDelta: i,
      timestampDelta: Number(message.timestamp || dateNow) - base,
      key: message.key,
      value: message.value,
      headers: message.headers,
    });
  }
  const recordBatch = await k.RecordBatch({
    compression,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    firstSequence,
    transactional: !!transactionalId,
    lastOffsetDelta: records.length - 1,
  });
  return new k.Encoder().writeInt32(partition).writeInt32(recordBatch.size()).writeEncoder(recordBatch);
}
