/*
 * Kafka Streams' AbstractJoinIntegrationTest (streams/src/test/.../integration), which its join
 * integration tests run on the TopologyTestDriver: one key (ANY_UNIQUE_KEY = 0), the `input` list
 * of left and right records with out-of-order data, the joiner `value1 + "-" + value2`, and
 * `runTestWithDriver`, which checks after every input what reached the output topic.
 */
import { expect } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver, type Topology } from 'tributary';

export const INPUT_TOPIC_RIGHT = 'inputTopicRight';
export const INPUT_TOPIC_LEFT = 'inputTopicLeft';
export const OUTPUT_TOPIC = 'outputTopic';
export const ANY_UNIQUE_KEY = 0;
/** Kafka's `MockTime` start: every input and expected timestamp is relative to it. */
const BASE_TIMESTAMP = 1_600_000_000_000;

export const longs = Serdes.int64();
export const strings = Serdes.string();
export const nullableStrings = Serdes.nullable(strings);
/** Sources read tombstones (null values) whatever the value serde. */
export const consumed = { keySerde: longs, valueSerde: strings };
/** A table's updates as a stream carry tombstones. */
export const produced = { keySerde: longs, valueSerde: nullableStrings };

/** `final ValueJoiner<String, String, String> valueJoiner = (value1, value2) -> value1 + "-" + value2;` */
export const valueJoiner = (value1: string | null, value2: string | null): string => `${value1}-${value2}`;

interface Input {
  topic: string;
  value: string | null;
  timestamp: number;
}

const left = (value: string | null, timestamp: number): Input => ({ topic: INPUT_TOPIC_LEFT, value, timestamp });
const right = (value: string | null, timestamp: number): Input => ({ topic: INPUT_TOPIC_RIGHT, value, timestamp });

/** AbstractJoinIntegrationTest.input, as Kafka lists it. */
export const input: readonly Input[] = [
  left(null, 1),
  right(null, 2),
  left('A', 3),
  right('a', 4),
  left('B', 5),
  right('b', 6),
  left(null, 7),
  right(null, 8),
  left('C', 9),
  right('c', 10),
  right(null, 11),
  left(null, 12),
  right(null, 13),
  right('d', 7), // out-of-order data with null as latest
  left('D', 6),
  left(null, 2),
  right(null, 3),
  right('e', 14),
  left('E', 15),
  left(null, 10), // out-of-order data with non-null as latest
  right(null, 9),
  left('F', 4),
  right('f', 3),
];

/** `new TestRecord<>(ANY_UNIQUE_KEY, value, null, timestamp)`; `null` in the expected list means "no output". */
export function rec(value: string | null, timestamp: number): { key: number; value: string | null; timestamp: number } {
  return { key: ANY_UNIQUE_KEY, value, timestamp };
}

export type Expected = ({ key: number; value: string | null; timestamp: number }[] | null)[];

/** A builder with Kafka's default serdes of these tests (Long keys, String values). */
export function newBuilder(): StreamsBuilder {
  return new StreamsBuilder({ defaultKeySerde: longs as never, defaultValueSerde: nullableStrings as never });
}

/**
 * `runTestWithDriver(input, expectedResult, storeName, ...)`: pipes each input, checks the output
 * it caused, and, with a store name, that the store holds the last expected record (value and
 * timestamp) as its only entry.
 */
export async function runTestWithDriver(expectedResult: Expected, topology: Topology, storeName?: string): Promise<void> {
  expect(expectedResult).toHaveLength(input.length);
  const driver = new TopologyTestDriver(topology);
  try {
    const topics = {
      [INPUT_TOPIC_RIGHT]: driver.createInputTopic(INPUT_TOPIC_RIGHT, longs, nullableStrings),
      [INPUT_TOPIC_LEFT]: driver.createInputTopic(INPUT_TOPIC_LEFT, longs, nullableStrings),
    };
    const output = driver.createOutputTopic(OUTPUT_TOPIC, longs, nullableStrings);
    let expectedFinalResult: { value: string | null; timestamp: number } | undefined;
    for (const [i, record] of input.entries()) {
      await topics[record.topic as keyof typeof topics].pipeInput(ANY_UNIQUE_KEY, record.value, BASE_TIMESTAMP + record.timestamp);
      const expected = (expectedResult[i] ?? []).map((r) => ({ ...r, timestamp: BASE_TIMESTAMP + r.timestamp }));
      const received = output.readRecordsToList().map(({ key, value, timestamp }) => ({ key, value, timestamp }));
      expect(received, `output after input ${i} (${record.topic} ${record.value} @${record.timestamp})`).toEqual(expected);
      if (expected.length > 0) expectedFinalResult = expected[expected.length - 1];
    }
    if (storeName !== undefined) {
      const all = driver.getTimestampedKeyValueStore<number, string>(storeName)!.all();
      expect(all).toEqual([{ key: ANY_UNIQUE_KEY, value: { value: expectedFinalResult?.value, timestamp: expectedFinalResult?.timestamp } }]);
    }
  } finally {
    await driver.close();
  }
}
