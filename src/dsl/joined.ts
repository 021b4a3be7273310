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
 * Options of a KStream-KStream join, named as Kafka Streams' StreamJoined names them. `name` names
 * the join's processors (`<name>-this-windowed`, `<name>-other-windowed`, `<name>-this-join`,
 * `<name>-other-join` — `-outer-this-join`/`-outer-other-join` on an emitting side — and
 * `<name>-merge`) and repartition topics (`<name>-left-repartition`, `<name>-right-repartition`);
 * `storeName` names its stores (`<storeName>-this-join-store`, `<storeName>-other-join-store`,
 * with the same `-outer-` infix, and `<storeName>-outer-shared-join-store` or
 * `-left-shared-join-store`); without it they are named after the generated join nodes.
 */
export interface StreamJoined<K, V, VO> extends Named {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  otherValueSerde?: Serde<VO>;
  storeName?: string;
}

/** Kafka Streams' `StreamJoined` as a chainable object: `StreamJoined.with(k, v, vo).withStoreName('s').withName('j')`. */
export class StreamJoinedBuilder<K, V, VO> implements StreamJoined<K, V, VO> {
  readonly name?: string;
  readonly keySerde?: Serde<K>;
  readonly valueSerde?: Serde<V>;
  readonly otherValueSerde?: Serde<VO>;
  readonly storeName?: string;

  constructor(fields: StreamJoined<K, V, VO> = {}) {
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) (this as Record<string, unknown>)[key] = value;
  }

  private with(fields: StreamJoined<K, V, VO>): StreamJoinedBuilder<K, V, VO> {
    return new StreamJoinedBuilder<K, V, VO>({ ...this, ...fields });
  }

  /** Names the join's processors and repartition topics. */
  withName(name: string): StreamJoinedBuilder<K, V, VO> {
    return this.with({ name });
  }

  /** Names the join's stores. */
  withStoreName(storeName: string): StreamJoinedBuilder<K, V, VO> {
    return this.with({ storeName });
  }

  withKeySerde(keySerde: Serde<K>): StreamJoinedBuilder<K, V, VO> {
    return this.with({ keySerde });
  }

  withValueSerde(valueSerde: Serde<V>): StreamJoinedBuilder<K, V, VO> {
    return this.with({ valueSerde });
  }

  withOtherValueSerde(otherValueSerde: Serde<VO>): StreamJoinedBuilder<K, V, VO> {
    return this.with({ otherValueSerde });
  }
}

/** `StreamJoined.with(keySerde, valueSerde, otherValueSerde)`, `StreamJoined.as(storeName)`, beside the plain `{ name, storeName, ... }`. */
export const StreamJoined = {
  with<K, V, VO>(keySerde?: Serde<K>, valueSerde?: Serde<V>, otherValueSerde?: Serde<VO>): StreamJoinedBuilder<K, V, VO> {
    return new StreamJoinedBuilder<K, V, VO>({ ...(keySerde ? { keySerde } : {}), ...(valueSerde ? { valueSerde } : {}), ...(otherValueSerde ? { otherValueSerde } : {}) });
  },
  /** Kafka's `StreamJoined.as(storeName)`: names the stores (not the processors; see `withName`). */
  as<K = unknown, V = unknown, VO = unknown>(storeName: string): StreamJoinedBuilder<K, V, VO> {
    return new StreamJoinedBuilder<K, V, VO>({ storeName });
  },
};

/** Kafka Streams' `Joined` as a chainable object: `Joined.with(k, v, vo, 'enrich', '10s')`, `.withGracePeriod(d)`. */
export class JoinedBuilder<K, V, VO> implements Joined<K, V, VO> {
  readonly name?: string;
  readonly keySerde?: Serde<K>;
  readonly valueSerde?: Serde<V>;
  readonly otherValueSerde?: Serde<VO>;
  readonly gracePeriod?: Duration;

  constructor(fields: Joined<K, V, VO> = {}) {
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) (this as Record<string, unknown>)[key] = value;
  }

  private with(fields: Joined<K, V, VO>): JoinedBuilder<K, V, VO> {
    return new JoinedBuilder<K, V, VO>({ ...this, ...fields });
  }

  withName(name: string): JoinedBuilder<K, V, VO> {
    return this.with({ name });
  }

  /** Kafka's `withGracePeriod`: join stream records only once stream time has passed them by `gracePeriod` (versioned tables). */
  withGracePeriod(gracePeriod: Duration): JoinedBuilder<K, V, VO> {
    return this.with({ gracePeriod });
  }

  withKeySerde(keySerde: Serde<K>): JoinedBuilder<K, V, VO> {
    return this.with({ keySerde });
  }

  withValueSerde(valueSerde: Serde<V>): JoinedBuilder<K, V, VO> {
    return this.with({ valueSerde });
  }

  withOtherValueSerde(otherValueSerde: Serde<VO>): JoinedBuilder<K, V, VO> {
    return this.with({ otherValueSerde });
  }
}

/** `Joined.with(keySerde, valueSerde, otherValueSerde[, name[, gracePeriod]])`, `Joined.as(name)`, beside the plain `{ name, gracePeriod, ... }`. */
export const Joined = {
  with<K, V, VO>(keySerde?: Serde<K>, valueSerde?: Serde<V>, otherValueSerde?: Serde<VO>, name?: string, gracePeriod?: Duration): JoinedBuilder<K, V, VO> {
    return new JoinedBuilder<K, V, VO>({ ...(keySerde ? { keySerde } : {}), ...(valueSerde ? { valueSerde } : {}), ...(otherValueSerde ? { otherValueSerde } : {}), ...(name !== undefined ? { name } : {}), ...(gracePeriod !== undefined ? { gracePeriod } : {}) });
  },
  as<K = unknown, V = unknown, VO = unknown>(name: string): JoinedBuilder<K, V, VO> {
    return new JoinedBuilder<K, V, VO>({ name });
  },
};
