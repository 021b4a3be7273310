import type { Topology } from '../topology/topology.ts';
import { StreamsBuilder, type StreamsBuilderOptions } from './builder.ts';

/** The settings a topology file carries with it; the runner's flags and environment override them. */
export interface TopologyConfig extends StreamsBuilderOptions {
  /** Names the consumer group, internal topics, Redis keys and the DLQ. */
  applicationId: string;
  /** One line on what the topology does (shown by `tributary describe` and the demo). */
  description?: string;
  /** Partition counts for topics the runner creates when they are missing (embedded mode, tests). */
  topics?: Record<string, { partitions?: number }>;
  /** Records per second the demo feeds (embedded mode). */
  demoRate?: number;
}

/** A sample input record for the embedded demo. */
export interface DemoRecord {
  topic: string;
  key: unknown;
  value: unknown;
  timestamp?: number;
}

/** What a topology file default-exports. */
export interface TopologyDefinition {
  readonly config: TopologyConfig;
  /** Builds a fresh topology (each call declares it anew). */
  build(): Topology;
}

/**
 * Declares a topology file: `export default topology({ applicationId: 'word-count' }, (builder) => { ... })`.
 * A file may also export `demo`, a generator of sample input records, for `tributary run` in embedded mode.
 */
export function topology(config: TopologyConfig, define: (builder: StreamsBuilder) => void): TopologyDefinition {
  if (!config || typeof config.applicationId !== 'string' || config.applicationId.length === 0) {
    throw new TypeError("topology(config, define): config.applicationId is required, e.g. topology({ applicationId: 'word-count' }, ...)");
  }
  return {
    config,
    build() {
      const builder = new StreamsBuilder(config);
      define(builder);
      return builder.build();
    },
  };
}
