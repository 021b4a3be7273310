import { afterEach, describe, expect, it } from 'vitest';
import { JoinWindows, Serdes, TopologyTestDriver } from 'tributary';
import { kvt } from './join-test-utils.ts';
import { JoinHarness, topic1, topic2 } from './stream-stream-test-utils.ts';

let harness: JoinHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const leftJoin = (windows: JoinWindows): JoinHarness => (harness = new JoinHarness('left', windows));

describe('KStream-KStream left join (ported from KStreamKStreamLeftJoinTest)', () => {
  it('KStreamKStreamLeftJoinTest.testLeftJoinDuplicates: unmatched duplicates are emitted when the window closes; matched ones never', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 10));
    await h.left.pipeInput(0, 'A0', 0);
    await h.left.pipeInput(0, 'A0-0', 0);
    await h.right.pipeInput(1, 'a0', 111);
    await h.right.pipeInput(2, 'dummy', 500);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 0), kvt(0, 'A0-0+null', 0)]);
    await h.left.pipeInput(2, 'A2', 1000);
    await h.left.pipeInput(2, 'A2-0', 1000);
    await h.right.pipeInput(2, 'a2', 1001);
    expect(h.results()).toEqual([kvt(2, 'A2+a2', 1001), kvt(2, 'A2-0+a2', 1001)]);
    await h.right.pipeInput(3, 'a3', 315);
    expect(h.results()).toEqual([]);
  });

  it('KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor: a later left record flushes closed left records', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 0));
    await h.left.pipeInput(0, 'A0', 1);
    await h.left.pipeInput(1, 'A1', 2);
    await h.left.pipeInput(0, 'A0-0', 3);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(1, 'a1', 3);
    expect(h.results()).toEqual([kvt(1, 'A1+a1', 3)]);
    await h.left.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 1), kvt(0, 'A0-0+null', 3)]);
    await h.right.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([kvt(2, 'dummy+dummy', 401)]);
  });

  it('KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor: a later right record flushes them too', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 0));
    await h.left.pipeInput(0, 'A0', 1);
    await h.left.pipeInput(1, 'A1', 2);
    await h.left.pipeInput(0, 'A0-0', 3);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(1, 'a1', 3);
    expect(h.results()).toEqual([kvt(1, 'A1+a1', 3)]);
    await h.right.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 1), kvt(0, 'A0-0+null', 3)]);
    await h.left.pipeInput(2, 'dummy', 402);
    expect(h.results()).toEqual([kvt(2, 'dummy+dummy', 402)]);
  });

  it('KStreamKStreamLeftJoinTest.testRightNonJoinedRecordsAreNeverEmittedByTheLeftProcessor: unmatched right records stay silent', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 0));
    await h.right.pipeInput(0, 'A0', 1);
    await h.right.pipeInput(1, 'A1', 2);
    await h.right.pipeInput(0, 'A0-0', 3);
    expect(h.results()).toEqual([]);
    await h.left.pipeInput(1, 'a1', 3);
    expect(h.results()).toEqual([kvt(1, 'a1+A1', 3)]);
    await h.left.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(2, 'dummy', 402);
    expect(h.results()).toEqual([kvt(2, 'dummy+dummy', 402)]);
  });

  it('KStreamKStreamLeftJoinTest.testRightNonJoinedRecordsAreNeverEmittedByTheRightProcessor: nor when the right side advances time', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.right.pipeInput(0, 'A0', 1);
    await h.right.pipeInput(1, 'A1', 2);
    await h.right.pipeInput(0, 'A0-0', 3);
    expect(h.results()).toEqual([]);
    await h.left.pipeInput(1, 'a1', 3);
    expect(h.results()).toEqual([kvt(1, 'a1+A1', 3)]);
    await h.right.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([]);
    await h.left.pipeInput(2, 'dummy', 402);
    expect(h.results()).toEqual([kvt(2, 'dummy+dummy', 402)]);
  });

  it('KStreamKStreamLeftJoinTest.testLeftJoinedRecordsWithZeroAfterAreEmitted: with after(0) a left record is unmatched as soon as time passes it', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100).after(0));
    expect(h.driver.topology.copartitionGroups()).toEqual([[topic1, topic2]]);
    await h.push('left', 'A', (i) => 1000 + i);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 1000), kvt(1, 'A1+null', 1001), kvt(2, 'A2+null', 1002)]);
    await h.push('right', 'a', 999);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 1000), kvt(1, 'A1+a1', 1001), kvt(2, 'A2+a2', 1002), kvt(3, 'A3+a3', 1003)]);
    await h.push('right', 'b', 1000);
    expect(h.results()).toEqual([kvt(0, 'A0+b0', 1000), kvt(1, 'A1+b1', 1001), kvt(2, 'A2+b2', 1002), kvt(3, 'A3+b3', 1003)]);
    await h.push('right', 'c', 1001);
    expect(h.results()).toEqual([kvt(1, 'A1+c1', 1001), kvt(2, 'A2+c2', 1002), kvt(3, 'A3+c3', 1003)]);
    await h.push('right', 'd', 1002);
    expect(h.results()).toEqual([kvt(2, 'A2+d2', 1002), kvt(3, 'A3+d3', 1003)]);
    await h.push('right', 'e', 1003);
    expect(h.results()).toEqual([kvt(3, 'A3+e3', 1003)]);
    await h.push('right', 'f', 1100);
    expect(h.results()).toEqual([]);
  });

  it('KStreamKStreamLeftJoinTest.runLeftJoin (testLeftJoinWithDefaultSuppliers): two window stores and one shared buffer; joined records are never emitted as unmatched', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    expect(h.driver.getAllStateStores().size).toBe(3);
    await h.push('left', 'A', undefined, 2);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', undefined, 2);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 0), kvt(1, 'A1+a1', 0)]);
    await h.push('left', 'B', undefined, 3);
    expect(h.results()).toEqual([kvt(0, 'B0+a0', 0), kvt(1, 'B1+a1', 0)]);
    await h.push('right', 'b');
    expect(h.results()).toEqual([kvt(0, 'A0+b0', 0), kvt(0, 'B0+b0', 0), kvt(1, 'A1+b1', 0), kvt(1, 'B1+b1', 0), kvt(2, 'B2+b2', 0)]);
    await h.push('left', 'C');
    expect(h.results()).toEqual([kvt(0, 'C0+a0', 0), kvt(0, 'C0+b0', 0), kvt(1, 'C1+a1', 0), kvt(1, 'C1+b1', 0), kvt(2, 'C2+b2', 0), kvt(3, 'C3+b3', 0)]);
    await h.left.pipeInput(0, 'dummy', 1000);
    expect(h.results()).toEqual([]);
  });

  it('KStreamKStreamLeftJoinTest.testOrdering: closed unmatched records are emitted before the arriving record\'s own results', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.left.pipeInput(0, 'A0', 0);
    await h.left.pipeInput(1, 'A1', 100);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(1, 'a1', 110);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 0), kvt(1, 'A1+a1', 110)]);
  });

  it('KStreamKStreamLeftJoinTest.testGracePeriod: after the window ends but within grace nothing is emitted; after grace the unmatched are', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 10));
    expect(h.driver.topology.copartitionGroups()).toEqual([[topic1, topic2]]);
    await h.push('left', 'A', 0, 2);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', 101);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(0, 'dummy', 1201);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 0), kvt(1, 'A1+null', 0)]);
  });

  it('KStreamKStreamLeftJoinTest.testWindowing (upper and lower window bounds): unmatched records at the window edges, late ones emitted at once', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.push('left', 'A', 0, 2);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', 0);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 0), kvt(1, 'A1+a1', 0)]);

    // testUpperWindowBound
    await h.push('right', 'b', (i) => 1000 + i);
    expect(h.results()).toEqual([]);
    await h.push('left', 'B', 1100);
    expect(h.results()).toEqual([kvt(0, 'B0+b0', 1100), kvt(1, 'B1+b1', 1100), kvt(2, 'B2+b2', 1100), kvt(3, 'B3+b3', 1100)]);
    await h.push('left', 'C', 1101);
    expect(h.results()).toEqual([kvt(1, 'C1+b1', 1101), kvt(2, 'C2+b2', 1101), kvt(3, 'C3+b3', 1101)]);
    await h.push('left', 'D', 1102);
    expect(h.results()).toEqual([kvt(2, 'D2+b2', 1102), kvt(3, 'D3+b3', 1102)]);
    await h.push('left', 'E', 1103);
    expect(h.results()).toEqual([kvt(3, 'E3+b3', 1103)]);
    await h.push('left', 'F', 1104);
    expect(h.results()).toEqual([]);
    await h.left.pipeInput(0, 'dummy', 1104 + 301);
    expect(h.results()).toEqual([
      kvt(0, 'C0+null', 1101),
      kvt(0, 'D0+null', 1102), kvt(1, 'D1+null', 1102),
      kvt(0, 'E0+null', 1103), kvt(1, 'E1+null', 1103), kvt(2, 'E2+null', 1103),
      kvt(0, 'F0+null', 1104), kvt(1, 'F1+null', 1104), kvt(2, 'F2+null', 1104), kvt(3, 'F3+null', 1104),
    ]);

    // testLowerWindowBound: these records are already past their window when they arrive
    await h.push('left', 'G', 899);
    expect(h.results()).toEqual([kvt(0, 'G0+null', 899), kvt(1, 'G1+null', 899), kvt(2, 'G2+null', 899), kvt(3, 'G3+null', 899)]);
    await h.push('left', 'H', 900);
    expect(h.results()).toEqual([kvt(0, 'H0+b0', 1000), kvt(1, 'H1+null', 900), kvt(2, 'H2+null', 900), kvt(3, 'H3+null', 900)]);
    await h.push('left', 'I', 901);
    expect(h.results()).toEqual([kvt(0, 'I0+b0', 1000), kvt(1, 'I1+b1', 1001), kvt(2, 'I2+null', 901), kvt(3, 'I3+null', 901)]);
    await h.push('left', 'J', 902);
    expect(h.results()).toEqual([kvt(0, 'J0+b0', 1000), kvt(1, 'J1+b1', 1001), kvt(2, 'J2+b2', 1002), kvt(3, 'J3+null', 902)]);
    await h.push('left', 'K', 903);
    expect(h.results()).toEqual([kvt(0, 'K0+b0', 1000), kvt(1, 'K1+b1', 1001), kvt(2, 'K2+b2', 1002), kvt(3, 'K3+b3', 1003)]);
    await h.left.pipeInput(0, 'dummy', 903 + 300);
    expect(h.results()).toEqual([kvt(0, 'dummy+null', 1203)]);
  });

  it('KStreamKStreamLeftJoinTest.shouldNotEmitLeftJoinResultForAsymmetricWindow: with before(0) a left record waits only for later right records', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100).before(0));
    await h.push('left', 'A', (i) => i, 2);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(0, 'a0', 100);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 100)]);
    await h.right.pipeInput(1, 'a1', 102);
    expect(h.results()).toEqual([kvt(1, 'A1+null', 1)]);
  });

  it('reference rule: in a left join a null-key left record with a value is emitted at once as joiner(value, null)', async () => {
    const h = leftJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.left.pipeInput(null as unknown as number, 'A', 5);
    await h.right.pipeInput(null as unknown as number, 'a', 6);
    expect(h.results()).toEqual([kvt(null, 'A+null', 5)]);
    expect(h.driver.metrics().dropped).toBe(1);
  });
});

describe('KStream-KStream join time', () => {
  it('is shared by the two sides of a join within one task, never across tasks running the same topology', async () => {
    const first = new JoinHarness('left', JoinWindows.ofTimeDifferenceWithNoGrace(100));
    const topology = first.driver.topology;
    const second = new TopologyTestDriver(topology);
    try {
      await first.left.pipeInput(0, 'A', 0);
      await second.createInputTopic('topic1', Serdes.int32(), Serdes.string()).pipeInput(1, 'B', 500);
      await first.right.pipeInput(9, 'x', 150);
      expect(first.results()).toEqual([kvt(0, 'A+null', 0)]);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
