export { Topology } from './topology.ts';
export { TopologyError } from './errors.ts';
export { validateCopartitioning } from './copartition.ts';
export type { SourceNode, ProcessorNode, SinkNode, TopologyNode, SubTopology, TimestampExtractor, StreamPartitioner, TopicNameExtractor } from './nodes.ts';
