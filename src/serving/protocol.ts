import type { IHeaders } from 'kafkajs';
import type { Prediction, ScoreStage } from '../ml/model.ts';

/** Header names of the Kafka request/reply protocol (all values are UTF-8 strings). */
export const ServingHeaders = {
  /** Set by the client on a request, copied onto its reply. */
  correlationId: 'correlation-id',
  /** The topic the reply goes to. */
  replyTo: 'reply-to',
  /** The model to score with (optional on a `<model>-requests` topic); echoed on the reply. */
  model: 'model',
  /** A pinned version (optional; default: the newest); the reply names the version that scored. */
  version: 'version',
  /** On a reply: the id of the server that answered. */
  server: 'server',
  /** On a dead-lettered request: why it could not be answered. */
  error: 'error',
  /**
   * On a request: `compact` asks for a batch reply that names the model and version once
   * (`CompactBatchReply`) instead of in every prediction. A server that does not know the header
   * answers a `BatchReply`, which a client that sends it reads too. `columns` asks for the
   * predictions of a batch reply as a column batch (column-batch.ts, with `f64x` columns for
   * arrays of numbers) with `content-type: application/vnd.tributary.columns`, the model and
   * version in the reply's headers; an error reply stays JSON.
   */
  replyFormat: 'reply-format',
  /**
   * On a reply: the values of `reply-format` the server writes (`compact,columns`), so a client
   * asks for `columns` only from a server that writes them.
   */
  replyFormats: 'reply-formats',
  /** On a request or a reply: `application/vnd.tributary.columns` for a column batch (column-batch.ts); absent for JSON. */
  contentType: 'content-type',
  /** On a reply: the request content types the server reads besides JSON, so a client can switch to them. */
  accepts: 'accepts',
} as const;

/** Where a request failed: the request itself (not JSON, unknown model, ...) or a model stage. */
export type ReplyStage = ScoreStage | 'request';

/** The reply to a request for one instance. */
export interface PredictionReply<Out> {
  prediction: Prediction<Out>;
}

/** The reply to a request for a batch of instances (a JSON array value). */
export interface BatchReply<Out> {
  predictions: Prediction<Out>[];
}

/**
 * The reply to a batch request with `reply-format: compact`: the model and version that scored
 * every instance once, and each prediction without them (and without the server's `latencyMs`,
 * which the client replaces by its round trip).
 */
export interface CompactBatchReply<Out> {
  model: string;
  version: string;
  predictions: Out[];
}

/** The reply to a request that could not be scored; `instance` is the index of the failing instance of a batch. */
export interface ErrorReply {
  error: string;
  stage: ReplyStage;
  instance?: number;
}

/** A request the server cannot answer with predictions; `status` is the HTTP status it maps to. */
export class ServingError extends Error {
  override readonly name = 'ServingError';

  constructor(
    message: string,
    readonly status: number,
    readonly stage: ReplyStage = 'request',
    readonly instance?: number,
  ) {
    super(message);
  }

  /** The JSON body / reply value of this error. */
  toReply(): ErrorReply {
    return this.instance === undefined ? { error: this.message, stage: this.stage } : { error: this.message, stage: this.stage, instance: this.instance };
  }
}

/** A model stage that is the caller's fault answers 400; a failed inference is the server's (500). */
export function statusOfStage(stage: ReplyStage): number {
  return stage === 'inference' ? 500 : 400;
}

/** A Kafka header's value as text (its first value when repeated), or undefined when absent. */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
