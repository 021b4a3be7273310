import type { Headers } from '../util/headers.ts';
import { SerdeError, type Serde } from './serde.ts';
import { readInt64, writeInt64 } from './int64.ts';

/** One key waiting in a `suppress` buffer: its latest update and when it may be emitted. */
export interface SuppressBufferEntry<V> {
  /** The time the entry is due from: the window end (final results) or the first buffered update's timestamp. */
  readonly bufferTime: number;
  /** The latest value (`null`: a tombstone). */
  readonly newValue: V | null;
  /** The value before the first buffered update: what downstream saw last. */
  readonly priorValue: V | null;
  /** The timestamp of the latest update, which the emitted record carries. */
  readonly timestamp: number;
  /** The headers of the latest update. */
  readonly headers: Headers;
}

function part(bytes: Buffer | null): Buffer[] {
  const header = Buffer.allocUnsafe(4);
  header.writeInt32BE(bytes === null ? -1 : bytes.length);
  return bytes === null ? [header] : [header, bytes];
}

function headersToJson(headers: Headers): string {
  const out: Record<string, { s: string } | { b: string }> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = typeof value === 'string' ? { s: value } : { b: value.toString('base64') };
  }
  return JSON.stringify(out);
}

function headersFromJson(text: string): Headers {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(JSON.parse(text) as Record<string, { s?: string; b?: string }>)) {
    headers[name] = value.s !== undefined ? value.s : Buffer.from(value.b ?? '', 'base64');
  }
  return headers;
}

/**
 * Buffer entries as bytes, so a persistent store keeps them across restarts: buffer time and
 * timestamp (8 bytes each), then the new value, the prior value (with the table's value serde) and
 * the headers (JSON), each length-prefixed (`-1` for `null`).
 */
export function suppressBufferSerde<V>(valueSerde: Serde<V>): Serde<SuppressBufferEntry<V>> {
  return {
    name: `suppress-buffer(${valueSerde.name})`,
    serialize(entry, topic) {
      if (entry == null) return null;
      const times = Buffer.allocUnsafe(16);
      writeInt64(times, entry.bufferTime, 0);
      writeInt64(times, entry.timestamp, 8);
      return Buffer.concat([
        times,
        ...part(entry.newValue === null ? null : valueSerde.serialize(entry.newValue, topic)),
        ...part(entry.priorValue === null ? null : valueSerde.serialize(entry.priorValue, topic)),
        ...part(Buffer.from(headersToJson(entry.headers), 'utf8')),
      ]);
    },
    deserialize(bytes, topic) {
      if (bytes == null) return null as unknown as SuppressBufferEntry<V>;
      if (bytes.length < 28) throw new SerdeError(`a suppress buffer entry needs at least 28 bytes, got ${bytes.length}`);
      let offset = 16;
      const read = (): Buffer | null => {
        const length = bytes.readInt32BE(offset);
        offset += 4;
        if (length < 0) return null;
        const slice = bytes.subarray(offset, offset + length);
        offset += length;
        return slice;
      };
      const newBytes = read();
      const priorBytes = read();
      const headerBytes = read();
      return {
        bufferTime: readInt64(bytes, 0),
        timestamp: readInt64(bytes, 8),
        newValue: newBytes === null ? null : valueSerde.deserialize(newBytes, topic),
        priorValue: priorBytes === null ? null : valueSerde.deserialize(priorBytes, topic),
        headers: headerBytes === null ? {} : headersFromJson(headerBytes.toString('utf8')),
      };
    },
  };
}
