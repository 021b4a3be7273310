import type { Headers } from '../util/headers.ts';
import { SerdeError, type Serde } from './serde.ts';

/** A stream record waiting in a stream-table join's grace buffer: its value and headers (the key and timestamp address it). */
export interface GraceBufferedRecord {
  readonly value: unknown;
  readonly headers: Headers;
}

type StoredHeader = [name: string, kind: 's' | 'b', text: string];

/**
 * Buffered records as JSON text: the value's bytes from the stream's serde (base64) and the
 * headers with their kind, so a Buffer header comes back a Buffer after a restart.
 */
export function graceBufferValueSerde(valueSerde: Serde<unknown>): Serde<GraceBufferedRecord> {
  return {
    name: `grace-buffer(${valueSerde.name})`,
    serialize(record, topic) {
      if (record == null) return null;
      const bytes = valueSerde.serialize(record.value, topic);
      const headers: StoredHeader[] = [];
      for (const [name, value] of Object.entries(record.headers)) {
        if (typeof value === 'string') headers.push([name, 's', value]);
        else if (value !== undefined) headers.push([name, 'b', value.toString('base64')]);
      }
      return Buffer.from(JSON.stringify({ v: bytes === null ? null : bytes.toString('base64'), h: headers }), 'utf8');
    },
    deserialize(bytes, topic) {
      if (bytes == null) return null as unknown as GraceBufferedRecord;
      let parsed: { v: string | null; h: StoredHeader[] };
      try {
        parsed = JSON.parse(bytes.toString('utf8')) as { v: string | null; h: StoredHeader[] };
      } catch (error) {
        throw new SerdeError(`a grace buffer entry is not JSON: ${(error as Error).message}`, undefined, { cause: error });
      }
      const headers: Headers = {};
      for (const [name, kind, text] of parsed.h) headers[name] = kind === 's' ? text : Buffer.from(text, 'base64');
      return { value: valueSerde.deserialize(parsed.v === null ? null : Buffer.from(parsed.v, 'base64'), topic), headers };
    },
  };
}
