import type { Serde } from '../serdes/serde.ts';
import type { StreamPartitioner, TimestampExtractor } from '../topology/nodes.ts';
import type { Consumed, Grouped, Named, Produced } from './options.ts';

/** Kafka Streams' `Named`: `Named.as('enrich')`, accepted wherever `{ name }` is. */
export class NamedBuilder implements Named {
  constructor(readonly name: string | undefined) {}

  /** The same with another name. */
  withName(name: string): NamedBuilder {
    return new NamedBuilder(name);
  }
}

/** Kafka Streams' `Grouped`: `Grouped.with(keySerde, valueSerde)`, `Grouped.as('name')`, chainable. */
export class GroupedBuilder<K, V> implements Grouped<K, V> {
  constructor(readonly name: string | undefined, readonly keySerde: Serde<K> | undefined, readonly valueSerde: Serde<V> | undefined) {}

  withName(name: string): GroupedBuilder<K, V> {
    return new GroupedBuilder(name, this.keySerde, this.valueSerde);
  }

  withKeySerde<K2>(keySerde: Serde<K2>): GroupedBuilder<K2, V> {
    return new GroupedBuilder(this.name, keySerde, this.valueSerde);
  }

  withValueSerde<V2>(valueSerde: Serde<V2>): GroupedBuilder<K, V2> {
    return new GroupedBuilder(this.name, this.keySerde, valueSerde);
  }
}

/** Kafka Streams' `Produced`: `Produced.with(keySerde, valueSerde)`, `Produced.as('sink')`, chainable. */
export class ProducedBuilder<K, V> implements Produced<K, V> {
  constructor(
    readonly name: string | undefined,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly partitioner: StreamPartitioner<K, V> | undefined,
  ) {}

  withName(name: string): ProducedBuilder<K, V> {
    return new ProducedBuilder(name, this.keySerde, this.valueSerde, this.partitioner);
  }

  withKeySerde<K2>(keySerde: Serde<K2>): ProducedBuilder<K2, V> {
    return new ProducedBuilder<K2, V>(this.name, keySerde, this.valueSerde, undefined);
  }

  withValueSerde<V2>(valueSerde: Serde<V2>): ProducedBuilder<K, V2> {
    return new ProducedBuilder<K, V2>(this.name, this.keySerde, valueSerde, undefined);
  }

  /** Kafka Streams' `withStreamPartitioner`. */
  withStreamPartitioner(partitioner: StreamPartitioner<K, V>): ProducedBuilder<K, V> {
    return new ProducedBuilder(this.name, this.keySerde, this.valueSerde, partitioner);
  }
}

/** Kafka Streams' `Consumed`: `Consumed.with(keySerde, valueSerde)`, `Consumed.as('source')`, chainable. */
export class ConsumedBuilder<K, V> implements Consumed<K, V> {
  constructor(
    readonly name: string | undefined,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly timestampExtractor: TimestampExtractor<K, V> | undefined,
    readonly offsetReset: 'earliest' | 'latest' | undefined,
  ) {}

  withName(name: string): ConsumedBuilder<K, V> {
    return new ConsumedBuilder(name, this.keySerde, this.valueSerde, this.timestampExtractor, this.offsetReset);
  }

  withKeySerde<K2>(keySerde: Serde<K2>): ConsumedBuilder<K2, V> {
    return new ConsumedBuilder<K2, V>(this.name, keySerde, this.valueSerde, undefined, this.offsetReset);
  }

  withValueSerde<V2>(valueSerde: Serde<V2>): ConsumedBuilder<K, V2> {
    return new ConsumedBuilder<K, V2>(this.name, this.keySerde, valueSerde, undefined, this.offsetReset);
  }

  withTimestampExtractor(extractor: TimestampExtractor<K, V>): ConsumedBuilder<K, V> {
    return new ConsumedBuilder(this.name, this.keySerde, this.valueSerde, extractor, this.offsetReset);
  }

  /** Kafka Streams' `withOffsetResetPolicy`: where a new group starts, `'earliest'` or `'latest'`. */
  withOffsetResetPolicy(offsetReset: 'earliest' | 'latest'): ConsumedBuilder<K, V> {
    return new ConsumedBuilder(this.name, this.keySerde, this.valueSerde, this.timestampExtractor, offsetReset);
  }
}
