import { describe, expect, it } from 'vitest';
import { Named, Serdes, StreamsBuilder, TopologyTestDriver } from 'tributary';

describe('split() branch names in describe, as Kafka Streams names them', () => {
  it('with a split name: the splitter is <prefix>, branches <prefix><name>, unnamed ones <prefix><n> and the default <prefix>0', async () => {
    const builder = new StreamsBuilder();
    const branches = builder.stream<string, number>('in', { valueSerde: Serdes.json<number>() }).split(Named.as('size-'))
      .branch((_k, v) => v > 100, { name: 'large' })
      .branch((_k, v) => v > 10)
      .defaultBranch();
    expect(Object.keys(branches)).toEqual(['size-large', 'size-2', 'size-0']);
    branches['size-large']!.to('large');
    branches['size-0']!.to('small');
    const description = builder.build().describe();
    expect(description).toContain('    Processor: size- (stores: [])\n      --> size-0, size-large, size-2\n      <-- KSTREAM-SOURCE-0000000000\n');
    expect(description).toContain('    Processor: size-large (stores: [])\n      --> KSTREAM-SINK-0000000005\n      <-- size-\n');
    expect(description).toContain('    Processor: size-2 (stores: [])\n      --> none\n      <-- size-\n');
    expect(description).toContain('    Sink: KSTREAM-SINK-0000000006 (topic: small)\n      <-- size-0\n');
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.createInputTopic('in', Serdes.string(), Serdes.json<number>());
    await input.pipeInput('a', 500, 0);
    await input.pipeInput('b', 50, 0);
    await input.pipeInput('c', 5, 0);
    expect(driver.createOutputTopic('large', Serdes.string(), Serdes.json<number>()).readKeyValuesToList()).toEqual([{ key: 'a', value: 500 }]);
    expect(driver.createOutputTopic('small', Serdes.string(), Serdes.json<number>()).readKeyValuesToList()).toEqual([{ key: 'c', value: 5 }]);
    await driver.close();
  });

  it('without a split name the generated splitter name is the prefix of the branch nodes: KSTREAM-BRANCH-0000000001<n>', () => {
    const builder = new StreamsBuilder();
    builder.stream('in').split().branch(() => true).branch(() => false, { name: 'x' }).noDefaultBranch();
    const description = builder.build().describe();
    expect(description).toContain('    Processor: KSTREAM-BRANCH-0000000001 (stores: [])\n      --> KSTREAM-BRANCH-00000000011, KSTREAM-BRANCH-0000000001x\n');
  });
});
