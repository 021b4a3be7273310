/** Tributary: stream processing and model serving for TypeScript on Apache Kafka. */
import './transport/kafkajs-patches.ts';
export { StreamsBuilder, type StreamsBuilderOptions } from './dsl/builder.ts';
export { KStream, BranchedKStream, type BranchOptions, type KeyValuePair } from './dsl/kstream.ts';
export { KTable, type ToStreamOptions } from './dsl/ktable.ts';
export { KGroupedStream } from './dsl/kgrouped-stream.ts';
export { TimeWindows, SlidingWindows, SessionWindows, EmitStrategy } from './dsl/windows.ts';
export { TimeWindowedKStream } from './dsl/time-windowed-stream.ts';
export { SessionWindowedKStream } from './dsl/session-windowed-stream.ts';
export { Suppressed, type UntilWindowClosesOptions, type UntilTimeLimitOptions } from './dsl/suppressed.ts';
export { KGroupedTable } from './dsl/kgrouped-table.ts';
export { GlobalKTable } from './dsl/global-ktable.ts';
export { JoinWindows } from './dsl/join-windows.ts';
export type { Joined, StreamJoined } from './dsl/joined.ts';
export type { Change } from './processors/change.ts';
export { Materialized, type Consumed, type Produced, type Grouped, type Named, type Repartitioned } from './dsl/options.ts';
export { Topology, TopologyError, validateCopartitioning } from './topology/index.ts';
export type { TimestampExtractor, StreamPartitioner, TopicNameExtractor, TopologyNode, SubTopology } from './topology/index.ts';
export type {
  StreamRecord, RecordInit, Processor, ProcessorContext, ProcessorSupplier, PunctuationType, Cancellable, AsyncOperator, ErrorStage,
} from './processors/api.ts';
export type { Headers } from './util/headers.ts';
export { toMillis, type Duration } from './util/duration.ts';
export { Serdes, SerdeError, windowedToString, type Serde, type Window, type Windowed } from './serdes/index.ts';
export { valueOnlyView, type StateStore, type KeyValueStore, type ReadOnlyKeyValueStore, type KeyValue, type StoreSpec, type StoreType, type ValueAndTimestamp } from './state/store.ts';
export { InMemoryKeyValueStore } from './state/memory-kv.ts';
export type { WindowStore, ReadOnlyWindowStore, SessionStore, ReadOnlySessionStore } from './state/store.ts';
export { InMemoryWindowStore, type InMemoryWindowStoreOptions } from './state/memory-window.ts';
export { InMemorySessionStore, type InMemorySessionStoreOptions } from './state/memory-session.ts';
export { StreamsError, type ErrorHandling } from './runtime/errors.ts';
export { TopologyTestDriver, TestInputTopic, TestOutputTopic, type TopologyTestDriverOptions, type TestRecord, type TestRecordInit } from './testing/index.ts';
export { topology, type TopologyConfig, type TopologyDefinition, type DemoRecord } from './dsl/topology-file.ts';
export { predictProcessor, withPrediction, type PredictOptions } from './processors/predict.ts';
export * from './ml/index.ts';
export { KafkaStreams, type QueryableStore, type StreamsMetadata, type KeyQueryMetadata, type StreamsUncaughtExceptionHandler, type StreamsUncaughtExceptionResponse, type KafkaStreamsConfig, type StreamsState, type RuntimeSnapshot, type StallReport, type WatchdogOptions } from './runtime/kafka-streams.ts';
export type { Transport, TopicPartition, TopicPartitionOffset } from './transport/transport.ts';
export { InMemoryBroker } from './transport/memory-broker.ts';
export { FencedError, type StateBackend, type TaskStateBackend, type RestoreProgress } from './state/backend.ts';
export * from './serving/index.ts';
