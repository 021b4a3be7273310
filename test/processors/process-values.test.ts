import { describe, expect, it } from 'vitest';
import { FixedKeyRecord, Serdes, StreamsBuilder, TopologyTestDriver, type FixedKeyProcessorContext, type KeyValueStore } from 'tributary';

describe('KStream.processValues (FixedKeyProcessor)', () => {
  it('changes values with a store and a punctuator, keeps keys, and does not repartition before a grouping', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'seen', type: 'key-value', valueSerde: Serdes.int32() });
    const numbered = builder.stream<string, string>('words', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .processValues<string>(() => {
        let ctx: FixedKeyProcessorContext<string, string>;
        let seen: KeyValueStore<string, number>;
        let last: FixedKeyRecord<string, string> | undefined;
        return {
          init(context) {
            ctx = context;
            seen = context.getStateStore<KeyValueStore<string, number>>('seen');
            context.schedule(100, 'stream-time', (t) => {
              if (last) ctx.forward(last.withValue(`tick@${t}`).withTimestamp(t));
            });
          },
          process(record) {
            const n = (seen.get(record.key) ?? 0) + 1;
            seen.put(record.key, n);
            last = record.withValue(`${record.value}#${n}`);
            ctx.forward(last);
          },
        };
      }, 'seen');
    numbered.to('numbered', { valueSerde: Serdes.string() });
    numbered.groupByKey().count({ storeName: 'counts' });
    const topology = builder.build();
    expect(topology.describe()).not.toContain('repartition');
    const driver = new TopologyTestDriver(topology);
    const input = driver.createInputTopic('words', Serdes.string(), Serdes.string());
    await input.pipeInput('a', 'x', 0);
    await input.pipeInput('a', 'y', 50);
    await input.pipeInput('b', 'z', 120);
    expect(driver.createOutputTopic('numbered', Serdes.string(), Serdes.string()).readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['a', 'x#1', 0], ['a', 'tick@0', 0], ['a', 'y#2', 50], ['b', 'z#1', 120], ['b', 'tick@120', 120],
    ]);
    expect(driver.getKeyValueStore<string, number>('counts')?.all()).toEqual([{ key: 'a', value: 3 }, { key: 'b', value: 2 }]);
    await driver.close();
  });

  it('a processor cannot forward a record with another key: only FixedKeyRecords, made from received records', async () => {
    const builder = new StreamsBuilder();
    builder.stream<string, string>('in', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .processValues<string>(() => {
        let ctx: FixedKeyProcessorContext<string, string>;
        return {
          init(context) {
            ctx = context;
          },
          process() {
            ctx.forward({ key: 'other', value: 'v' } as unknown as FixedKeyRecord<string, string>);
          },
        };
      })
      .to('out');
    const driver = new TopologyTestDriver(builder.build());
    await expect(driver.createInputTopic('in', Serdes.string(), Serdes.string()).pipeInput('k', 'v', 0)).rejects.toThrow(/forwards FixedKeyRecords only/);
    await driver.close();
  });
});
