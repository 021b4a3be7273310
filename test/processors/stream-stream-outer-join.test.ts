import { afterEach, describe, expect, it } from 'vitest';
import { JoinWindows } from 'tributary';
import { kvt } from './join-test-utils.ts';
import { JoinHarness, topic1, topic2 } from './stream-stream-test-utils.ts';

let harness: JoinHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const outerJoin = (windows: JoinWindows): JoinHarness => (harness = new JoinHarness('outer', windows));

describe('KStream-KStream outer join (ported from KStreamKStreamOuterJoinTest)', () => {
  it('KStreamKStreamOuterJoinTest.testOuterJoinDuplicates: unmatched records of both sides, right before left at the same timestamp', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 10));
    await h.left.pipeInput(0, 'A0', 0);
    await h.left.pipeInput(0, 'A0-0', 0);
    await h.right.pipeInput(1, 'a1', 0);
    await h.right.pipeInput(1, 'a1-0', 0);
    await h.right.pipeInput(1, 'a0', 111);
    await h.right.pipeInput(3, 'dummy', 211);
    expect(h.results()).toEqual([kvt(1, 'null+a1', 0), kvt(1, 'null+a1-0', 0), kvt(0, 'A0+null', 0), kvt(0, 'A0-0+null', 0)]);
    await h.left.pipeInput(2, 'A2', 200);
    await h.left.pipeInput(2, 'A2-0', 200);
    await h.right.pipeInput(2, 'a2', 201);
    await h.right.pipeInput(2, 'a2-0', 201);
    expect(h.results()).toEqual([kvt(2, 'A2+a2', 201), kvt(2, 'A2-0+a2', 201), kvt(2, 'A2+a2-0', 201), kvt(2, 'A2-0+a2-0', 201)]);
    await h.right.pipeInput(3, 'dummy', 1500);
    expect(h.results()).toEqual([kvt(1, 'null+a0', 111), kvt(3, 'null+dummy', 211)]);
  });

  it('KStreamKStreamOuterJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
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

  it('KStreamKStreamOuterJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 0));
    await h.left.pipeInput(0, 'A0', 1);
    await h.left.pipeInput(1, 'A1', 2);
    await h.left.pipeInput(0, 'A0-0', 3);
    await h.right.pipeInput(1, 'a1', 3);
    expect(h.results()).toEqual([kvt(1, 'A1+a1', 3)]);
    await h.right.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 1), kvt(0, 'A0-0+null', 3)]);
    await h.left.pipeInput(2, 'dummy', 402);
    expect(h.results()).toEqual([kvt(2, 'dummy+dummy', 402)]);
  });

  it('KStreamKStreamOuterJoinTest.testRightExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.right.pipeInput(0, 'A0', 1);
    await h.right.pipeInput(1, 'A1', 2);
    await h.right.pipeInput(0, 'A0-0', 3);
    expect(h.results()).toEqual([]);
    await h.left.pipeInput(1, 'a1', 3);
    expect(h.results()).toEqual([kvt(1, 'a1+A1', 3)]);
    await h.left.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([kvt(0, 'null+A0', 1), kvt(0, 'null+A0-0', 3)]);
    await h.right.pipeInput(2, 'dummy', 402);
    expect(h.results()).toEqual([kvt(2, 'dummy+dummy', 402)]);
  });

  it('KStreamKStreamOuterJoinTest.testRightExpiredNonJoinedRecordsAreEmittedByTheRightProcessor', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 0));
    await h.right.pipeInput(0, 'A0', 1);
    await h.right.pipeInput(1, 'A1', 2);
    await h.right.pipeInput(0, 'A0-0', 3);
    await h.left.pipeInput(1, 'a1', 3);
    expect(h.results()).toEqual([kvt(1, 'a1+A1', 3)]);
    await h.right.pipeInput(2, 'dummy', 401);
    expect(h.results()).toEqual([kvt(0, 'null+A0', 1), kvt(0, 'null+A0-0', 3)]);
    await h.left.pipeInput(2, 'dummy', 402);
    expect(h.results()).toEqual([kvt(2, 'dummy+dummy', 402)]);
  });

  it('KStreamKStreamOuterJoinTest.testOrdering: closed unmatched records first, then the arriving record\'s match', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.left.pipeInput(0, 'A0', 0);
    await h.left.pipeInput(1, 'A1', 100);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(1, 'a1', 110);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 0), kvt(1, 'A1+a1', 110)]);
  });

  it('KStreamKStreamOuterJoinTest.testGracePeriod: unmatched records of both sides wait for window end + grace', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceAndGrace(100, 10));
    expect(h.driver.topology.copartitionGroups()).toEqual([[topic1, topic2]]);
    await h.left.pipeInput(0, 'A0', 0);
    await h.right.pipeInput(1, 'a1', 0);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(0, 'a0', 101);
    await h.left.pipeInput(1, 'A1', 101);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(0, 'dummy', 211);
    expect(h.results()).toEqual([kvt(1, 'null+a1', 0), kvt(0, 'A0+null', 0)]);
  });

  it('KStreamKStreamOuterJoinTest.runOuterJoin (testOuterJoinWithDefaultSuppliers): matched records are never emitted as unmatched', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
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
    await h.left.pipeInput(0, 'dummy', 400);
    expect(h.results()).toEqual([]);
  });

  it('KStreamKStreamOuterJoinTest.testWindowing (upper and lower window bounds)', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.push('left', 'A', 0, 2);
    expect(h.results()).toEqual([]);
    await h.push('right', 'a', 0);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 0), kvt(1, 'A1+a1', 0)]);

    // testUpperWindowBound
    await h.push('right', 'b', (i) => 1000 + i);
    expect(h.results()).toEqual([kvt(2, 'null+a2', 0), kvt(3, 'null+a3', 0)]);
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

    // testLowerWindowBound
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
    await h.left.pipeInput(0, 'dummy', 903 + 200);
    expect(h.results()).toEqual([kvt(0, 'dummy+null', 1103)]);
  });

  it('KStreamKStreamOuterJoinTest.shouldNotEmitLeftJoinResultForAsymmetricBeforeWindow', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100).before(0));
    await h.push('left', 'A', (i) => i, 2);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(0, 'a0', 100);
    expect(h.results()).toEqual([kvt(0, 'A0+a0', 100)]);
    await h.right.pipeInput(1, 'a1', 102);
    expect(h.results()).toEqual([kvt(1, 'A1+null', 1)]);
    await h.right.pipeInput(2, 'a2', 103);
    expect(h.results()).toEqual([kvt(1, 'null+a1', 102)]);
    await h.left.pipeInput(2, 'A2', 103);
    expect(h.results()).toEqual([kvt(2, 'A2+a2', 103)]);
  });

  // Same inputs as Kafka's test; since KAFKA-15417 (the rule in our reference: emitted once
  // `tl + after + grace < streamTime`), A0 (after = 0) is emitted as soon as A1 moves time past it,
  // where the older version of this test still expected it later, with a2.
  it('KStreamKStreamOuterJoinTest.shouldNotEmitLeftJoinResultForAsymmetricAfterWindow (with the KAFKA-15417 rule)', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100).after(0));
    await h.push('left', 'A', (i) => i, 2);
    expect(h.results()).toEqual([kvt(0, 'A0+null', 0)]);
    await h.right.pipeInput(1, 'a1', 1);
    expect(h.results()).toEqual([kvt(1, 'A1+a1', 1)]);
    await h.right.pipeInput(2, 'a2', 101);
    expect(h.results()).toEqual([]);
    await h.right.pipeInput(3, 'a3', 101);
    expect(h.results()).toEqual([]);
    await h.left.pipeInput(2, 'A2', 201);
    expect(h.results()).toEqual([kvt(2, 'A2+a2', 201)]);
  });

  it('reference rule: in an outer join a null-key record of either side is emitted at once with null for the other side', async () => {
    const h = outerJoin(JoinWindows.ofTimeDifferenceWithNoGrace(100));
    await h.left.pipeInput(null as unknown as number, 'A', 5);
    await h.right.pipeInput(null as unknown as number, 'a', 6);
    expect(h.results()).toEqual([kvt(null, 'A+null', 5), kvt(null, 'null+a', 6)]);
  });
});
