import { describe, expect, it } from 'vitest';
import { AssignerProtocol, type Cluster, type PartitionMetadata } from 'kafkajs';
import { assignCopartitioned, copartitionedAssigner, type Assignment, type AssignmentMember } from '../../src/transport/copartitioned-assigner.ts';

const member = (memberId: string, topics: string[], owned: Array<[string, number]> = []): AssignmentMember => ({
  memberId,
  topics,
  owned: owned.map(([topic, partition]) => ({ topic, partition })),
});

const counts = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

function partitionsOf(assignment: Assignment, memberId: string, topic: string): number[] {
  return assignment.get(memberId)?.get(topic) ?? [];
}

/** Number of tasks (group × partition) per member, where every topic of `groups` counts once per partition. */
function units(assignment: Assignment, memberId: string, groups: string[][]): number {
  const byTopic = assignment.get(memberId)!;
  let n = 0;
  const grouped = new Set(groups.flat());
  for (const group of groups) n += new Set(group.flatMap((t) => byTopic.get(t) ?? [])).size;
  for (const [topic, ps] of byTopic) if (!grouped.has(topic)) n += ps.length;
  return n;
}

describe('assignCopartitioned', () => {
  it('gives partition p of every topic in a co-partition group to the same member', () => {
    const topics = ['orders', 'payments', 'clicks'];
    const assignment = assignCopartitioned({
      members: [member('b', topics), member('a', topics), member('c', topics)],
      partitionCounts: counts({ orders: 6, payments: 6, clicks: 3 }),
      copartitionGroups: [['orders', 'payments']],
    });
    for (const id of ['a', 'b', 'c']) {
      expect(partitionsOf(assignment, id, 'orders')).toEqual(partitionsOf(assignment, id, 'payments'));
    }
    const allOrders = ['a', 'b', 'c'].flatMap((id) => partitionsOf(assignment, id, 'orders')).sort();
    expect(allOrders).toEqual([0, 1, 2, 3, 4, 5]);
    const allClicks = ['a', 'b', 'c'].flatMap((id) => partitionsOf(assignment, id, 'clicks')).sort();
    expect(allClicks).toEqual([0, 1, 2]);
  });

  it('a fresh group is assigned round-robin over sorted member ids, balancing the number of tasks', () => {
    const topics = ['left', 'right'];
    const assignment = assignCopartitioned({
      members: [member('m2', topics), member('m1', topics), member('m3', topics)],
      partitionCounts: counts({ left: 4, right: 4 }),
      copartitionGroups: [['left', 'right']],
    });
    expect(partitionsOf(assignment, 'm1', 'left')).toEqual([0, 3]);
    expect(partitionsOf(assignment, 'm2', 'left')).toEqual([1]);
    expect(partitionsOf(assignment, 'm3', 'left')).toEqual([2]);
    expect(partitionsOf(assignment, 'm1', 'right')).toEqual([0, 3]);
  });

  it('topics in no group are spread per partition, and every member is listed even with nothing', () => {
    const assignment = assignCopartitioned({
      members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
      partitionCounts: counts({ t: 2 }),
      copartitionGroups: [],
    });
    expect(partitionsOf(assignment, 'a', 't')).toEqual([0]);
    expect(partitionsOf(assignment, 'b', 't')).toEqual([1]);
    expect(assignment.get('c')?.size).toBe(0);
  });

  it('task counts differ by at most one across members', () => {
    const groups = [['a1', 'a2'], ['b1', 'b2', 'b3']];
    const topics = [...groups.flat(), 'solo'];
    for (let n = 1; n <= 7; n++) {
      const members = Array.from({ length: n }, (_, i) => member(`member-${i}`, topics));
      const assignment = assignCopartitioned({
        members,
        partitionCounts: counts({ a1: 5, a2: 5, b1: 3, b2: 3, b3: 3, solo: 2 }),
        copartitionGroups: groups,
      });
      const loads = members.map((m) => units(assignment, m.memberId, groups));
      expect(loads.reduce((x, y) => x + y, 0)).toBe(10);
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
    }
  });

  it('is sticky: when a member joins, the others keep what they owned and only the surplus moves', () => {
    const topics = ['left', 'right'];
    const owned = (ps: number[]): Array<[string, number]> => ps.flatMap((p): Array<[string, number]> => [['left', p], ['right', p]]);
    const assignment = assignCopartitioned({
      members: [member('z-old', topics, owned([0, 1, 2, 3, 4, 5])), member('a-new', topics)],
      partitionCounts: counts({ left: 6, right: 6 }),
      copartitionGroups: [['left', 'right']],
    });
    expect(partitionsOf(assignment, 'z-old', 'left')).toEqual([0, 1, 2]);
    expect(partitionsOf(assignment, 'z-old', 'right')).toEqual([0, 1, 2]);
    expect(partitionsOf(assignment, 'a-new', 'left')).toEqual([3, 4, 5]);
  });

  it('is sticky when a member leaves: the survivors keep theirs and take over the leaver\'s tasks', () => {
    const topics = ['t'];
    const assignment = assignCopartitioned({
      members: [member('a', topics, [['t', 0], ['t', 3]]), member('c', topics, [['t', 2], ['t', 5]])],
      partitionCounts: counts({ t: 6 }),
      copartitionGroups: [],
    });
    expect(partitionsOf(assignment, 'a', 't')).toEqual(expect.arrayContaining([0, 3]));
    expect(partitionsOf(assignment, 'c', 't')).toEqual(expect.arrayContaining([2, 5]));
    expect(partitionsOf(assignment, 'a', 't')).toHaveLength(3);
    expect(partitionsOf(assignment, 'c', 't')).toHaveLength(3);
  });

  it('keeps the balance when previous owners claim more than their share', () => {
    const topics = ['t'];
    const assignment = assignCopartitioned({
      members: [member('a', topics, [['t', 0], ['t', 1], ['t', 2]]), member('b', topics, [['t', 3], ['t', 4]]), member('c', topics), member('d', topics)],
      partitionCounts: counts({ t: 5 }),
      copartitionGroups: [],
    });
    const loads = ['a', 'b', 'c', 'd'].map((id) => partitionsOf(assignment, id, 't').length);
    expect(loads.sort()).toEqual([1, 1, 1, 2]);
  });

  it('gives a topic only to members subscribed to it', () => {
    const assignment = assignCopartitioned({
      members: [member('a', ['x']), member('b', ['x', 'y'])],
      partitionCounts: counts({ x: 2, y: 2 }),
      copartitionGroups: [],
    });
    expect(partitionsOf(assignment, 'a', 'y')).toEqual([]);
    expect(partitionsOf(assignment, 'b', 'y')).toEqual([0, 1]);
  });
});

describe('copartitionedAssigner (kafkajs protocol)', () => {
  it('round-trips member metadata and encodes one assignment per member', async () => {
    const metadata = (n: number): PartitionMetadata[] =>
      Array.from({ length: n }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1] }));
    const cluster = { findTopicPartitionMetadata: (topic: string) => metadata(topic === 'missing' ? 0 : 4) } as unknown as Cluster;
    const logger = {} as Parameters<ReturnType<typeof copartitionedAssigner>>[0]['logger'];
    const owner = copartitionedAssigner({ copartitionGroups: [['l', 'r']], ownedPartitions: () => [{ topic: 'l', partition: 3 }, { topic: 'r', partition: 3 }] })({ cluster, groupId: 'g', logger });
    const fresh = copartitionedAssigner({ copartitionGroups: [['l', 'r']] })({ cluster, groupId: 'g', logger });

    const members = [
      { memberId: 'a', memberMetadata: fresh.protocol({ topics: ['l', 'r'] }).metadata },
      { memberId: 'b', memberMetadata: owner.protocol({ topics: ['l', 'r'] }).metadata },
    ];
    const result = await owner.assign({ members, topics: ['l', 'r'] });
    const decoded = Object.fromEntries(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]));
    expect(decoded.a).toEqual({ l: [0, 1], r: [0, 1] });
    expect(decoded.b).toEqual({ l: [2, 3], r: [2, 3] });
  });
});
