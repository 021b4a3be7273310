/** Turns values into bytes and back. `null` always maps to `null` (a tombstone), never to bytes. */
export interface Serde<T> {
  /** A short name used in `describe()` and error messages, e.g. `json`, `string`. */
  readonly name: string;
  serialize(value: T, topic?: string): Buffer | null;
  deserialize(bytes: Buffer | null, topic?: string): T;
}

/** Where a record came from, for error messages. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: number;
}

/** A record could not be serialized, deserialized or validated. */
export class SerdeError extends Error {
  override readonly name = 'SerdeError';
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: number | undefined;
  readonly reason: string;

  constructor(reason: string, position?: Partial<RecordPosition>, options?: { cause?: unknown }) {
    const where = position?.topic !== undefined
      ? ` (topic ${position.topic}, partition ${position.partition ?? '?'}, offset ${position.offset ?? '?'})`
      : '';
    super(`${reason}${where}`, options);
    this.reason = reason;
    this.topic = position?.topic;
    this.partition = position?.partition;
    this.offset = position?.offset;
  }

  /** The same error, located at a record position. */
  at(position: RecordPosition): SerdeError {
    return new SerdeError(this.reason, position, { cause: this.cause });
  }
}
