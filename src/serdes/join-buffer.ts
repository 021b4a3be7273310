import { SerdeError, type Serde } from './serde.ts';
import { readInt64, writeInt64 } from './int64.ts';

/** Which input of a stream-stream join a buffered record came from. */
export type JoinSide = 'left' | 'right';

/** The key of a record waiting in a left/outer join's buffer: its timestamp, side and key. */
export interface JoinBufferKey<K> {
  readonly timestamp: number;
  readonly side: JoinSide;
  readonly key: K;
}

/** The records of one buffer key (one side, one timestamp, one key), in arrival order. */
export interface JoinBufferValue {
  readonly side: JoinSide;
  readonly values: readonly unknown[];
}

/**
 * Buffer keys laid out as Kafka Streams' `TimestampedKeyAndJoinSide`: the timestamp (8 bytes),
 * the side (1 byte: 0 right, 1 left, so right sorts first), then the key's bytes.
 */
export function joinBufferKeySerde<K>(keySerde: Serde<K>): Serde<JoinBufferKey<K>> {
  return {
    name: `join-buffer-key(${keySerde.name})`,
    serialize(value, topic) {
      if (value == null) return null;
      const keyBytes = keySerde.serialize(value.key, topic) ?? Buffer.alloc(0);
      const out = Buffer.allocUnsafe(9 + keyBytes.length);
      writeInt64(out, value.timestamp, 0);
      out.writeUInt8(value.side === 'left' ? 1 : 0, 8);
      keyBytes.copy(out, 9);
      return out;
    },
    deserialize(bytes, topic) {
      if (bytes == null) return null as unknown as JoinBufferKey<K>;
      if (bytes.length < 9) throw new SerdeError(`a join buffer key needs at least 9 bytes, got ${bytes.length}`);
      return {
        timestamp: readInt64(bytes, 0),
        side: bytes.readUInt8(8) === 1 ? 'left' : 'right',
        key: keySerde.deserialize(bytes.subarray(9), topic),
      };
    },
  };
}

/** Buffer values: the side (1 byte), then each value length-prefixed, with that side's serde. */
export function joinBufferValueSerde(leftSerde: Serde<unknown>, rightSerde: Serde<unknown>): Serde<JoinBufferValue> {
  return {
    name: `join-buffer-value(${leftSerde.name}, ${rightSerde.name})`,
    serialize(value, topic) {
      if (value == null) return null;
      const serde = value.side === 'left' ? leftSerde : rightSerde;
      const parts: Buffer[] = [Buffer.from([value.side === 'left' ? 1 : 0])];
      for (const v of value.values) {
        const bytes = serde.serialize(v, topic) ?? Buffer.alloc(0);
        const header = Buffer.allocUnsafe(4);
        header.writeInt32BE(bytes.length);
        parts.push(header, bytes);
      }
      return Buffer.concat(parts);
    },
    deserialize(bytes, topic) {
      if (bytes == null) return null as unknown as JoinBufferValue;
      if (bytes.length < 1) throw new SerdeError('a join buffer value needs at least 1 byte');
      const side: JoinSide = bytes.readUInt8(0) === 1 ? 'left' : 'right';
      const serde = side === 'left' ? leftSerde : rightSerde;
      const values: unknown[] = [];
      let offset = 1;
      while (offset < bytes.length) {
        const length = bytes.readInt32BE(offset);
        offset += 4;
        values.push(serde.deserialize(bytes.subarray(offset, offset + length), topic));
        offset += length;
      }
      return { side, values };
    },
  };
}
