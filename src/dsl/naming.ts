import type { Serde } from '../serdes/serde.ts';
import type { StreamPartitioner, TimestampExtractor } from '../topology/nodes.ts';
import type { Consumed, Grouped, Named, Produced } from './options.ts';

/** Copies the defined fields of `fields` onto `target` (optional fields stay absent, not `undefined`). */
function assignDefined<T extends object>(target: T, fields: Partial<T>): void {
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) (target as Record<string, unknown>)[key] = value;
}

/** Kafka Streams' `Named`: `Named.as('enrich')`, accepted wherever `{ name }` is. */
export class NamedBuilder implements Named {
  readonly name?: string;

  constructor(fields: Named = {}) {
    assignDefined<Named>(this, fields);
  }

  /** The same with another name. */
  withName(name: string): NamedBuilder {
    return new NamedBuilder({ name });
  }
}

/** Kafka Streams' `Grouped`: `Grouped.with(keySerde, valueSerde)`, `Grouped.as('name')`, chainable. */
export class GroupedBuilder<K, V> implements Grouped<K, V> {
  readonly name?: string;
  readonly keySerde?: Serde<K>;
  readonly valueSerde?: Serde<V>;

  constructor(fields: Grouped<K, V> = {}) {
    assignDefined<Grouped<K, V>>(this, fields);
  }

  private get fields(): Grouped<K, V> {
    return { ...(this.name !== undefined ? { name: this.name } : {}), ...(this.keySerde ? { keySerde: this.keySerde } : {}), ...(this.valueSerde ? { valueSerde: this.valueSerde } : {}) };
  }

  withName(name: string): GroupedBuilder<K, V> {
    return new GroupedBuilder({ ...this.fields, name });
  }

  withKeySerde<K2>(keySerde: Serde<K2>): GroupedBuilder<K2, V> {
    const { name, valueSerde } = this.fields;
    return new GroupedBuilder<K2, V>({ ...(name !== undefined ? { name } : {}), ...(valueSerde ? { valueSerde } : {}), keySerde });
  }

  withValueSerde<V2>(valueSerde: Serde<V2>): GroupedBuilder<K, V2> {
    const { name, keySerde } = this.fields;
    return new GroupedBuilder<K, V2>({ ...(name !== undefined ? { name } : {}), ...(keySerde ? { keySerde } : {}), valueSerde });
  }
}

/** Kafka Streams' `Produced`: `Produced.with(keySerde, valueSerde)`, `Produced.as('sink')`, chainable. */
export class ProducedBuilder<K, V> implements Produced<K, V> {
  readonly name?: string;
  readonly keySerde?: Serde<K>;
  readonly valueSerde?: Serde<V>;
  readonly partitioner?: StreamPartitioner<K, V>;

  constructor(fields: Produced<K, V> = {}) {
    assignDefined<Produced<K, V>>(this, fields);
  }

  private get fields(): Produced<K, V> {
    return {
      ...(this.name !== undefined ? { name: this.name } : {}), ...(this.keySerde ? { keySerde: this.keySerde } : {}),
      ...(this.valueSerde ? { valueSerde: this.valueSerde } : {}), ...(this.partitioner ? { partitioner: this.partitioner } : {}),
    };
  }

  withName(name: string): ProducedBuilder<K, V> {
    return new ProducedBuilder({ ...this.fields, name });
  }

  /** Another key serde (a partitioner, typed by the old key, is dropped). */
  withKeySerde<K2>(keySerde: Serde<K2>): ProducedBuilder<K2, V> {
    const { name, valueSerde } = this.fields;
    return new ProducedBuilder<K2, V>({ ...(name !== undefined ? { name } : {}), ...(valueSerde ? { valueSerde } : {}), keySerde });
  }

  /** Another value serde (a partitioner, typed by the old value, is dropped). */
  withValueSerde<V2>(valueSerde: Serde<V2>): ProducedBuilder<K, V2> {
    const { name, keySerde } = this.fields;
    return new ProducedBuilder<K, V2>({ ...(name !== undefined ? { name } : {}), ...(keySerde ? { keySerde } : {}), valueSerde });
  }

  /** Kafka Streams' `withStreamPartitioner`. */
  withStreamPartitioner(partitioner: StreamPartitioner<K, V>): ProducedBuilder<K, V> {
    return new ProducedBuilder({ ...this.fields, partitioner });
  }
}

/** Kafka Streams' `Consumed`: `Consumed.with(keySerde, valueSerde)`, `Consumed.as('source')`, chainable. */
export class ConsumedBuilder<K, V> implements Consumed<K, V> {
  readonly name?: string;
  readonly keySerde?: Serde<K>;
  readonly valueSerde?: Serde<V>;
  readonly timestampExtractor?: TimestampExtractor<K, V>;
  readonly offsetReset?: 'earliest' | 'latest';

  constructor(fields: Consumed<K, V> = {}) {
    assignDefined<Consumed<K, V>>(this, fields);
  }

  private get fields(): Consumed<K, V> {
    return {
      ...(this.name !== undefined ? { name: this.name } : {}), ...(this.keySerde ? { keySerde: this.keySerde } : {}),
      ...(this.valueSerde ? { valueSerde: this.valueSerde } : {}), ...(this.timestampExtractor ? { timestampExtractor: this.timestampExtractor } : {}),
      ...(this.offsetReset ? { offsetReset: this.offsetReset } : {}),
    };
  }

  withName(name: string): ConsumedBuilder<K, V> {
    return new ConsumedBuilder({ ...this.fields, name });
  }

  /** Another key serde (a timestamp extractor, typed by the old key, is dropped). */
  withKeySerde<K2>(keySerde: Serde<K2>): ConsumedBuilder<K2, V> {
    const { name, valueSerde, offsetReset } = this.fields;
    return new ConsumedBuilder<K2, V>({ ...(name !== undefined ? { name } : {}), ...(valueSerde ? { valueSerde } : {}), ...(offsetReset ? { offsetReset } : {}), keySerde });
  }

  /** Another value serde (a timestamp extractor, typed by the old value, is dropped). */
  withValueSerde<V2>(valueSerde: Serde<V2>): ConsumedBuilder<K, V2> {
    const { name, keySerde, offsetReset } = this.fields;
    return new ConsumedBuilder<K, V2>({ ...(name !== undefined ? { name } : {}), ...(keySerde ? { keySerde } : {}), ...(offsetReset ? { offsetReset } : {}), valueSerde });
  }

  withTimestampExtractor(timestampExtractor: TimestampExtractor<K, V>): ConsumedBuilder<K, V> {
    return new ConsumedBuilder({ ...this.fields, timestampExtractor });
  }

  /** Kafka Streams' `withOffsetResetPolicy`: where a new group starts, `'earliest'` or `'latest'`. */
  withOffsetResetPolicy(offsetReset: 'earliest' | 'latest'): ConsumedBuilder<K, V> {
    return new ConsumedBuilder({ ...this.fields, offsetReset });
  }
}
