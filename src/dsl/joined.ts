import type { Serde } from '../serdes/serde.ts';
import type { Duration } from '../util/duration.ts';
import type { Named } from './options.ts';

/**
 * Options of a KStream-KTable join. `name` names the join processor and, when the stream's key
 * changed upstream, its repartition topic `<name>-repartition`.
 */
export interface Joined<K, V, VO> extends Named {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  otherValueSerde?: Serde<VO>;
  /**
   * Kafka Streams' `Joined.withGracePeriod`: stream records wait this long in stream time (in a
   * store `<name>-Buffer`) and are joined in timestamp order, so one that arrives out of order
   * still meets the table as of its timestamp. Needs a versioned table whose history retention is
   * at least the grace period.
   */
  gracePeriod?: Duration;
}

/**
 * Options of a KStream-KStream join. `name` names the join's processors (`<name>-this-join`,
 * `<name>-other-join`, `<name>-merge`) and repartition topics (`<name>-left-repartition`,
 * `<name>-right-repartition`); `storeName` names its stores (`<storeName>-this-join-store`,
 * `<storeName>-other-join-store`, `<storeName>-outer-shared-join-store`), default `name`.
 */
export interface StreamJoined<K, V, VO> extends Named {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  otherValueSerde?: Serde<VO>;
  storeName?: string;
}
