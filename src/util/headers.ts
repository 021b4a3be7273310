import { utf8Length } from './utf8.ts';

/** Record headers, as Kafka carries them. */
export type Headers = { [name: string]: string | Buffer | undefined };

/** The bytes of a record's headers on the wire (names and values, without framing). */
export function headersBytes(headers: Headers): number {
  let size = 0;
  for (const name in headers) {
    const value = headers[name];
    size += utf8Length(name) + (value === undefined ? 0 : typeof value === 'string' ? utf8Length(value) : value.length);
  }
  return size;
}

/** A copy of `headers` without `name` (one loop: a rest spread costs several times more per record). */
export function withoutHeader(headers: Headers, name: string): Headers {
  const out: Headers = {};
  for (const key in headers) if (key !== name && Object.hasOwn(headers, key)) out[key] = headers[key];
  return out;
}

/** A copy of `headers` with `name` set to `value`, where a spread would put it (a loop: a spread with a computed key costs 2–25× more). */
export function withHeader(headers: Headers, name: string, value: string): Headers {
  const out: Headers = {};
  for (const key in headers) if (Object.hasOwn(headers, key)) out[key] = headers[key];
  out[name] = value;
  return out;
}
