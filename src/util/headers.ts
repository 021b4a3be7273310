/** Record headers, as Kafka carries them. */
export type Headers = { [name: string]: string | Buffer | undefined };
