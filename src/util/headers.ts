/** Record headers, as Kafka carries them. */
export type Headers = { [name: string]: string | Buffer | undefined };

/** The bytes of a record's headers on the wire (names and values, without framing). */
export function headersBytes(headers: Headers): number {
  let size = 0;
  for (const name in headers) {
    const value = headers[name];
    size += Buffer.byteLength(name) + (value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length);
  }
  return size;
}

/** A copy of `headers` without `name` (one loop: a rest spread costs several times more per record). */
export function withoutHeader(headers: Headers, name: string): Headers {
  const out: Headers = {};
  for (const key in headers) if (key !== name && Object.hasOwn(headers, key)) out[key] = headers[key];
  return out;
}
