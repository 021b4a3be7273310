import type { StateBackend, RestoreProgress } from '../state/backend.ts';
import type { InMemoryBroker } from '../transport/memory-broker.ts';
import type { Transport } from '../transport/transport.ts';
import type { ErrorHandling } from './errors.ts';

/** The lifecycle of a `KafkaStreams` application, as in Kafka Streams. */
export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

/** What the liveness watchdog reports: a partition whose lag grows while its position does not move. */
export interface StallReport {
  topic: string;
  partition: number;
  taskId: string;
  position: number;
  lag: number;
  previousLag: number;
  /** How long the position has not moved, in ms. */
  stalledForMs: number;
}

/** A running application's counters, emitted by `metrics$` about once a second. */
export interface RuntimeSnapshot {
  state: StreamsState;
  tasks: string[];
  /** Records read from source topics and processed (repartition topics included). */
  processed: number;
  /** Records of the topology's external input topics processed. */
  processedInput: number;
  deadLettered: number;
  /** Records written, per topic (internal topics and the dead-letter topic included). */
  produced: Record<string, number>;
  /** Records left to process on the assigned source partitions, at the last lag check. */
  lag: number;
  /** Records processed per second since the previous snapshot. */
  recordsPerSecond: number;
  commits: number;
}

/** The liveness watchdog's settings. */
export interface WatchdogOptions {
  /** How often lag is checked. Default 10 000 ms. */
  intervalMs?: number;
  /** Move to ERROR (instead of only reporting) when a partition stalls. Default false. */
  failOnStall?: boolean;
}

/** How a `KafkaStreams` application runs. */
export interface KafkaStreamsConfig {
  /** Names the consumer group, the internal topics (`<applicationId>-...`), the DLQ and the Redis keys. */
  applicationId: string;
  /** Kafka bootstrap servers; omit for the embedded in-memory broker. */
  brokers?: string[] | string;
  /** Redis URL for the state stores and checkpoints; omit for in-memory state. */
  redis?: string;
  /**
   * `'at-least-once'` (default) or `'exactly-once'`: on Kafka, each task's outputs, its state
   * changes (to changelog topics) and its offsets are committed in one Kafka transaction. Embedded,
   * `'exactly-once'` runs as `'at-least-once'` (in memory there is no crash to recover from).
   */
  processingGuarantee?: 'at-least-once' | 'exactly-once';
  /** How often tasks commit (drain, flush, checkpoint). Default 1000 ms. */
  commitIntervalMs?: number;
  /**
   * How often records the tasks have committed are deleted from the internal repartition topics
   * (Kafka Streams' `repartition.purge.interval.ms`; those topics have no time retention, so an old
   * record stays until it is read). Default 30 000 ms.
   */
  repartitionPurgeIntervalMs?: number;
  /**
   * Idempotent producers on Kafka, each owning a fixed share of the output partitions (default 2).
   * kafkajs keeps one produce request in flight per producer; with two, one request's wait for its
   * acknowledgement does not hold up the other partitions' records. Ignored on the in-memory broker.
   */
  producerLanes?: number;
  /**
   * The record cache (Kafka Streams' `statestore.cache.max.bytes`, counted in entries here): per
   * task, up to this many table updates of aggregations (`count`, `reduce`, `aggregate`, windowed
   * or not, and table aggregations) are merged per key and sent at the commit, so a key updated a
   * thousand times in a commit interval is written downstream once, with its latest value.
   * Default 10 000; 0 sends every update as it happens (outputs then show each intermediate value).
   */
  cacheMaxEntries?: number;
  /**
   * How long commits and restores keep retrying while Redis is unreachable before the application
   * fails (state ERROR) with a message naming Redis and its URL. Default 60 000 ms.
   */
  redisOutageTimeoutMs?: number;
  /** Default `'dead-letter'`: bad records go to `<applicationId>-dlq` with the reason. */
  errorHandling?: ErrorHandling;
  /**
   * The largest output record (key, value and headers, in bytes) sent to Kafka; a larger one is
   * dead-lettered (its input record, stage `produce`) instead of failing every send after it.
   * A topic's own `max.message.bytes` (read at start) applies too, when smaller. Default
   * 1 048 076 on Kafka (the broker's default limit less the batch overhead), none embedded.
   */
  maxRecordBytes?: number;
  /** Embedded mode: the in-memory broker to run on (default: a new one). */
  broker?: InMemoryBroker;
  /** Embedded mode: partitions of topics created on demand. Default 1. */
  embeddedPartitions?: number;
  /** Partition counts of input and output topics the runner creates when missing (always in embedded mode; on Kafka with `createTopics`). */
  topics?: Record<string, { partitions?: number }>;
  /** On Kafka: create missing input and output topics instead of failing (development). Default false. */
  createTopics?: boolean;
  /** Where partitions with no checkpoint and no committed offset start. Default `'earliest'`. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** Fetched records kept per partition before it is paused (backpressure). Default 2000. */
  maxQueuedRecordsPerPartition?: number;
  /**
   * How long a task with several input partitions waits for an empty partition that still has
   * records to fetch, before processing the others out of timestamp order. Default 2000 ms.
   */
  maxTaskIdleMs?: number;
  /** The liveness watchdog; `false` turns it off. */
  watchdog?: WatchdogOptions | false;
  /** Consumer group session timeout and heartbeat (kafkajs). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Called while a task's stores load from Redis after an assignment. */
  onRestoreProgress?: (progress: RestoreProgress) => void;
  /** Advanced: a transport or state backend of your own (tests, other clients). */
  transport?: Transport;
  stateBackend?: StateBackend;
  /** Where the runtime logs warnings (stalls, refused commits). Default `console.warn`. */
  log?: (message: string) => void;
  /**
   * Kafka Streams' `application.server`: the URL (`http://host:port`) where this instance answers
   * interactive queries. Instances publish it with their tasks in Redis (`trib:{<applicationId>}:instances`),
   * which `streamsMetadata()` and `queryMetadataForKey()` read. Needs `redis` and `brokers`.
   */
  advertisedUrl?: string;
}
