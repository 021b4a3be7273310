import type { ErrorStage } from '../processors/api.ts';

/** A task stopped on a record it could not process (error policy `'fail'`). */
export class StreamsError extends Error {
  override readonly name = 'StreamsError';
  constructor(
    message: string,
    readonly stage: ErrorStage,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the task does with a record that failed: stop, or write it to `<applicationId>-dlq` and go on. */
export type ErrorHandling = 'fail' | 'dead-letter';

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
