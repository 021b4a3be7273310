import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TopologyTestDriver } from 'tributary';

/*
 * The subscription instructions of Kafka Streams 3.7 and later (KIP-962, `SubscriptionSendProcessorSupplier`
 * on trunk): an inner-join row whose foreign key becomes `null` deletes its result, a row whose
 * foreign key stops being `null` joins, an update that keeps its foreign key sends no tombstone when
 * the foreign row is missing, and a left-join delete gives one tombstone, not one per subscription.
 * Left values are `<fk>:<n>`; `none:<n>` has a `null` foreign key.
 */

const strings = Serdes.string();
const nullable = Serdes.nullable(strings);
const foreignKey = (value: string): string | null => (value.startsWith('none:') ? null : value.split(':')[0]!);

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

function start(leftJoin: boolean) {
  const builder = new StreamsBuilder();
  const left = builder.table('left', { keySerde: strings, valueSerde: strings });
  const right = builder.table('right', { keySerde: strings, valueSerde: strings });
  const joiner = (l: string, r: string | null): string => `(${l},${r})`;
  (leftJoin ? left.leftJoin(right, foreignKey, joiner) : left.join(right, foreignKey, joiner))
    .toStream().to('out', { valueSerde: nullable });
  driver = new TopologyTestDriver(builder.build());
  const d = driver;
  const output = d.createOutputTopic('out', strings, nullable);
  return {
    left: d.createInputTopic('left', strings, nullable),
    right: d.createInputTopic('right', strings, nullable),
    read: () => output.readKeyValuesToList().map((r) => `${r.key}=${r.value}`),
  };
}

describe('foreign-key join: null foreign keys and unneeded results (KIP-962)', () => {
  it('inner join: a foreign key that becomes null deletes the result', async () => {
    const t = start(false);
    await t.right.pipeInput('r1', 'R1', 1);
    await t.left.pipeInput('l1', 'r1:1', 2);
    expect(t.read()).toEqual(['l1=(r1:1,R1)']);
    await t.left.pipeInput('l1', 'none:1', 3);
    expect(t.read()).toEqual(['l1=null']);
    await t.right.pipeInput('r1', 'R1b', 4); // l1 is no longer subscribed
    expect(t.read()).toEqual([]);
  });

  it('inner join: a row whose foreign key was null joins once it names a row', async () => {
    const t = start(false);
    await t.right.pipeInput('r1', 'R1', 1);
    await t.left.pipeInput('l1', 'none:1', 2);
    expect(t.read()).toEqual([]);
    await t.left.pipeInput('l1', 'r1:2', 3);
    expect(t.read()).toEqual(['l1=(r1:2,R1)']);
  });

  it('inner join: an update keeping a foreign key without a row emits nothing', async () => {
    const t = start(false);
    await t.left.pipeInput('l1', 'r9:1', 1);
    await t.left.pipeInput('l1', 'r9:2', 2);
    expect(t.read()).toEqual([]);
    await t.right.pipeInput('r9', 'R9', 3);
    expect(t.read()).toEqual(['l1=(r9:2,R9)']);
  });

  it('left join: deleting a row gives one tombstone', async () => {
    const t = start(true);
    await t.right.pipeInput('r1', 'R1', 1);
    await t.left.pipeInput('l1', 'r1:1', 2);
    await t.left.pipeInput('l1', null, 3);
    expect(t.read()).toEqual(['l1=(r1:1,R1)', 'l1=null']);
  });

  it('left join: moving to another foreign key gives one result, the new one', async () => {
    const t = start(true);
    await t.right.pipeInput('r1', 'R1', 1);
    await t.right.pipeInput('r2', 'R2', 2);
    await t.left.pipeInput('l1', 'r1:1', 3);
    await t.left.pipeInput('l1', 'r2:1', 4);
    await t.left.pipeInput('l1', 'none:1', 5);
    expect(t.read()).toEqual(['l1=(r1:1,R1)', 'l1=(r2:1,R2)', 'l1=(none:1,null)']);
  });
});
