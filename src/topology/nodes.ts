import type { Serde } from '../serdes/serde.ts';
import type { ProcessorSupplier, StreamRecord } from '../processors/api.ts';

/** Takes a record's timestamp from its value (or anything else); `partitionTime` is the partition's stream time. */
export type TimestampExtractor<K = unknown, V = unknown> = (record: StreamRecord<K, V>, partitionTime: number) => number;

/** Picks a partition for a record; `undefined` means the default (murmur2 of the key bytes). */
export type StreamPartitioner<K = unknown, V = unknown> = (key: K, value: V, numPartitions: number) => number | undefined;

/** Picks the topic of each record, for `to((key, value, ctx) => topic)`. */
export type TopicNameExtractor<K = unknown, V = unknown> = (key: K, value: V, context: { topic: string; partition: number; offset: number }) => string;

/** Reads one or more topics into the topology. */
export interface SourceNode {
  kind: 'source';
  name: string;
  topics: string[];
  /** Reads every topic whose whole name matches (Kafka Streams' `stream(Pattern)`); `topics` is then empty until resolved against the broker's topics. */
  pattern?: RegExp;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  timestampExtractor?: TimestampExtractor;
  offsetReset?: 'earliest' | 'latest';
  /** An internal (repartition) topic: named `<applicationId>-<topic>` at run time. */
  internal: boolean;
  /** Feeds a global store rather than a task. */
  globalStore?: string;
}

/** Runs a processor for each record of its parents. */
export interface ProcessorNode {
  kind: 'processor';
  name: string;
  parents: string[];
  supplier: ProcessorSupplier;
  stores: string[];
}

/** Writes records to a topic. */
export interface SinkNode {
  kind: 'sink';
  name: string;
  parents: string[];
  topic: string | TopicNameExtractor;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  partitioner?: StreamPartitioner;
  internal: boolean;
  /** Internal topics: the partition count to create them with (default: the source topics'). */
  partitions?: number;
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

/** A connected part of the topology: it becomes one task per partition. */
export interface SubTopology {
  id: number;
  nodes: TopologyNode[];
  sourceTopics: string[];
  /** Internal topics among the sources (resolved with the application id at run time). */
  internalSourceTopics: string[];
  stores: string[];
}
