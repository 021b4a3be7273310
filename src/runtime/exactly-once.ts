import type { TaskStateBackend } from '../state/backend.ts';
import type { AppliedPositions } from './positions.ts';
import { persistedStore, type PersistedStore } from '../state/redis-codec.ts';
import type { StoreSpec } from '../state/store.ts';
import type { SubTopology } from '../topology/nodes.ts';
import { INTERNAL_TOPIC_CONFIGS, parseTpKey, tpKey, type TopicPartitionOffset, type TopicSpec, type TransactionalProducer, type Transport } from '../transport/transport.ts';
import type { IncomingRecord, OutgoingRecord } from '../transport/types.ts';
import type { StreamTask, TaskEnvironment } from './task.ts';

/*
 * Exactly-once (Kafka Streams' "EOS v1", with Redis as a snapshot of the changelogs): each task has
 * its own transactional producer (`<applicationId>-<taskId>`) and outbox. A commit writes, in one
 * Kafka transaction, the task's outputs, its stores' changes to their changelog topics and its
 * consumed offsets; only then Redis gets the same changes, with the changelog offsets they reach.
 * A restore claims the transactional id first (fencing a zombie and aborting its transaction),
 * loads the Redis snapshot and replays the changelogs from the snapshot's offsets to their end.
 */

/** Prefix of the changelog offsets in a task's checkpoint: `changelog:<topic>:<partition>`. */
const CHECKPOINT_PREFIX = 'changelog:';

/** The changelog topic of a store: `<applicationId>-<store>-changelog`. */
export function changelogTopic(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

/** The changelog topics of the stream tasks' stores (compacted), each with its sub-topology's partition count. */
export function changelogTopics(subTopologies: readonly SubTopology[], applicationId: string, partitionsOf: (sub: SubTopology) => number): TopicSpec[] {
  return subTopologies.flatMap((sub) =>
    sub.stores.map((store) => ({ topic: changelogTopic(applicationId, store), partitions: partitionsOf(sub), configs: { ...INTERNAL_TOPIC_CONFIGS, 'cleanup.policy': 'compact' } })),
  );
}

/** One task's exactly-once side: its outbox, its stores' changelogs and its transactional producer. */
export class ExactlyOnceTask {
  /** What the task sent since its last commit; the commit's transaction writes it. */
  readonly outbox: OutgoingRecord[] = [];
  private taskId = '';
  /** The task's applied positions, written to Redis with each commit (the changelog does not carry them: a stale set only skips less). */
  private applied: AppliedPositions | undefined;
  private partition = 0;
  /** The task's persisted stores by changelog topic. */
  private readonly stores = new Map<string, PersistedStore>();
  private producer: TransactionalProducer | undefined;
  /** `changelog:<topic>:<partition>` → the offset after the changes applied so far (what the checkpoint records). */
  private readonly positions = new Map<string, number>();
  /** Changelog records applied by the last restore. */
  replayed = 0;

  constructor(private readonly applicationId: string) {}

  /** A copy of `base` whose `send` appends to the outbox. */
  environment(base: TaskEnvironment, sent: (record: OutgoingRecord) => void): TaskEnvironment {
    return {
      ...base,
      send: (record) => {
        this.outbox.push(record);
        sent(record);
      },
    };
  }

  /** Binds the task's stores (once the task created them) and makes them record their changes. */
  bind(task: StreamTask, specs: ReadonlyMap<string, StoreSpec>): void {
    this.taskId = task.id;
    this.partition = task.partition;
    this.applied = task.applied;
    for (const store of task.ownStores().values()) {
      const persisted = persistedStore(`trib:{${this.applicationId}:${task.id}}`, store, specs.get(store.name));
      if (!persisted) continue;
      persisted.changes.enabled = true;
      this.stores.set(changelogTopic(this.applicationId, store.name), persisted);
    }
  }

  /** Creates the task's transactional producer, which fences an older owner and aborts its open transaction. */
  async claim(transport: Transport): Promise<void> {
    this.producer = await transport.transactionalProducer!(`${this.applicationId}-${this.taskId}`);
  }

  /** Where the replay of each changelog partition starts: the checkpoint's offset, else 0. */
  changelogStarts(checkpoint: ReadonlyMap<string, number>): TopicPartitionOffset[] {
    return [...this.stores.keys()].map((topic) => {
      const offset = checkpoint.get(`${CHECKPOINT_PREFIX}${tpKey(topic, this.partition)}`) ?? 0;
      this.positions.set(`${CHECKPOINT_PREFIX}${tpKey(topic, this.partition)}`, offset);
      return { topic, partition: this.partition, offset };
    });
  }

  /** Applies changelog records to the stores, recorded as changes (Redis gets them at `settle`). */
  apply(records: IncomingRecord[]): void {
    for (const record of records) {
      const store = this.stores.get(record.topic);
      if (!store || record.key === null) continue;
      store.apply(record.key.toString('utf8'), record.value === null ? null : record.value.toString('utf8'));
      this.positions.set(`${CHECKPOINT_PREFIX}${tpKey(record.topic, record.partition)}`, record.offset + 1);
      this.replayed++;
    }
  }

  /** After a restore: writes what the replay applied to Redis (or, without Redis, drops it: the changelog has it). */
  settle(inputs: ReadonlyMap<string, number>, backend: TaskStateBackend | undefined): Promise<void> {
    return this.persist(inputs, backend);
  }

  /**
   * Commits the task: one transaction with the outbox, the stores' pending changes (to the
   * changelogs, on the task's partition) and the consumed offsets (to the group `groupId`); then
   * the same changes and offsets, with the changelog offsets, to Redis. Rejects with
   * `ProducerFencedError` (Kafka) or `FencedError` (Redis) when another owner took the task.
   */
  async commit(consumed: ReadonlyMap<string, number>, groupId: string, backend: TaskStateBackend | undefined): Promise<void> {
    const records = this.outbox.splice(0);
    const now = Date.now();
    for (const [topic, store] of this.stores) {
      for (const change of store.changes.peek()) {
        const value = change.value === null ? null : Buffer.from(store.encodeValue(change.value), 'utf8');
        records.push({ topic, partition: this.partition, key: Buffer.from(store.field(change), 'utf8'), value, timestamp: now, headers: {} });
      }
    }
    const offsets: TopicPartitionOffset[] = [];
    for (const [key, offset] of consumed) {
      offsets.push({ ...parseTpKey(key), offset });
    }
    const ends = await this.producer!.commit(records, offsets, groupId);
    for (const [key, end] of ends) {
      const checkpointKey = `${CHECKPOINT_PREFIX}${key}`;
      if (this.positions.has(checkpointKey)) this.positions.set(checkpointKey, end);
    }
    await this.persist(consumed, backend);
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }

  private async persist(inputs: ReadonlyMap<string, number>, backend: TaskStateBackend | undefined): Promise<void> {
    if (!backend) {
      for (const store of this.stores.values()) store.changes.take();
      return;
    }
    await backend.commit(new Map([...inputs, ...this.positions]), this.applied?.entries());
  }
}
