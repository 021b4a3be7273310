import { Serdes, TopologyTestDriver, type Serde, type Topology, type Windowed } from 'tributary';

/** A windowed result as the tests compare it: `[key@start/end] value @timestamp`. */
export interface WindowedResult<V> {
  key: string;
  start: number;
  end: number;
  value: V | null;
  timestamp: number;
}

/** Kafka Streams' `MockInitializer.STRING_INIT`. */
export const STRING_INIT = (): string => '0';
/** Kafka Streams' `MockAggregator.TOSTRING_ADDER`: `agg + "+" + value`. */
export const TOSTRING_ADDER = (_key: string, value: string, aggregate: string): string => `${aggregate}+${value}`;
/** Kafka Streams' `MockReducer.STRING_ADDER`. */
export const STRING_ADDER = (aggregate: string, value: string): string => `${aggregate}+${value}`;

/** A reader of a topic with windowed string keys: each call returns the records not read yet, as `WindowedResult`s. */
export function windowedOutput<V>(driver: TopologyTestDriver, topic: string, valueSerde: Serde<V>): () => WindowedResult<V>[] {
  const output = driver.createOutputTopic<Windowed<string>, V | null>(topic, Serdes.windowed(Serdes.string()), Serdes.nullable(valueSerde) as Serde<V | null>);
  return () => output.readRecordsToList().map((r) => ({ key: r.key.key, start: r.key.window.start, end: r.key.window.end, value: r.value, timestamp: r.timestamp }));
}

/** Reads every record of a topic with windowed string keys as `WindowedResult`s (once per driver and topic). */
export function readWindowed<V>(driver: TopologyTestDriver, topic: string, valueSerde: Serde<V>): WindowedResult<V>[] {
  return windowedOutput(driver, topic, valueSerde)();
}

/** A `WindowedResult` literal: `w('A', 0, 10, '0+1', 0)`. */
export function w<V>(key: string, start: number, end: number, value: V | null, timestamp: number): WindowedResult<V> {
  return { key, start, end, value, timestamp };
}

/** A driver over a topology with one string input topic `input`; returns a function piping `(key, value, ts)`. */
export function stringDriver(topology: Topology, topic = 'input'): { driver: TopologyTestDriver; pipe: (key: string | null, value: string | null, timestamp: number) => Promise<void> } {
  const driver = new TopologyTestDriver(topology);
  const input = driver.createInputTopic<string | null, string | null>(topic, Serdes.nullable(Serdes.string()), Serdes.nullable(Serdes.string()));
  return { driver, pipe: (key, value, timestamp) => input.pipeInput(key, value, timestamp) };
}
