import { isUtf8 } from 'node:buffer';
import type { Serde } from '../serdes/serde.ts';
import type { Windowed } from '../serdes/serdes.ts';
import { ChangeLog, type StoreChange } from './change-log.ts';
import { keyId } from './key-id.ts';
import { isVersionedStore, type StateStore, type StoreSpec, type ValueAndTimestamp } from './store.ts';
import type { InMemoryVersionedKeyValueStore } from './memory-versioned.ts';
import { persistedVersionedStore } from './redis-versioned.ts';

/*
 * How store entries look in Redis. Everything is text: ioredis sends a command whose arguments
 * are all strings about twice as fast as one with a Buffer among them, and `redis-cli` shows it.
 * Every encoded key or value starts with a tag character, so decoding never needs to know which
 * path the encoder took, and every JS value comes back as it went in:
 *
 *   S<text>     the store's serde produced these bytes, valid UTF-8 (string and JSON serdes)
 *   b<base64>   the store's serde produced these bytes, binary (int64 and the like)
 *   s<text>     a string, without a serde
 *   J<json>     anything else without a serde (numbers, plain objects, arrays, booleans, null)
 *   B<base64>   a Buffer, without a serde
 *   U           undefined (only possible inside a timestamped value)
 *   T<timestamp>:<encoded value>   a `ValueAndTimestamp` (the DSL's timestamped stores)
 *
 * A serde is only used where it gives back what it was given (see `KeyCodec`, `ValueCodec`).
 *
 * Hash fields: key-value stores use the encoded key; window stores prefix it with
 * `<window start>|` and, with `retainDuplicates`, `<sequence>|`; session stores with
 * `<session start>|<session end>|`. Numbers are written as `String(n)`, one text per number,
 * so a put and a later delete of the same entry address the same field.
 */

/** A stored entry Redis gave back that this codec cannot read. */
export class StoredEntryError extends Error {
  override readonly name = 'StoredEntryError';
}

function withoutSerde(value: unknown): string {
  if (typeof value === 'string') return `s${value}`;
  if (Buffer.isBuffer(value)) return `B${value.toString('base64')}`;
  if (value === undefined) return 'U';
  return `J${JSON.stringify(value)}`;
}

function fromSerde(bytes: Buffer): string {
  return isUtf8(bytes) ? `S${bytes.toString('utf8')}` : `b${bytes.toString('base64')}`;
}

function serialized(serde: Serde<unknown>, value: unknown): Buffer | null {
  try {
    return serde.serialize(value);
  } catch {
    // A serde that refuses the value (e.g. `string` given a number key) cannot store it faithfully.
    return null;
  }
}

function decodeTagged(text: string, serde: Serde<unknown> | undefined, what: string): unknown {
  const payload = text.slice(1);
  switch (text[0]) {
    case 'S':
    case 'b':
      if (!serde) throw new StoredEntryError(`${what} was written with a serde, but the store now has none`);
      return serde.deserialize(Buffer.from(payload, text[0] === 'S' ? 'utf8' : 'base64'));
    case 's':
      return payload;
    case 'J':
      return JSON.parse(payload);
    case 'B':
      return Buffer.from(payload, 'base64');
    case 'U':
      return undefined;
    default:
      throw new StoredEntryError(`${what} has an unknown encoding tag '${text[0] ?? ''}'`);
  }
}

/**
 * Encodes keys of one store. The serde is used for a key only when decoding its bytes gives a key
 * of the same identity (DSL stores get the builder's default `string` serde even when their keys
 * are numbers); otherwise the key is stored without it. Either way the encoding is a function of
 * the key alone, so a put and a later delete of the same key address the same Redis field.
 */
export class KeyCodec {
  constructor(private readonly serde: Serde<unknown> | undefined) {}

  encode(key: unknown): string {
    if (this.serde) {
      const bytes = serialized(this.serde, key);
      if (bytes !== null && this.roundTrips(key, bytes)) return fromSerde(bytes);
    }
    return withoutSerde(key);
  }

  decode(text: string): unknown {
    return decodeTagged(text, this.serde, 'a stored key');
  }

  private roundTrips(key: unknown, bytes: Buffer): boolean {
    try {
      return keyId(this.serde!.deserialize(bytes)) === keyId(key);
    } catch {
      return false;
    }
  }
}

/** Structural equality of what serdes give back (JSON-like data and Buffers). */
function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** How many values of a store are checked against their serde before the serde is trusted. */
const VALUES_CHECKED = 32;

/**
 * Encodes values of one store. A serde that does not give back the store's values (a `string`
 * serde over aggregate objects, say) would corrupt them silently, so the first values are
 * decoded again and compared; at the first mismatch the store stops using the serde and stores
 * values as JSON (old entries stay readable: each carries its tag).
 */
export class ValueCodec {
  private trusted: boolean;
  private unchecked = VALUES_CHECKED;

  constructor(
    private readonly serde: Serde<unknown> | undefined,
    private readonly timestamped: boolean,
  ) {
    this.trusted = serde !== undefined;
  }

  encode(value: unknown): string {
    if (!this.timestamped) return this.encodeInner(value);
    const { value: inner, timestamp } = value as ValueAndTimestamp<unknown>;
    if (typeof timestamp !== 'number') throw new TypeError(`a timestamped store holds { value, timestamp }, got ${JSON.stringify(value)}`);
    return `T${timestamp}:${this.encodeInner(inner)}`;
  }

  decode(text: string): unknown {
    if (text[0] !== 'T') return decodeTagged(text, this.serde, 'a stored value');
    const colon = text.indexOf(':');
    if (colon < 0) throw new StoredEntryError(`a stored timestamped value has no ':' after its timestamp: ${text.slice(0, 40)}`);
    return { value: decodeTagged(text.slice(colon + 1), this.serde, 'a stored value'), timestamp: Number(text.slice(1, colon)) };
  }

  private encodeInner(value: unknown): string {
    const serde = this.serde;
    if (serde && this.trusted && value !== undefined && value !== null) {
      const bytes = serialized(serde, value);
      if (bytes !== null && (this.unchecked === 0 || this.check(serde, value, bytes))) return fromSerde(bytes);
      this.trusted = false;
    }
    return withoutSerde(value);
  }

  private check(serde: Serde<unknown>, value: unknown, bytes: Buffer): boolean {
    this.unchecked--;
    try {
      return sameData(serde.deserialize(bytes), value);
    } catch {
      return false;
    }
  }
}

/** Splits `count` numbers, each followed by `|`, off the front of a field. */
function splitNumbers(field: string, count: number, what: string): { numbers: number[]; rest: string } {
  const numbers: number[] = [];
  let from = 0;
  for (let i = 0; i < count; i++) {
    const bar = field.indexOf('|', from);
    if (bar < 0) throw new StoredEntryError(`a stored ${what} field needs ${count} numbers before its key: ${field.slice(0, 60)}`);
    numbers.push(Number(field.slice(from, bar)));
    from = bar + 1;
  }
  return { numbers, rest: field.slice(from) };
}

/** The hash field of a window: `start|`, then (with duplicates) `sequence|`, then the encoded key. */
function windowField(start: number, sequence: number | undefined, key: string): string {
  return sequence === undefined ? `${start}|${key}` : `${start}|${sequence}|${key}`;
}

/** Splits a window field written by `windowField`. */
function parseWindowField(field: string, withSequence: boolean): { start: number; sequence: number | undefined; key: string } {
  const { numbers, rest } = splitNumbers(field, withSequence ? 2 : 1, 'window');
  return { start: numbers[0]!, sequence: numbers[1], key: rest };
}

/** The hash field of a session: `start|end|`, then the encoded key. */
function sessionField(start: number, end: number, key: string): string {
  return `${start}|${end}|${key}`;
}

/** Splits a session field written by `sessionField`. */
function parseSessionField(field: string): { start: number; end: number; key: string } {
  const { numbers, rest } = splitNumbers(field, 2, 'session');
  return { start: numbers[0]!, end: numbers[1]!, key: rest };
}

/** What the backend needs of a store to persist it: the in-memory stores provide it. */
interface Restorable {
  readonly changes: ChangeLog;
  put(...args: never[]): void;
  readonly observedStreamTime?: number;
  readonly retentionMs?: number;
  readonly retainDuplicates?: boolean;
  restore(...args: never[]): void;
}

/** One persisted store: its Redis keys, and how its entries map to fields and back. */
export interface PersistedStore {
  readonly name: string;
  readonly changes: ChangeLog;
  readonly hash: string;
  /** The sorted set of window and session stores (by window start, by session end). */
  readonly index: string | undefined;
  field(change: StoreChange): string;
  score(change: StoreChange): number;
  encodeValue(value: unknown): string;
  /** Restoring an entry twice would hold it twice (window stores with `retainDuplicates`). */
  readonly appendsOnRestore: boolean;
  /** Restores one entry; false when it had already expired, so the store refused it. */
  restore(field: string, value: string): boolean;
  /**
   * Applies one change read back from a changelog (`field`, and `encodeValue`'s text or null for
   * a delete) as the task would: through the store's put and delete, so it is recorded as a change.
   */
  apply(field: string, value: string | null): void;
}

function isRestorable(store: StateStore): store is StateStore & Restorable {
  const candidate = store as Partial<Restorable>;
  return candidate.changes instanceof ChangeLog && typeof candidate.restore === 'function';
}

/** Windows and sessions with a time before this have expired in `store`. */
function minLiveTime(store: Restorable): number {
  return (store.observedStreamTime ?? -1) - (store.retentionMs ?? 0) + 1;
}

/**
 * How a task's store lives under `prefix` (`trib:{<applicationId>:<taskId>}`): a key-value store
 * in the hash `:kv:<store>`, a window store in `:win:<store>` plus the sorted set
 * `:win:<store>:idx` by window start, a session store in `:sess:<store>` plus `:sess:<store>:idx`
 * by session end, a versioned store in `:ver:<store>` (see `persistedVersionedStore`). Undefined
 * for stores that are not persisted (custom stores, or ones without a
 * change log to write).
 */
export function persistedStore(prefix: string, store: StateStore, spec: StoreSpec | undefined): PersistedStore | undefined {
  if (!isRestorable(store)) return undefined;
  const keys = new KeyCodec(spec?.keySerde);
  if (isVersionedStore(store)) return persistedVersionedStore(prefix, store as unknown as InMemoryVersionedKeyValueStore<unknown, unknown>, keys, new ValueCodec(spec?.valueSerde, false));
  const values = new ValueCodec(spec?.valueSerde, spec?.timestamped ?? false);
  const common = { name: store.name, changes: store.changes, encodeValue: (value: unknown) => values.encode(value) };
  switch (store.type) {
    case 'key-value': {
      const restore = store.restore as (key: unknown, value: unknown) => void;
      const put = store.put as (key: unknown, value: unknown) => void;
      return {
        ...common,
        hash: `${prefix}:kv:${store.name}`,
        index: undefined,
        appendsOnRestore: false,
        field: (change) => keys.encode(change.key),
        score: () => 0,
        restore(field, value) {
          restore.call(store, keys.decode(field), values.decode(value));
          return true;
        },
        apply(field, value) {
          put.call(store, keys.decode(field), value === null ? null : values.decode(value));
        },
      };
    }
    case 'window': {
      const duplicates = store.retainDuplicates ?? false;
      const restore = store.restore as (key: unknown, windowStart: number, value: unknown, sequence?: number) => void;
      const put = store.put as (key: unknown, value: unknown, windowStart: number) => void;
      return {
        ...common,
        hash: `${prefix}:win:${store.name}`,
        index: `${prefix}:win:${store.name}:idx`,
        appendsOnRestore: duplicates,
        field: (change) => windowField(change.windowStart!, duplicates ? change.sequence : undefined, keys.encode(change.key)),
        score: (change) => change.windowStart!,
        restore(field, value) {
          const { start, sequence, key } = parseWindowField(field, duplicates);
          restore.call(store, keys.decode(key), start, values.decode(value), sequence);
          return start >= minLiveTime(store);
        },
        apply(field, value) {
          const { start, sequence, key: text } = parseWindowField(field, duplicates);
          const key = keys.decode(text);
          if (!duplicates) {
            put.call(store, key, value === null ? null : values.decode(value), start);
            return;
          }
          // A duplicate keeps its sequence (a put would draw a new one); its deletes are expiries, which replaying the puts repeats.
          if (value === null) return;
          restore.call(store, key, start, values.decode(value), sequence);
          if (start >= minLiveTime(store)) store.changes.record({ id: `${start}|${keyId(key)}|${sequence}`, key, value: values.decode(value), windowStart: start, sequence });
        },
      };
    }
    case 'session': {
      const restore = store.restore as (session: Windowed<unknown>, value: unknown) => void;
      const put = store.put as (session: Windowed<unknown>, value: unknown) => void;
      return {
        ...common,
        hash: `${prefix}:sess:${store.name}`,
        index: `${prefix}:sess:${store.name}:idx`,
        appendsOnRestore: false,
        field: (change) => sessionField(change.windowStart!, change.windowEnd!, keys.encode(change.key)),
        score: (change) => change.windowEnd!,
        restore(field, value) {
          const { start, end, key } = parseSessionField(field);
          restore.call(store, { key: keys.decode(key), window: { start, end } }, values.decode(value));
          return end >= minLiveTime(store);
        },
        apply(field, value) {
          const { start, end, key } = parseSessionField(field);
          put.call(store, { key: keys.decode(key), window: { start, end } }, value === null ? null : values.decode(value));
        },
      };
    }
    default:
      return undefined;
  }
}
