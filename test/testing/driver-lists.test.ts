import { describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, StreamsError, TopologyTestDriver, topology, type Model } from 'tributary';

/** A model that records the size of every batch it is given. */
function countingModel(batches: number[]): Model<{ n: number }, { double: number }> {
  return {
    name: 'counting',
    ready: async () => undefined,
    close: async () => undefined,
    scoreBatch: async (inputs) => {
      batches.push(inputs.length);
      return inputs.map((input) => ({ ok: true as const, prediction: { double: input.value.n * 2, model: 'counting', version: '1', latencyMs: 0 } }));
    },
  };
}

function scoring(batches: number[]) {
  const builder = new StreamsBuilder();
  builder
    .stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.json<{ n: number }>() })
    .predict(countingModel(batches), { maxBatchSize: 64, maxDelayMs: 5, as: (value, p) => ({ n: value.n, double: p.double }) })
    .to('out', { valueSerde: Serdes.json() });
  return builder.build();
}

describe('TopologyTestDriver lists', () => {
  it('pipeKeyValueList hands the whole list to predict, which forms real micro-batches, in input order', async () => {
    const batches: number[] = [];
    const driver = new TopologyTestDriver(scoring(batches));
    const input = driver.createInputTopic('in', Serdes.string(), Serdes.json<{ n: number }>());
    await input.pipeKeyValueList(Array.from({ length: 200 }, (_, i) => [`k${i}`, { n: i }] as const), 0, 1);
    expect(batches).toEqual([64, 64, 64, 8]);
    const out = driver.createOutputTopic('out', Serdes.string(), Serdes.json<{ n: number; double: number }>()).readKeyValuesToList();
    expect(out.map((r) => r.value.n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(out.every((r) => r.value.double === r.value.n * 2)).toBe(true);
    await driver.close();
  });

  it('pipeRecordList batches too, while pipeInput one record at a time scores batches of one', async () => {
    const listed: number[] = [];
    const driver = new TopologyTestDriver(scoring(listed));
    await driver.createInputTopic('in', Serdes.string(), Serdes.json<{ n: number }>()).pipeRecordList(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: { n: i }, timestamp: i })));
    expect(listed).toEqual([10]);
    await driver.close();

    const single: number[] = [];
    const one = new TopologyTestDriver(scoring(single));
    const input = one.createInputTopic('in', Serdes.string(), Serdes.json<{ n: number }>());
    for (let i = 0; i < 3; i++) await input.pipeInput(`k${i}`, { n: i }, i);
    expect(single).toEqual([1, 1, 1]);
    await one.close();
  });

  it("a failing record stops pipeKeyValueList with the task's error (errorHandling 'fail')", async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.json<{ n: number }>() }).mapValues((v) => {
      if (v.n === 3) throw new Error('three');
      return v.n;
    }).to('out', { valueSerde: Serdes.int64() });
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('in', Serdes.string(), Serdes.json<{ n: number }>());
    await expect(input.pipeKeyValueList([0, 1, 2, 3, 4, 5].map((n) => [`k${n}`, { n }] as const))).rejects.toThrow(StreamsError);
    expect(driver.createOutputTopic('out', Serdes.string(), Serdes.int64()).readValuesToList()).toEqual([0, 1, 2]);
    await driver.close();
  });

  it('with cacheMaxEntries, a piped list is one commit interval: its updates are merged per key, while single pipes flush each one', async () => {
    const counting = () => {
      const builder = new StreamsBuilder();
      builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.string() }).groupByKey().count().toStream().to('out', { valueSerde: Serdes.int64() });
      return new TopologyTestDriver(builder.build(), { cacheMaxEntries: 100 });
    };
    const listed = counting();
    await listed.createInputTopic('in', Serdes.string(), Serdes.string()).pipeKeyValueList([['a', 'x'], ['a', 'y'], ['b', 'z'], ['a', 'w']]);
    expect(listed.createOutputTopic('out', Serdes.string(), Serdes.int64()).readKeyValuesToMap()).toEqual(new Map([['a', 3], ['b', 1]]));
    expect(listed.createOutputTopic('out', Serdes.string(), Serdes.int64()).readKeyValuesToList()).toHaveLength(2);
    await listed.close();
    const single = counting();
    const input = single.createInputTopic('in', Serdes.string(), Serdes.string());
    for (const value of ['x', 'y', 'z']) await input.pipeInput('a', value);
    expect(single.createOutputTopic('out', Serdes.string(), Serdes.int64()).readValuesToList()).toEqual([1, 2, 3]);
    await single.close();
  });

  it("takes a topology file's definition, and its applicationId", async () => {
    const definition = topology({ applicationId: 'from-the-file' }, (builder) => {
      builder.stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.string() }).mapValues((v) => v.toUpperCase()).to('out', { valueSerde: Serdes.string() });
    });
    const driver = new TopologyTestDriver(definition);
    expect(driver.applicationId).toBe('from-the-file');
    await driver.createInputTopic('in', Serdes.string(), Serdes.string()).pipeInput('k', 'hi');
    expect(driver.createOutputTopic('out', Serdes.string(), Serdes.string()).readValuesToList()).toEqual(['HI']);
    await driver.close();
    const overridden = new TopologyTestDriver(definition, { applicationId: 'override' });
    expect(overridden.applicationId).toBe('override');
    await overridden.close();
  });
});
