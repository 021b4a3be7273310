/** Record headers, as Kafka carries them. */
export type Headers = { [name: string]: string | Buffer | undefined };

/** A header value as text. */
export function headerText(value: string | Buffer | undefined): string | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? value : value.toString('utf8');
}
