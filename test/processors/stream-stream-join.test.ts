import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { JoinWindows, Serdes, StreamJoined, TopologyTestDriver, type Topology } from 'tributary';
import { consumed, kvt, newBuilder, toStringJoiner } from './join-test-utils.ts';
import { JoinHarness, topic1, topic2 } from './stream-stream-test-utils.ts';

let harness: JoinHarness | undefined;
let driver: TopologyTestDriver | undefined;
afterEach(async () => {
  await harness?.close();
  await driver?.close();
  harness = undefined;
  driver = undefined;
});

/** A topology Kafka's KStreamKStreamJoinTest expects, as its test has the text (test/fixtures/kafka-describe). */
const kafkaDescribe = (name: string): string => readFileSync(new URL(`../fixtures/kafka-describe/${name}.txt`, import.meta.url), 'utf8');
/** KStreamKStreamJoinTest's naming topology: `topic` re-keyed, joined with `topic2` and with `topic3`, built in Kafka's order. */
function twoJoinsOfRekeyedStream(options: [StreamJoined<string, string, string>, StreamJoined<string, string, string>], outputs: [string, string]): Topology {
  const builder = newBuilder();
  const strings = { keySerde: Serdes.string(), valueSerde: Serdes.string() };
  const stream1 = builder.stream<string, string>('topic', strings);
  const stream2 = builder.stream<string, string>('topic2', strings);
  const stream3 = builder.stream<string, string>('topic3', strings);
  const newStream = stream1.map((k, v) => [v, k] as const);
  newStream.join(stream2, (v1, v2) => v1 + v2, JoinWindows.ofTimeDifferenceWithNoGrace(100), options[0]).to(outputs[0]);
  newStream.join(stream3, (v1, v2) => v1 + v2, JoinWindows.ofTimeDifferenceWithNoGrace(100), options[1]).to(outputs[1]);
  return builder.build();
}
const inner = (windows: JoinWindows): JoinHarness => (harness = new JoinHarness('inner', windows));

describe('KStream-KStream inner join (ported from KStreamKStreamJoinTest)', () => {
  it('KStreamKStreamJoinTest.testJoin: every pair within the window joins, duplicates included, in store order', async () => {
    const h = inner(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    expect(h.driver.topology.copartitionGroups()).toEqual([[topic1, topic2]]);
    await h.push('left', 'A', undefined, 2);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', undefined, 2);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 0), kvt(1, 'A1+a1', 0)]);
    await h.push('left', 'B');
    expect(h.results()).toEqual([kvt(0, 'B0+a0', 0), kvt(1, 'B1+a1', 0)]);
    await h.push('right', 'b');
    expect(h.results()).toEqual([kvt(0, 'A0+b0', 0), kvt(0, 'B0+b0', 0), kvt(1, 'A1+b1', 0), kvt(1, 'B1+b1', 0), kvt(2, 'B2+b2', 0), kvt(3, 'B3+b3', 0)]);
    await h.push('left', 'C');
    expect(h.results()).toEqual([kvt(0, 'C0+a0', 0), kvt(0, 'C0+b0', 0), kvt(1, 'C1+a1', 0), kvt(1, 'C1+b1', 0), kvt(2, 'C2+b2', 0), kvt(3, 'C3+b3', 0)]);
    await h.push('right', 'c', undefined, 2);
    expect(h.results()).toEqual([kvt(0, 'A0+c0', 0), kvt(0, 'B0+c0', 0), kvt(0, 'C0+c0', 0), kvt(1, 'A1+c1', 0), kvt(1, 'B1+c1', 0), kvt(1, 'C1+c1', 0)]);
  });

  it('KStreamKStreamJoinTest.testOuterJoin: with 24h of grace no unmatched record is emitted yet, only the matches', async () => {
    harness = new JoinHarness('outer', JoinWindows.ofTimeDifferenceAndGrace(100, '1d'));
    const h = harness;
    expect(h.driver.topology.copartitionGroups()).toEqual([[topic1, topic2]]);
    await h.push('left', 'A', undefined, 2);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', undefined, 2);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 0), kvt(1, 'A1+a1', 0)]);
    await h.push('left', 'B');
    expect(h.results()).toEqual([kvt(0, 'B0+a0', 0), kvt(1, 'B1+a1', 0)]);
    await h.push('right', 'b');
    expect(h.results()).toEqual([kvt(0, 'A0+b0', 0), kvt(0, 'B0+b0', 0), kvt(1, 'A1+b1', 0), kvt(1, 'B1+b1', 0), kvt(2, 'B2+b2', 0), kvt(3, 'B3+b3', 0)]);
    await h.push('left', 'C');
    expect(h.results()).toEqual([kvt(0, 'C0+a0', 0), kvt(0, 'C0+b0', 0), kvt(1, 'C1+a1', 0), kvt(1, 'C1+b1', 0), kvt(2, 'C2+b2', 0), kvt(3, 'C3+b3', 0)]);
    await h.push('right', 'c', undefined, 2);
    expect(h.results()).toEqual([kvt(0, 'A0+c0', 0), kvt(0, 'B0+c0', 0), kvt(0, 'C0+c0', 0), kvt(1, 'A1+c1', 0), kvt(1, 'B1+c1', 0), kvt(1, 'C1+c1', 0)]);
  });

  it('KStreamKStreamJoinTest.testWindowing: both window bounds are inclusive, from either side, and results carry max(tl, tr)', async () => {
    const h = inner(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.push('left', 'A', 0, 2);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', 0, 2);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 0), kvt(1, 'A1+a1', 0)]);
    // left records at 1000..1003; right records probe them from above...
    await h.push('left', 'B', (i) => 1000 + i);
    expect(h.results()).toEqual([]);
    await h.push('right', 'b', 1100);
    expect(h.results()).toEqual([kvt(0, 'B0+b0', 1100), kvt(1, 'B1+b1', 1100), kvt(2, 'B2+b2', 1100), kvt(3, 'B3+b3', 1100)]);
    await h.push('right', 'c', 1101);
    expect(h.results()).toEqual([kvt(1, 'B1+c1', 1101), kvt(2, 'B2+c2', 1101), kvt(3, 'B3+c3', 1101)]);
    await h.push('right', 'd', 1102);
    expect(h.results()).toEqual([kvt(2, 'B2+d2', 1102), kvt(3, 'B3+d3', 1102)]);
    await h.push('right', 'e', 1103);
    expect(h.results()).toEqual([kvt(3, 'B3+e3', 1103)]);
    await h.push('right', 'f', 1104);
    expect(h.results()).toEqual([]);
    // ...and from below
    await h.push('right', 'g', 899);
    expect(h.results()).toEqual([]);
    await h.push('right', 'h', 900);
    expect(h.results()).toEqual([kvt(0, 'B0+h0', 1000)]);
    await h.push('right', 'i', 901);
    expect(h.results()).toEqual([kvt(0, 'B0+i0', 1000), kvt(1, 'B1+i1', 1001)]);
    await h.push('right', 'j', 902);
    expect(h.results()).toEqual([kvt(0, 'B0+j0', 1000), kvt(1, 'B1+j1', 1001), kvt(2, 'B2+j2', 1002)]);
    await h.push('right', 'k', 903);
    expect(h.results()).toEqual([kvt(0, 'B0+k0', 1000), kvt(1, 'B1+k1', 1001), kvt(2, 'B2+k2', 1002), kvt(3, 'B3+k3', 1003)]);
    // right records at 2000..2003; left records probe them from above...
    await h.push('right', 'l', (i) => 2000 + i);
    expect(h.results()).toEqual([]);
    await h.push('left', 'C', 2100);
    expect(h.results()).toEqual([kvt(0, 'C0+l0', 2100), kvt(1, 'C1+l1', 2100), kvt(2, 'C2+l2', 2100), kvt(3, 'C3+l3', 2100)]);
    await h.push('left', 'D', 2101);
    expect(h.results()).toEqual([kvt(1, 'D1+l1', 2101), kvt(2, 'D2+l2', 2101), kvt(3, 'D3+l3', 2101)]);
    await h.push('left', 'E', 2102);
    expect(h.results()).toEqual([kvt(2, 'E2+l2', 2102), kvt(3, 'E3+l3', 2102)]);
    await h.push('left', 'F', 2103);
    expect(h.results()).toEqual([kvt(3, 'F3+l3', 2103)]);
    await h.push('left', 'G', 2104);
    expect(h.results()).toEqual([]);
    // ...and from below
    await h.push('left', 'H', 1899);
    expect(h.results()).toEqual([]);
    await h.push('left', 'I', 1900);
    expect(h.results()).toEqual([kvt(0, 'I0+l0', 2000)]);
    await h.push('left', 'J', 1901);
    expect(h.results()).toEqual([kvt(0, 'J0+l0', 2000), kvt(1, 'J1+l1', 2001)]);
    await h.push('left', 'K', 1902);
    expect(h.results()).toEqual([kvt(0, 'K0+l0', 2000), kvt(1, 'K1+l1', 2001), kvt(2, 'K2+l2', 2002)]);
    await h.push('left', 'L', 1903);
    expect(h.results()).toEqual([kvt(0, 'L0+l0', 2000), kvt(1, 'L1+l1', 2001), kvt(2, 'L2+l2', 2002), kvt(3, 'L3+l3', 2003)]);
  });

  it('KStreamKStreamJoinTest.testAsymmetricWindowingAfter: after(100) with before 0 joins right records in [tl, tl + 100]', async () => {
    const h = inner(JoinWindows.ofTimeDifferenceWithNoGrace(0).after(100));
    await h.push('left', 'A', (i) => 1000 + i);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', 999);
    expect(h.results()).toEqual([]);
    await h.push('right', 'b', 1000);
    expect(h.results()).toEqual([kvt(0, 'A0+b0', 1000)]);
    await h.push('right', 'c', 1001);
    expect(h.results()).toEqual([kvt(0, 'A0+c0', 1001), kvt(1, 'A1+c1', 1001)]);
    await h.push('right', 'd', 1002);
    expect(h.results()).toEqual([kvt(0, 'A0+d0', 1002), kvt(1, 'A1+d1', 1002), kvt(2, 'A2+d2', 1002)]);
    await h.push('right', 'e', 1003);
    expect(h.results()).toEqual([kvt(0, 'A0+e0', 1003), kvt(1, 'A1+e1', 1003), kvt(2, 'A2+e2', 1003), kvt(3, 'A3+e3', 1003)]);
    await h.push('right', 'f', 1100);
    expect(h.results()).toEqual([kvt(0, 'A0+f0', 1100), kvt(1, 'A1+f1', 1100), kvt(2, 'A2+f2', 1100), kvt(3, 'A3+f3', 1100)]);
    await h.push('right', 'g', 1101);
    expect(h.results()).toEqual([kvt(1, 'A1+g1', 1101), kvt(2, 'A2+g2', 1101), kvt(3, 'A3+g3', 1101)]);
    await h.push('right', 'h', 1102);
    expect(h.results()).toEqual([kvt(2, 'A2+h2', 1102), kvt(3, 'A3+h3', 1102)]);
    await h.push('right', 'i', 1103);
    expect(h.results()).toEqual([kvt(3, 'A3+i3', 1103)]);
    await h.push('right', 'j', 1104);
    expect(h.results()).toEqual([]);
  });

  it('KStreamKStreamJoinTest.testAsymmetricWindowingBefore: before(100) with after 0 joins right records in [tl - 100, tl]', async () => {
    const h = inner(JoinWindows.ofTimeDifferenceWithNoGrace(0).before(100));
    await h.push('left', 'A', (i) => 1000 + i);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', 899);
    expect(h.results()).toEqual([]);
    await h.push('right', 'b', 900);
    expect(h.results()).toEqual([kvt(0, 'A0+b0', 1000)]);
    await h.push('right', 'c', 901);
    expect(h.results()).toEqual([kvt(0, 'A0+c0', 1000), kvt(1, 'A1+c1', 1001)]);
    await h.push('right', 'd', 902);
    expect(h.results()).toEqual([kvt(0, 'A0+d0', 1000), kvt(1, 'A1+d1', 1001), kvt(2, 'A2+d2', 1002)]);
    await h.push('right', 'e', 903);
    expect(h.results()).toEqual([kvt(0, 'A0+e0', 1000), kvt(1, 'A1+e1', 1001), kvt(2, 'A2+e2', 1002), kvt(3, 'A3+e3', 1003)]);
    await h.push('right', 'f', 1000);
    expect(h.results()).toEqual([kvt(0, 'A0+f0', 1000), kvt(1, 'A1+f1', 1001), kvt(2, 'A2+f2', 1002), kvt(3, 'A3+f3', 1003)]);
    await h.push('right', 'g', 1001);
    expect(h.results()).toEqual([kvt(1, 'A1+g1', 1001), kvt(2, 'A2+g2', 1002), kvt(3, 'A3+g3', 1003)]);
    await h.push('right', 'h', 1002);
    expect(h.results()).toEqual([kvt(2, 'A2+h2', 1002), kvt(3, 'A3+h3', 1003)]);
    await h.push('right', 'i', 1003);
    expect(h.results()).toEqual([kvt(3, 'A3+i3', 1003)]);
    await h.push('right', 'j', 1004);
    expect(h.results()).toEqual([]);
  });

  it('KStreamKStreamJoinTest.runJoin (shouldJoinWithCustomStoreSuppliers): the joiner result type is the value type', async () => {
    const builder = newBuilder();
    const ints = { keySerde: Serdes.string(), valueSerde: Serdes.int32() };
    const joined = builder.stream('left', ints).join(builder.stream('right', ints), (a, b) => a + b, JoinWindows.ofTimeDifferenceWithNoGrace(100), { storeName: 'in-memory-join-store' });
    joined.to('out', { keySerde: Serdes.string(), valueSerde: Serdes.int32() });
    driver = new TopologyTestDriver(builder.build());
    expect([...driver.getAllStateStores().keys()].sort()).toEqual(['in-memory-join-store-other-join-store', 'in-memory-join-store-this-join-store']);
    const left = driver.createInputTopic('left', Serdes.string(), Serdes.int32());
    const right = driver.createInputTopic('right', Serdes.string(), Serdes.int32());
    await left.pipeInput('A', 1, 1);
    await left.pipeInput('B', 1, 2);
    await right.pipeInput('A', 1, 1);
    await right.pipeInput('B', 2, 2);
    expect(driver.createOutputTopic('out', Serdes.string(), Serdes.int32()).readRecordsToList().map(({ key, value, timestamp }) => kvt(key, value, timestamp))).toEqual([kvt('A', 2, 1), kvt('B', 3, 2)]);
  });

  it('KStreamKStreamJoinTest.shouldLogAndMeterOnSkippedRecordsWithNullValue: a null value is dropped and counted', async () => {
    const h = inner(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.left.pipeInput(0, null as unknown as string);
    expect(h.results()).toEqual([]);
    expect(h.driver.metrics().dropped).toBe(1);
  });

  it('KStreamKStreamJoinTest.shouldCreateRepartitionTopicsWithUserProvidedName: a re-keyed side goes through <name>-left-repartition', async () => {
    const topology = twoJoinsOfRekeyedStream([{ name: 'first-join' }, { name: 'second-join' }], ['out-one', 'out-two']);
    expect(topology.describe()).toBe(kafkaDescribe('kstream-kstream-user-named-repartition'));
    expect(topology.copartitionGroups()).toEqual([['first-join-left-repartition', 'topic2'], ['second-join-left-repartition', 'topic3']]);

    driver = new TopologyTestDriver(topology, { applicationId: 'app' });
    await driver.createInputTopic('topic2', Serdes.string(), Serdes.string()).pipeInput('v', 'x', 10);
    await driver.createInputTopic('topic', Serdes.string(), Serdes.string()).pipeInput('k', 'v', 20);
    expect(driver.createOutputTopic('out-one', Serdes.string(), Serdes.string()).readRecordsToList().map(({ key, value, timestamp }) => kvt(key, value, timestamp))).toEqual([kvt('v', 'kx', 20)]);
  });

  it('KStreamKStreamJoinTest.shouldReuseRepartitionTopicWithGeneratedName: two unnamed joins of one re-keyed stream share its repartition; Kafka\'s windowed, join and merge nodes and store names', () => {
    const topology = twoJoinsOfRekeyedStream([{}, {}], ['out-one', 'out-to']);
    expect(topology.describe()).toBe(kafkaDescribe('kstream-kstream-generated-repartition'));
  });

  it('StreamJoined.with(...).withName names the join\'s nodes as Kafka\'s builder does (KStreamKStreamJoinTest\'s user-named topology)', () => {
    const streamJoined = StreamJoined.with(Serdes.string(), Serdes.string(), Serdes.string());
    const topology = twoJoinsOfRekeyedStream([streamJoined.withName('first-join'), streamJoined.withName('second-join')], ['out-one', 'out-two']);
    expect(topology.describe()).toBe(kafkaDescribe('kstream-kstream-user-named-repartition'));
  });

  it('store names as KStreamImplJoin gives them: <storeName>-outer-this-join-store and -outer-other-join-store with a shared -outer-shared-join-store (outer), -left-shared-join-store (left), KSTREAM-OUTERSHARED-<n>-store unnamed', () => {
    const storesOf = (kind: 'leftJoin' | 'outerJoin', storeName?: string): string[] => {
      const builder = newBuilder();
      const left = builder.stream(topic1, consumed);
      const right = builder.stream(topic2, consumed);
      const options = storeName === undefined ? {} : { storeName };
      const windows = JoinWindows.ofTimeDifferenceWithNoGrace(10);
      (kind === 'leftJoin' ? left.leftJoin(right, toStringJoiner, windows, options) : left.outerJoin(right, toStringJoiner, windows, options)).to('output');
      return [...new TopologyTestDriver(builder.build()).getAllStateStores().keys()].sort();
    };
    expect(storesOf('outerJoin', 's')).toEqual(['s-outer-other-join-store', 's-outer-shared-join-store', 's-outer-this-join-store']);
    expect(storesOf('leftJoin', 's')).toEqual(['s-left-shared-join-store', 's-outer-other-join-store', 's-this-join-store']);
    expect(storesOf('outerJoin')).toEqual(['KSTREAM-OUTEROTHER-0000000005-store', 'KSTREAM-OUTERSHARED-0000000004-store', 'KSTREAM-OUTERTHIS-0000000004-store']);
  });

  it('reference rule: records with a null key are skipped by an inner join', async () => {
    const builder = newBuilder();
    builder.stream(topic1, consumed).join(builder.stream(topic2, consumed), toStringJoiner, JoinWindows.ofTimeDifferenceWithNoGrace(10)).to('output');
    driver = new TopologyTestDriver(builder.build());
    await driver.createInputTopic(topic1, Serdes.int32(), Serdes.string()).pipeInput(null as unknown as number, 'A', 0);
    expect(driver.metrics().dropped).toBe(1);
  });
});
