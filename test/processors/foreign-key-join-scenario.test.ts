import { afterEach, describe, expect, it } from 'vitest';
import { Serdes, StreamsBuilder, TableJoined, TopologyTestDriver, type KTable } from 'tributary';

/* Ported from Kafka Streams' KTableKTableForeignKeyJoinScenarioTest. */

const ints = Serdes.int32();
const strings = Serdes.string();

let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** Kafka's `validateTopologyCanProcessData`: default serdes Integer/String, one row on each side. */
async function validateTopologyCanProcessData(builder: StreamsBuilder): Promise<void> {
  driver = new TopologyTestDriver(builder.build());
  await driver.createInputTopic('A', ints, strings).pipeInput(1, '999-alpha');
  await driver.createInputTopic('B', ints, strings).pipeInput(999, 'beta');
  expect(driver.createOutputTopic('output', ints, strings).readKeyValuesToMap()).toEqual(new Map([[1, '(999-alpha,(999-alpha,beta))']]));
}

const defaultSerdes = (): StreamsBuilder => new StreamsBuilder({ defaultKeySerde: ints as never, defaultValueSerde: strings as never });
const fkJoin = (a: KTable<number, string>, b: KTable<number, string>, materialized = {}): KTable<number, string> =>
  a.join(b, (value) => Number.parseInt(value.split('-')[0]!, 10), (aVal, bVal) => `(${aVal},${bVal})`, {}, { storeName: 'asdf', ...materialized });

describe('foreign-key join serdes and topics (ported from KTableKTableForeignKeyJoinScenarioTest)', () => {
  it('shouldWorkWithDefaultSerdes: every internal topic and store takes the builder defaults', async () => {
    const builder = defaultSerdes();
    const aTable = builder.table<number, string>('A');
    const result = fkJoin(aTable, builder.table<number, string>('B'));
    aTable.join(result, (aVal, fkJoinVal) => `(${aVal},${fkJoinVal})`).toStream().to('output');
    await validateTopologyCanProcessData(builder);
  });

  it('shouldWorkWithDefaultAndConsumedSerdes: serdes given to one table mix with the defaults', async () => {
    const builder = defaultSerdes();
    const aTable = builder.table('A', { keySerde: ints, valueSerde: strings });
    const result = fkJoin(aTable, builder.table<number, string>('B'));
    aTable.join(result, (aVal, fkJoinVal) => `(${aVal},${fkJoinVal})`).toStream().to('output');
    await validateTopologyCanProcessData(builder);
  });

  it('shouldWorkWithDefaultAndJoinResultSerdes: serdes of the materialized result', async () => {
    const builder = defaultSerdes();
    const aTable = builder.table<number, string>('A');
    const result = fkJoin(aTable, builder.table<number, string>('B'), { keySerde: ints, valueSerde: strings });
    aTable.join(result, (aVal, fkJoinVal) => `(${aVal},${fkJoinVal})`).toStream().to('output');
    await validateTopologyCanProcessData(builder);
  });

  it('shouldWorkWithDefaultAndEquiJoinResultSerdes: serdes of a key join downstream', async () => {
    const builder = defaultSerdes();
    const aTable = builder.table<number, string>('A');
    const result = fkJoin(aTable, builder.table<number, string>('B'));
    aTable.join(result, (aVal, fkJoinVal) => `(${aVal},${fkJoinVal})`, { keySerde: ints, valueSerde: strings }).toStream().to('output');
    await validateTopologyCanProcessData(builder);
  });

  it('shouldWorkWithDefaultAndProducedSerdes: serdes of the output', async () => {
    const builder = defaultSerdes();
    const aTable = builder.table<number, string>('A');
    const result = fkJoin(aTable, builder.table<number, string>('B'));
    aTable.join(result, (aVal, fkJoinVal) => `(${aVal},${fkJoinVal})`).toStream().to('output', { keySerde: ints, valueSerde: strings });
    await validateTopologyCanProcessData(builder);
  });

  it('shouldUseExpectedTopicsWithSerde: the subscription and response topics are named as Kafka Streams names them', async () => {
    const applicationId = 'ktable-ktable-joinOnForeignKey';
    const builder = new StreamsBuilder();
    const left = builder.table('left_table', { keySerde: ints, valueSerde: strings });
    const right = builder.table('right_table', { keySerde: ints, valueSerde: strings });
    left
      .join(right, (value) => Number.parseInt(value.split('|')[1]!, 10), (value1, value2) => `(${value1},${value2})`, {}, { valueSerde: strings })
      .toStream()
      .to('output-topic', { keySerde: ints, valueSerde: Serdes.nullable(strings) });
    driver = new TopologyTestDriver(builder.build(), { applicationId });
    await driver.createInputTopic('left_table', ints, strings).pipeInput(2, 'lhsValue1|1');
    await driver.createInputTopic('right_table', ints, strings).pipeInput(1, 'rhsValue1');
    expect(driver.producedTopicNames().sort()).toEqual([
      `${applicationId}-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic`,
      `${applicationId}-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic`,
      'output-topic',
    ]);
    expect(driver.createOutputTopic('output-topic', ints, strings).readKeyValuesToList()).toEqual([{ key: 2, value: '(lhsValue1|1,rhsValue1)' }]);
  });

  it('TableJoined.as(name) names the internal topics and the subscription store', async () => {
    const builder = new StreamsBuilder();
    const orders = builder.table('orders', { keySerde: strings, valueSerde: Serdes.json<{ customer: string }>() });
    const customers = builder.table('customers', { keySerde: strings, valueSerde: strings });
    orders.join(customers, (order) => order.customer, (order, name) => `${order.customer}:${name}`, TableJoined.as('orders-by-customer')).toStream().to('out', { keySerde: strings, valueSerde: Serdes.nullable(strings) });
    const topology = builder.build();
    expect(topology.internalTopics().map((t) => t.topic)).toEqual(['orders-by-customer-subscription-registration-topic', 'orders-by-customer-subscription-response-topic']);
    expect([...topology.stores.keys()]).toContain('orders-by-customer-subscription-store');
    driver = new TopologyTestDriver(topology, { applicationId: 'named-fk' });
    await driver.createInputTopic('customers', strings, strings).pipeInput('c1', 'Ada');
    await driver.createInputTopic('orders', strings, Serdes.json<{ customer: string }>()).pipeInput('o1', { customer: 'c1' });
    expect(driver.createOutputTopic('out', strings, strings).readKeyValuesToList()).toEqual([{ key: 'o1', value: 'c1:Ada' }]);
    expect(driver.getKeyValueStore('orders-by-customer-subscription-store')?.approximateNumEntries()).toBe(1);
  });
});
