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
