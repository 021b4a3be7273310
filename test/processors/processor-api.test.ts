import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver, type KeyValueStore, type ProcessorContext } from 'tributary';

describe('Processor API', () => {
  it('process() reaches its store, forwards records, and punctuates on stream time and on the wall clock', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'totals', type: 'key-value', valueSerde: Serdes.int64() });
    builder.stream<string, number>('in', { valueSerde: Serdes.json<number>() })
      .process<string, string>(() => {
        let ctx: ProcessorContext<string, string>;
        let store: KeyValueStore<string, number>;
        return {
          init(context) {
            ctx = context;
            store = context.getStateStore<KeyValueStore<string, number>>('totals');
            context.schedule('10s', 'stream-time', (t) => ctx.forward({ key: 'stream-tick', value: `${t}` }));
            context.schedule(1_000, 'wall-clock', (t) => ctx.forward({ key: 'wall-tick', value: `${t}` }));
          },
          process(record) {
            const total = (store.get(record.key) ?? 0) + record.value;
            store.put(record.key, total);
            ctx.forward({ key: record.key, value: `${total}` });
          },
        };
      }, 'totals')
      .to('out', { valueSerde: Serdes.string() });
    const driver = new TopologyTestDriver(builder.build(), { startTimeMs: 0 });
    const input = driver.createInputTopic('in', Serdes.string(), Serdes.json<number>());
    const out = driver.createOutputTopic('out', Serdes.string(), Serdes.string());

    await input.pipeInput('a', 2, 0);
    await input.pipeInput('a', 3, 5_000);
    await input.pipeInput('b', 1, 25_000);
    expect(out.readKeyValuesToList()).toEqual([
      { key: 'a', value: '2' }, { key: 'stream-tick', value: '0' },
      { key: 'a', value: '5' },
      { key: 'b', value: '1' }, { key: 'stream-tick', value: '25000' },
    ]);
    await driver.advanceWallClockTime(1_500);
    expect(out.readKeyValuesToList()).toEqual([{ key: 'wall-tick', value: '1500' }]);
    expect(driver.getKeyValueStore<string, number>('totals')?.all()).toEqual([{ key: 'a', value: 5 }, { key: 'b', value: 1 }]);
    await driver.close();
  });

  it('reading a store the processor was not connected to is an error naming the fix', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 's', type: 'key-value' });
    builder.stream('in').process(() => ({ init: (ctx) => void ctx.getStateStore('s'), process() {} }));
    expect(() => new TopologyTestDriver(builder.build())).toThrow(/not connected to store 's': name it in process\(factory, 's'\)/);
  });
});
