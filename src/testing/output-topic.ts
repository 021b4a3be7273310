import type { Serde } from '../serdes/serde.ts';
import type { IncomingRecord } from '../transport/types.ts';
import type { TestRecord } from './test-record.ts';

/** What an output topic needs from its driver. */
export interface OutputSource {
  read(topic: string, from: number): IncomingRecord[];
  wasWritten(topic: string): boolean;
}

/** Reads what a topology wrote to one topic, in emission order; each record is read once. */
export class TestOutputTopic<K, V> {
  private position = 0;

  constructor(
    private readonly source: OutputSource,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** Reads and removes every unread record. */
  readRecordsToList(): TestRecord<K, V>[] {
    const raw = this.source.read(this.topic, this.position);
    this.position += raw.length;
    return raw.map((r) => ({
      key: this.keySerde.deserialize(r.key, this.topic),
      value: this.valueSerde.deserialize(r.value, this.topic),
      timestamp: r.timestamp,
      headers: r.headers,
    }));
  }

  readKeyValuesToList(): { key: K; value: V }[] {
    return this.readRecordsToList().map(({ key, value }) => ({ key, value }));
  }

  readValuesToList(): V[] {
    return this.readRecordsToList().map((r) => r.value);
  }

  /** The last value per key (tombstones kept as `null`); throws on a `null` key. */
  readKeyValuesToMap(): Map<K, V> {
    const map = new Map<K, V>();
    for (const { key, value } of this.readKeyValuesToList()) {
      if (key == null) throw new Error(`readKeyValuesToMap() does not accept null keys (topic ${this.topic})`);
      map.set(key, value);
    }
    return map;
  }

  /** Reads one record; throws if there is none. */
  readRecord(): TestRecord<K, V> {
    const raw = this.source.read(this.topic, this.position)[0];
    if (!raw) {
      throw new Error(this.source.wasWritten(this.topic) ? `Empty topic: ${this.topic}` : `Uninitialized topic: ${this.topic}`);
    }
    this.position++;
    return {
      key: this.keySerde.deserialize(raw.key, this.topic),
      value: this.valueSerde.deserialize(raw.value, this.topic),
      timestamp: raw.timestamp,
      headers: raw.headers,
    };
  }

  readKeyValue(): { key: K; value: V } {
    const { key, value } = this.readRecord();
    return { key, value };
  }

  readValue(): V {
    return this.readRecord().value;
  }

  getQueueSize(): number {
    return this.source.read(this.topic, this.position).length;
  }

  isEmpty(): boolean {
    return this.getQueueSize() === 0;
  }
}
