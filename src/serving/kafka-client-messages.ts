/**
 * The messages between a Kafka remote model (remote-kafka.ts, on the stream's thread) and the
 * thread that holds its Kafka client (kafka-client-thread.ts). Request and reply values cross as
 * strings: a string is copied in one piece, where an object graph is walked by the structured
 * clone on both sides.
 */

/** What the client thread needs to start (its `workerData`). */
export interface KafkaClientSettings {
  /** The model's name, for log lines. */
  name: string;
  brokers: string[];
  requestTopic: string;
  replyTopic: string;
  retries: number;
}

/** From the stream's thread to the client thread. */
export type ToClientThread =
  /** Send `value` (a request value, with `headers` besides the correlation id and reply-to) until its reply comes, waiting `waitMs` for each attempt. */
  | { op: 'exchange'; id: number; value: string | Uint8Array; headers: Record<string, string>; instances: number; waitMs: number }
  | { op: 'close' };

/** From the client thread to the stream's thread. */
export type FromClientThread =
  | { op: 'started' }
  | { op: 'failed'; message: string }
  /** The reply's value (null for a reply without one), or that none came: closed meanwhile, or every attempt timed out. */
  | { op: 'answer'; id: number; ok: true; value: string | null; accepts: string | undefined }
  | { op: 'answer'; id: number; ok: false; closed: boolean; lastSendError: string | undefined }
  /** An exchange of `instances` records was sent again (counted in remoteRetries). */
  | { op: 'retried'; instances: number }
  /** A reply came for a request already answered (counted in remoteDuplicates). */
  | { op: 'duplicate' }
  | { op: 'closed' };
