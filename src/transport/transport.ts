import type { IncomingRecord, OutgoingRecord } from './types.ts';

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A position in a partition: the offset of the next record to read (what a commit stores). */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

/** A topic to create, with its partition count. */
/**
 * Configs of the topics the runtime creates for itself (repartition, dead-letter, changelog): they
 * take any timestamp their input topics took (Kafka 4 refuses records more than an hour ahead of
 * its clock by default, `message.timestamp.after.max.ms`).
 */
export const INTERNAL_TOPIC_CONFIGS: Readonly<Record<string, string>> = {
  'message.timestamp.before.max.ms': '9223372036854775807',
  'message.timestamp.after.max.ms': '9223372036854775807',
};

/**
 * What repartition topics add (Kafka Streams' RepartitionTopicConfig): no time retention, since a
 * record with an old timestamp (a reprocessed backlog) must stay until its downstream task reads it
 * (the runtime deletes what was committed instead), and 50 MB segments so that deletion frees disk soon.
 */
export const REPARTITION_TOPIC_CONFIGS: Readonly<Record<string, string>> = {
  ...INTERNAL_TOPIC_CONFIGS,
  'cleanup.policy': 'delete',
  'retention.ms': '-1',
  'segment.bytes': '52428800',
};

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }` for a changelog. */
  configs?: Record<string, string>;
}

/**
 * A producer of one transactional id (exactly-once). Creating it fences every older producer of
 * the same id and aborts the transaction such a producer left open.
 */
export interface TransactionalProducer {
  /**
   * One transaction: writes the records (a record without `partition` is placed by its key, as
   * `Transport.send` does), commits `offsets` to the consumer group `groupId`, and commits. On
   * error it aborts and rethrows (`ProducerFencedError` when a newer producer took the id over).
   * Resolves with the offset after the last record written, per `topic:partition` written to.
   */
  commit(records: OutgoingRecord[], offsets: TopicPartitionOffset[], groupId: string): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/** A transaction refused because a newer producer with the same transactional id exists (this one is a zombie). */
export class ProducerFencedError extends Error {
  override readonly name = 'ProducerFencedError';
  constructor(
    readonly transactionalId: string,
    options?: { cause?: unknown },
  ) {
    super(`the producer of transactional id '${transactionalId}' was fenced by a newer one`, options);
  }
}

/**
 * What the runtime hands the transport when it joins its group. The transport calls these from
 * its own loop; the next fetch waits for the returned promises.
 */
export interface ConsumerHandlers {
  /**
   * The member's assignment after a rebalance: every partition it now owns (partitions it kept
   * are listed again). Called before any record of a newly assigned partition is delivered.
   * The runtime closes the tasks it lost, opens the new ones, restores them and seeks.
   */
  onAssignment(partitions: TopicPartition[]): Promise<void>;
  /**
   * A rebalance started: the assignment may change. The runtime commits what it can (best effort:
   * tasks that moved are fenced by their epoch in Redis).
   */
  onRebalancing?(): Promise<void>;
  /** Records of one partition, in offset order. */
  onRecords(records: IncomingRecord[]): void;
  /**
   * The partition holds nothing to deliver from `from` up to `next`: transaction markers or
   * aborted records (read_committed). Lets the position, the committed offset and the lag move
   * past them, so that a caught-up partition of a transactional topic has lag 0.
   */
  onSkipped?(partition: TopicPartition, from: number, next: number): void;
  /** The consumer failed for good (for example the broker is gone): the runtime moves to ERROR. */
  onCrash?(error: Error): void;
}

/** How a group member subscribes. */
export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /**
   * Topics whose partition *p* must land on the same member (the sources of one sub-topology).
   * Each inner list is one group; a topic may appear in one group only.
   */
  copartitionGroups: string[][];
  /** Where a partition with no committed position starts. Default `'earliest'`. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** kafkajs session timeout; a member that stops heartbeating this long is removed. */
  sessionTimeoutMs?: number;
  /** kafkajs heartbeat interval. */
  heartbeatIntervalMs?: number;
}

/**
 * How records enter and leave a running application. The kafkajs transport talks to a Kafka
 * cluster; the in-memory transport runs on an `InMemoryBroker` for the embedded mode. The runtime
 * uses nothing else of either.
 */
/** What an existing topic refuses, read from its configs. */
export interface TopicLimits {
  /** `cleanup.policy` has `compact`: a record needs a key. */
  compacted: boolean;
  /** `max.message.bytes`: the largest record batch the topic takes. */
  maxMessageBytes?: number;
  /**
   * For `message.timestamp.type=CreateTime` topics (absent for LogAppendTime): how far a record's
   * timestamp may be behind (`message.timestamp.before.max.ms`) or ahead of
   * (`message.timestamp.after.max.ms`) the broker's clock; absent bounds are unbounded.
   */
  timestamps?: { beforeMaxMs?: number; afterMaxMs?: number };
  /** `retention.ms` when records are deleted by age (absent: kept without a time limit, `-1`). */
  retentionMs?: number;
}

export interface Transport {
  /** Connects (admin and producer); fails fast with a message naming the brokers when they cannot be reached. */
  connect(): Promise<void>;
  /** The names of every existing topic (for sources that subscribe by pattern). */
  topicNames(): Promise<string[]>;
  /** Partition counts of existing topics; topics that do not exist are absent from the map. */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /**
   * What these existing topics refuse, from their configs (topics it cannot describe are absent):
   * the runtime dead-letters a record the broker would refuse instead of sending it, and the
   * transport keeps every batch under the topic's `max.message.bytes`.
   */
  topicLimits?(topics: string[]): Promise<Map<string, TopicLimits>>;
  /** Creates topics that do not exist yet (existing ones are left as they are). */
  createTopics(topics: TopicSpec[]): Promise<void>;
  /** Joins the consumer group and starts delivering records to `handlers`. */
  subscribe(options: SubscribeOptions, handlers: ConsumerHandlers): Promise<void>;
  /** Moves the read position of an assigned partition; records already delivered from before are the caller's to drop. */
  seek(position: TopicPartitionOffset): void;
  /** Stops fetching these partitions (backpressure) until `resume`. */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** The group's committed positions of these partitions (absent when none). */
  committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<Map<string, number>>;
  /** The first and next-to-be-written offset of each partition of these topics (`topic:partition` → offsets). */
  offsetRange(topics: string[]): Promise<Map<string, { low: number; high: number }>>;
  /** Queues a record to send; sending is batched. A record without `partition` is placed by its key (murmur2). */
  send(record: OutgoingRecord): void;
  /** Resolves when every record queued so far is acknowledged by the broker; rejects if one could not be sent. */
  flush(): Promise<void>;
  /** Commits positions to the consumer group. */
  commitOffsets(offsets: TopicPartitionOffset[]): Promise<void>;
  /**
   * Deletes the records before these offsets (Kafka's DeleteRecords): the runtime purges what its
   * tasks have committed from the repartition topics, which keep records without a time limit.
   */
  deleteRecords?(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Leaves the group and disconnects (after a final flush by the caller). */
  close(): Promise<void>;
  /** Exactly-once: a transactional producer (transports without transactions leave it out). */
  transactionalProducer?(transactionalId: string): Promise<TransactionalProducer>;
  /**
   * Exactly-once restore: reads these partitions, committed records only, from the given offsets
   * to the end they had when called, handing them to `onRecords` in offset order per partition.
   */
  readCommitted?(from: TopicPartitionOffset[], onRecords: (records: IncomingRecord[]) => void, timeoutMs?: number): Promise<void>;
}

/** `topic:partition`, the key of per-partition maps. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** The topic and partition of a `topic:partition` key (topic names may hold colons; partitions do not). */
export function parseTpKey(key: string): TopicPartition {
  const colon = key.lastIndexOf(':');
  return { topic: key.slice(0, colon), partition: Number(key.slice(colon + 1)) };
}
