import { SerdeError, type Serde } from './serde.ts';

/** A table update as it travels through a repartition topic: the new and the old value. */
export interface ChangeValue<V> {
  readonly newValue: V | null;
  readonly oldValue: V | null;
}

function writePart(bytes: Buffer | null): Buffer[] {
  const header = Buffer.allocUnsafe(4);
  header.writeInt32BE(bytes === null ? -1 : bytes.length);
  return bytes === null ? [header] : [header, bytes];
}

/** Serializes a table change as two length-prefixed parts (`-1` for an absent side), each with the inner serde. */
export function changeSerde<V>(inner: Serde<V>): Serde<ChangeValue<V>> {
  return {
    name: `change(${inner.name})`,
    serialize(value, topic) {
      if (value == null) return null;
      const newBytes = value.newValue === null ? null : inner.serialize(value.newValue, topic);
      const oldBytes = value.oldValue === null ? null : inner.serialize(value.oldValue, topic);
      return Buffer.concat([...writePart(newBytes), ...writePart(oldBytes)]);
    },
    deserialize(bytes, topic) {
      if (bytes == null) return null as unknown as ChangeValue<V>;
      if (bytes.length < 8) throw new SerdeError(`a table change needs at least 8 bytes, got ${bytes.length}`);
      let offset = 0;
      const readPart = (): V | null => {
        const length = bytes.readInt32BE(offset);
        offset += 4;
        if (length < 0) return null;
        const part = bytes.subarray(offset, offset + length);
        offset += length;
        return inner.deserialize(part, topic);
      };
      const newValue = readPart();
      const oldValue = readPart();
      return { newValue, oldValue };
    },
  };
}
