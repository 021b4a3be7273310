import { TopologyTestDriver, type JoinWindows, type KStream, type TestInputTopic, type TestOutputTopic } from 'tributary';
import { consumed, drain, expectedKeys, intKeys, newBuilder, nullableIntKeys, strings, toStringJoiner, type KeyValueTimestamp } from './join-test-utils.ts';

export const topic1 = 'topic1';
export const topic2 = 'topic2';

/** A driver running `topic1 <kind>Join topic2` with Kafka's `TOSTRING_JOINER`, read from `output`. */
export class JoinHarness {
  readonly driver: TopologyTestDriver;
  readonly left: TestInputTopic<number, string>;
  readonly right: TestInputTopic<number, string>;
  readonly output: TestOutputTopic<number | null, string>;

  constructor(kind: 'inner' | 'left' | 'outer', windows: JoinWindows) {
    const builder = newBuilder();
    const s1: KStream<number, string> = builder.stream(topic1, consumed);
    const s2: KStream<number, string> = builder.stream(topic2, consumed);
    const joined = kind === 'inner' ? s1.join(s2, toStringJoiner, windows) : kind === 'left' ? s1.leftJoin(s2, toStringJoiner, windows) : s1.outerJoin(s2, toStringJoiner, windows);
    joined.to('output', { keySerde: intKeys, valueSerde: strings });
    this.driver = new TopologyTestDriver(builder.build());
    this.left = this.driver.createInputTopic(topic1, intKeys, strings, { startTimestamp: 0 });
    this.right = this.driver.createInputTopic(topic2, intKeys, strings, { startTimestamp: 0 });
    this.output = this.driver.createOutputTopic('output', nullableIntKeys, strings);
  }

  /** Pipes `prefix + key` for the first `count` keys; `ts(i)` gives each timestamp (default: the topic's time, 0). */
  async push(side: 'left' | 'right', prefix: string, ts?: number | ((i: number) => number), count = expectedKeys.length): Promise<void> {
    const topic = side === 'left' ? this.left : this.right;
    for (let i = 0; i < count; i++) {
      const key = expectedKeys[i]!;
      await topic.pipeInput(key, prefix + key, typeof ts === 'function' ? ts(i) : ts);
    }
  }

  /** Kafka's `processor.checkAndClearProcessResult()`: what was emitted since the last call. */
  results(): KeyValueTimestamp<number | null, string>[] {
    return drain(this.output);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
