import './kafkajs-patches.ts';
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { TopicPartition } from './transport.ts';

/** One group member as the assignment sees it. */
export interface AssignmentMember {
  memberId: string;
  /** Topics the member subscribed to. */
  topics: string[];
  /** Partitions the member owned before this rebalance (kept when the balance allows). */
  owned: TopicPartition[];
}

/** What a co-partitioned assignment is computed from. */
export interface AssignmentInput {
  members: AssignmentMember[];
  /** Every topic to assign, with its partition count. */
  partitionCounts: Map<string, number>;
  /** Topics whose partition *p* goes to one member; topics in no group are assigned alone. */
  copartitionGroups: string[][];
}

/** memberId → topic → partitions (sorted); every member is present, possibly with nothing. */
export type Assignment = Map<string, Map<string, number[]>>;

/** Partition *p* of the topics of one co-partition group: the unit that moves between members. */
interface Unit {
  topics: string[];
  partition: number;
}

/**
 * Assigns partitions so that partition *p* of every topic in a co-partition group lands on one
 * member, balancing the number of units (group × partition) over members: counts differ by at most
 * one. Members keep units they owned while the balance allows it (sticky); the rest go to the
 * least loaded member, ties broken by sorted member id, which is plain round-robin on a fresh group.
 */
export function assignCopartitioned(input: AssignmentInput): Assignment {
  const memberIds = input.members.map((m) => m.memberId).sort();
  const assignment: Assignment = new Map(memberIds.map((id) => [id, new Map()]));
  if (memberIds.length === 0) return assignment;

  const units = unitsOf(input.partitionCounts, input.copartitionGroups);
  const members = new Map(input.members.map((m) => [m.memberId, m]));
  const eligible = (unit: Unit): string[] => {
    const subscribed = memberIds.filter((id) => unit.topics.every((t) => members.get(id)!.topics.includes(t)));
    return subscribed.length > 0 ? subscribed : memberIds;
  };

  const floor = Math.floor(units.length / memberIds.length);
  let extraSlots = units.length % memberIds.length;
  const load = new Map(memberIds.map((id) => [id, 0]));
  const owner = new Map<Unit, string>();
  const give = (unit: Unit, memberId: string): void => {
    owner.set(unit, memberId);
    load.set(memberId, load.get(memberId)! + 1);
  };

  const previousOwner = previousOwners(input.members);
  const claims = (unit: Unit): string | undefined => {
    const candidates = eligible(unit);
    for (const topic of unit.topics) {
      const id = previousOwner.get(`${topic}:${unit.partition}`);
      if (id !== undefined && candidates.includes(id)) return id;
    }
    return undefined;
  };
  // Keep owned units up to the floor, then let members that owned more keep one extra each while
  // the remainder lasts; only then hand out what is left.
  const leftOver: Unit[] = [];
  for (const unit of units) {
    const id = claims(unit);
    if (id !== undefined && load.get(id)! < floor) give(unit, id);
    else leftOver.push(unit);
  }
  const unassigned: Unit[] = [];
  for (const unit of leftOver) {
    const id = claims(unit);
    if (id !== undefined && extraSlots > 0 && load.get(id)! === floor) {
      give(unit, id);
      extraSlots--;
    } else {
      unassigned.push(unit);
    }
  }
  for (const unit of unassigned) {
    const candidates = eligible(unit);
    let best = candidates[0]!;
    for (const id of candidates) if (load.get(id)! < load.get(best)!) best = id;
    give(unit, best);
  }

  for (const [unit, id] of owner) {
    const topics = assignment.get(id)!;
    for (const topic of unit.topics) {
      const partitions = topics.get(topic) ?? [];
      partitions.push(unit.partition);
      topics.set(topic, partitions);
    }
  }
  for (const topics of assignment.values()) for (const partitions of topics.values()) partitions.sort((a, b) => a - b);
  return assignment;
}

/** Units in a stable order: groups as given (ungrouped topics sorted after them), then partition. */
function unitsOf(partitionCounts: Map<string, number>, copartitionGroups: string[][]): Unit[] {
  const grouped = new Set<string>();
  const groups: string[][] = [];
  for (const group of copartitionGroups) {
    const topics = [...new Set(group)].filter((t) => partitionCounts.has(t) && !grouped.has(t)).sort();
    if (topics.length === 0) continue;
    for (const t of topics) grouped.add(t);
    groups.push(topics);
  }
  for (const topic of [...partitionCounts.keys()].sort()) if (!grouped.has(topic)) groups.push([topic]);

  const units: Unit[] = [];
  for (const topics of groups) {
    const max = Math.max(...topics.map((t) => partitionCounts.get(t)!));
    for (let partition = 0; partition < max; partition++) {
      units.push({ topics: topics.filter((t) => partition < partitionCounts.get(t)!), partition });
    }
  }
  return units;
}

/** `topic:partition` → the first member (by id) that reports owning it. */
function previousOwners(members: AssignmentMember[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const member of [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))) {
    for (const { topic, partition } of member.owned) {
      const key = `${topic}:${partition}`;
      if (!owners.has(key)) owners.set(key, member.memberId);
    }
  }
  return owners;
}

/** Options of the kafkajs co-partitioning assigner. */
export interface CopartitionedAssignerOptions {
  copartitionGroups: string[][];
  /** The partitions this member owns now; sent to the group leader so that assignment is sticky. */
  ownedPartitions?: () => TopicPartition[];
}

/** The protocol name the group members agree on. */
export const COPARTITIONED_ASSIGNER_NAME = 'TributaryCopartitionedAssigner';
const VERSION = 1;

/** A kafkajs `PartitionAssigner` that applies `assignCopartitioned` to the group. */
export function copartitionedAssigner(options: CopartitionedAssignerOptions): PartitionAssigner {
  return ({ cluster }) => ({
    name: COPARTITIONED_ASSIGNER_NAME,
    version: VERSION,

    protocol({ topics }) {
      const owned = options.ownedPartitions?.() ?? [];
      return {
        name: COPARTITIONED_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: VERSION,
          topics,
          userData: Buffer.from(JSON.stringify(owned.map(({ topic, partition }) => [topic, partition]))),
        }),
      };
    },

    async assign({ members, topics }) {
      const decoded: AssignmentMember[] = members.map(({ memberId, memberMetadata }) => {
        const metadata = decodeMetadata(memberMetadata);
        return { memberId, topics: metadata?.topics ?? topics, owned: metadata?.owned ?? [] };
      });
      const allTopics = new Set([...topics, ...decoded.flatMap((m) => m.topics)]);
      const partitionCounts = new Map<string, number>();
      for (const topic of allTopics) {
        const count = cluster.findTopicPartitionMetadata(topic).length;
        if (count > 0) partitionCounts.set(topic, count);
      }
      const assignment = assignCopartitioned({ members: decoded, partitionCounts, copartitionGroups: options.copartitionGroups });
      return [...assignment].map(([memberId, byTopic]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: Object.fromEntries(byTopic),
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

function decodeMetadata(buffer: Buffer): { topics: string[]; owned: TopicPartition[] } | undefined {
  try {
    const { topics, userData } = AssignerProtocol.MemberMetadata.decode(buffer)!;
    const owned: TopicPartition[] = [];
    if (userData && userData.length > 0) {
      const parsed: unknown = JSON.parse(userData.toString('utf8'));
      if (Array.isArray(parsed)) {
        for (const entry of parsed) {
          if (Array.isArray(entry) && typeof entry[0] === 'string' && Number.isInteger(entry[1])) owned.push({ topic: entry[0], partition: entry[1] as number });
        }
      }
    }
    return { topics, owned };
  } catch {
    return undefined;
  }
}
