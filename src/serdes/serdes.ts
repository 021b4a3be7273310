import { Ajv, type ValidateFunction, type AnySchema } from 'ajv';
import { SerdeError, type Serde } from './serde.ts';
import { readInt64, writeInt64 } from './int64.ts';

/** A window: `start` inclusive; `end` exclusive for time windows, inclusive for session and sliding ones. */
export interface Window {
  start: number;
  end: number;
}

/** A key of a windowed aggregation: the grouping key and its window. */
export interface Windowed<K> {
  key: K;
  window: Window;
}

/** Formats a windowed key as Kafka Streams does: `[key@start/end]`. */
export function windowedToString<K>(windowed: Windowed<K>): string {
  return `[${String(windowed.key)}@${windowed.window.start}/${windowed.window.end}]`;
}

const ajv = new Ajv({ allErrors: true, strict: false });

function fail(reason: string, cause?: unknown): never {
  throw new SerdeError(reason, undefined, { cause });
}

/**
 * A non-nullable serde asked to read null bytes: its type promises a `T`, so it says what to use
 * instead of returning a `null` typed as `T`.
 */
function tombstone(serde: string): never {
  fail(`the ${serde} serde got null bytes (a tombstone, or a record without a key): read such a topic with Serdes.nullable(${serde.startsWith('windowed') ? 'Serdes.windowed(...)' : `Serdes.${serde.replace(/\(.*$/, '')}()`}), typed T | null`);
}

const stringSerde: Serde<string> = {
  name: 'string',
  serialize: (value) => (value == null ? null : Buffer.from(String(value), 'utf8')),
  deserialize: (bytes) => (bytes == null ? tombstone('string') : bytes.toString()), // UTF-8: toString's default, its fastest call
};

const bytesSerde: Serde<Buffer> = {
  name: 'bytes',
  serialize: (value) => (value == null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value)),
  deserialize: (bytes) => bytes ?? tombstone('bytes'),
};

function json<T = unknown>(schema?: AnySchema): Serde<T> {
  const validate: ValidateFunction | undefined = schema === undefined ? undefined : ajv.compile(schema);
  const check = (value: unknown): void => {
    if (validate && !validate(value)) {
      fail(`value does not match its JSON Schema: ${ajv.errorsText(validate.errors, { dataVar: 'value' })}`);
    }
  };
  return {
    name: schema === undefined ? 'json' : 'json(schema)',
    serialize(value) {
      if (value == null) return null;
      check(value);
      return Buffer.from(JSON.stringify(value), 'utf8');
    },
    deserialize(bytes) {
      if (bytes == null) tombstone('json');
      let value: unknown;
      try {
        value = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        fail(`value is not valid JSON: ${(error as Error).message}`, error);
      }
      check(value);
      return value as T;
    },
  };
}

function fixedNumber(name: string, size: number, write: (buf: Buffer, n: number) => void, read: (buf: Buffer) => number): Serde<number> {
  return {
    name,
    serialize(value) {
      if (value == null) return null;
      if (typeof value !== 'number' || Number.isNaN(value)) fail(`${name} serde expects a number, got ${typeof value}`);
      const buf = Buffer.allocUnsafe(size);
      write(buf, value);
      return buf;
    },
    deserialize(bytes) {
      if (bytes == null) tombstone(name);
      if (bytes.length !== size) fail(`${name} serde expects ${size} bytes, got ${bytes.length}`);
      return read(bytes);
    },
  };
}

const int32Serde = fixedNumber('int32', 4, (b, n) => b.writeInt32BE(n | 0), (b) => b.readInt32BE(0));
const int64Serde = fixedNumber('int64', 8, (b, n) => writeInt64(b, n, 0), (b) => readInt64(b, 0));
const float64Serde = fixedNumber('float64', 8, (b, n) => b.writeDoubleBE(n), (b) => b.readDoubleBE(0));

/**
 * The serde for a topic that carries tombstones: `null` both ways, `inner` for everything else, so
 * the values read are typed `T | null`, e.g. `Serdes.nullable(Serdes.int64())` for the output of
 * `table.toStream()`. The other built-in serdes refuse null bytes rather than return a `null` typed `T`.
 */
function nullable<T>(inner: Serde<T>): Serde<T | null> {
  return {
    name: `nullable(${inner.name})`,
    serialize: (value, topic) => (value == null ? null : inner.serialize(value, topic)),
    deserialize: (bytes, topic) => (bytes == null ? null : inner.deserialize(bytes, topic)),
  };
}

/**
 * Windowed keys as Kafka Streams' time-windowed serde lays them out: the inner key's bytes,
 * then the window start (8 bytes), then the window end (8 bytes, an addition of ours so that
 * session and sliding windows round-trip too).
 */
function windowed<K>(inner: Serde<K>): Serde<Windowed<K>> {
  return {
    name: `windowed(${inner.name})`,
    serialize(value, topic) {
      if (value == null) return null;
      const keyBytes = inner.serialize(value.key, topic) ?? Buffer.alloc(0);
      const out = Buffer.allocUnsafe(keyBytes.length + 16);
      keyBytes.copy(out, 0);
      writeInt64(out, value.window.start, keyBytes.length);
      writeInt64(out, value.window.end, keyBytes.length + 8);
      return out;
    },
    deserialize(bytes, topic) {
      if (bytes == null) tombstone(`windowed(${inner.name})`);
      if (bytes.length < 16) fail(`windowed key needs at least 16 bytes, got ${bytes.length}`);
      const keyLength = bytes.length - 16;
      return {
        key: inner.deserialize(bytes.subarray(0, keyLength), topic),
        window: {
          start: readInt64(bytes, keyLength),
          end: readInt64(bytes, keyLength + 8),
        },
      };
    },
  };
}

/** The built-in serdes. */
export const Serdes = {
  string: (): Serde<string> => stringSerde,
  /** JSON text; with a JSON Schema, values are validated (ajv) both ways. */
  json,
  bytes: (): Serde<Buffer> => bytesSerde,
  int32: (): Serde<number> => int32Serde,
  int64: (): Serde<number> => int64Serde,
  float64: (): Serde<number> => float64Serde,
  nullable,
  windowed,
} as const;
