import { SerdeError, type Serde } from './serde.ts';

/**
 * What the left table of a foreign-key join asks of the right side's subscription store, as
 * Kafka Streams' `SubscriptionWrapper.Instruction` does.
 */
export type SubscriptionInstruction =
  | 'delete-key-no-propagate'
  | 'delete-key-and-propagate'
  | 'propagate-null-if-no-fk-value'
  | 'propagate-only-if-fk-value';

const instructions: readonly SubscriptionInstruction[] = [
  'delete-key-no-propagate',
  'delete-key-and-propagate',
  'propagate-null-if-no-fk-value',
  'propagate-only-if-fk-value',
];

/** A subscription (keyed by the foreign key): which left row, its value's hash, and the partition to answer on. */
export interface SubscriptionWrapper<PK> {
  /** Hash of the left row's serialized value (hex), `null` for a deleted row. */
  readonly hash: string | null;
  readonly instruction: SubscriptionInstruction;
  readonly primaryKey: PK;
  readonly primaryPartition: number;
}

/** An answer to a subscription (keyed by the primary key): the foreign value, for the left value with this hash. */
export interface SubscriptionResponse<VO> {
  readonly hash: string | null;
  readonly foreignValue: VO | null;
  readonly primaryPartition: number;
}

const HASH_BYTES = 16;

function writeHash(hash: string | null): Buffer {
  if (hash === null) return Buffer.from([0]);
  return Buffer.concat([Buffer.from([1]), Buffer.from(hash, 'hex')]);
}

function readHash(bytes: Buffer, offset: number): { hash: string | null; next: number } {
  if (bytes[offset] === 0) return { hash: null, next: offset + 1 };
  return { hash: bytes.subarray(offset + 1, offset + 1 + HASH_BYTES).toString('hex'), next: offset + 1 + HASH_BYTES };
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
}

/** Serializes a subscription: instruction byte, hash, primary partition, then the primary key with its serde. */
export function subscriptionWrapperSerde<PK>(primaryKeySerde: Serde<PK>): Serde<SubscriptionWrapper<PK>> {
  return {
    name: `subscription(${primaryKeySerde.name})`,
    serialize(value, topic) {
      if (value == null) return null;
      const key = primaryKeySerde.serialize(value.primaryKey, topic);
      if (key === null) throw new SerdeError('a foreign-key subscription needs a primary key');
      return Buffer.concat([Buffer.from([instructions.indexOf(value.instruction)]), writeHash(value.hash), int32(value.primaryPartition), key]);
    },
    deserialize(bytes, topic) {
      if (bytes == null || bytes.length < 6) throw new SerdeError(`a foreign-key subscription needs at least 6 bytes, got ${bytes?.length ?? 'null'}`);
      const instruction = instructions[bytes[0]!];
      if (instruction === undefined) throw new SerdeError(`unknown foreign-key subscription instruction ${bytes[0]}`);
      const { hash, next } = readHash(bytes, 1);
      const primaryPartition = bytes.readInt32BE(next);
      const primaryKey = primaryKeySerde.deserialize(bytes.subarray(next + 4), topic);
      return { hash, instruction, primaryKey, primaryPartition };
    },
  };
}

/** Serializes a response: hash, primary partition, then a presence byte and the foreign value with its serde. */
export function subscriptionResponseSerde<VO>(foreignValueSerde: Serde<VO>): Serde<SubscriptionResponse<VO>> {
  return {
    name: `subscription-response(${foreignValueSerde.name})`,
    serialize(value, topic) {
      if (value == null) return null;
      const foreign = value.foreignValue === null ? null : foreignValueSerde.serialize(value.foreignValue, topic);
      return Buffer.concat([writeHash(value.hash), int32(value.primaryPartition), Buffer.from([foreign === null ? 0 : 1]), ...(foreign === null ? [] : [foreign])]);
    },
    deserialize(bytes, topic) {
      if (bytes == null || bytes.length < 6) throw new SerdeError(`a foreign-key subscription response needs at least 6 bytes, got ${bytes?.length ?? 'null'}`);
      const { hash, next } = readHash(bytes, 0);
      const primaryPartition = bytes.readInt32BE(next);
      const foreignValue = bytes[next + 4] === 0 ? null : foreignValueSerde.deserialize(bytes.subarray(next + 5), topic);
      return { hash, foreignValue, primaryPartition };
    },
  };
}

/** Serializes a subscription store key: the foreign key's length and bytes, then the primary key's bytes (Kafka's `CombinedKeySchema`). */
export function combinedKeySerde<FK, PK>(foreignKeySerde: Serde<FK>, primaryKeySerde: Serde<PK>): Serde<{ readonly foreignKey: FK; readonly primaryKey: PK }> {
  return {
    name: `combined(${foreignKeySerde.name},${primaryKeySerde.name})`,
    serialize(value, topic) {
      if (value == null) return null;
      const fk = foreignKeySerde.serialize(value.foreignKey, topic);
      const pk = primaryKeySerde.serialize(value.primaryKey, topic);
      if (fk === null || pk === null) throw new SerdeError('a subscription store key needs a foreign key and a primary key');
      return Buffer.concat([int32(fk.length), fk, pk]);
    },
    deserialize(bytes, topic) {
      if (bytes == null || bytes.length < 4) throw new SerdeError('a subscription store key needs at least 4 bytes');
      const length = bytes.readInt32BE(0);
      return {
        foreignKey: foreignKeySerde.deserialize(bytes.subarray(4, 4 + length), topic),
        primaryKey: primaryKeySerde.deserialize(bytes.subarray(4 + length), topic),
      };
    },
  };
}
