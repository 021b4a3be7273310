import type { StateStore, StoreSpec } from './store.ts';

/** Restore progress of one task: entries loaded so far out of the total the backend reported. */
export interface RestoreProgress {
  taskId: string;
  store: string;
  loaded: number;
  total: number;
}

/** What a task's persistent state holds when the task is (re)assigned. */
export interface RestoredState {
  /** The epoch this owner claimed; commits carry it and fail once another owner claimed a newer one. */
  epoch: number;
  /** The checkpoint: `topic:partition` → offset of the next record to process. Empty for a task never committed. */
  offsets: Map<string, number>;
  /** Entries loaded into the task's stores. */
  entries: number;
  /** The positions of internal-topic records the task had applied (`AppliedPositions.entries()` as committed). */
  applied: Map<string, string>;
}

/**
 * The persistent side of one task's stores. The task reads and writes its in-memory stores
 * (the task-local cache); each store's `changes` log is the write-behind buffer, and `commit`
 * writes it, with the task's source offsets, in one atomic step guarded by the task's epoch.
 */
export interface TaskStateBackend {
  readonly taskId: string;
  /**
   * Claims the task (increments its epoch, fencing any previous owner), enables change recording
   * on the stores, loads their persisted entries into them (without recording them as changes),
   * and returns the checkpoint.
   */
  open(onProgress?: (progress: RestoreProgress) => void): Promise<RestoredState>;
  /**
   * Atomically writes every store's pending changes (deletes for tombstones and expired windows),
   * the offsets and the applied positions of internal-topic records, if and only if the task's
   * epoch is still ours; otherwise rejects with `FencedError` and writes nothing. The pending
   * changes are taken from the stores either way.
   */
  commit(offsets: ReadonlyMap<string, number>, applied?: ReadonlyMap<string, string>): Promise<void>;
}

/** Where a running application keeps state between runs (Redis), shared by all its tasks. */
export interface StateBackend {
  /** Connects; fails fast with a message naming the URL when the server cannot be reached. */
  connect(): Promise<void>;
  /** The backend of one task, over the in-memory stores the task created from `specs`. */
  forTask(taskId: string, stores: ReadonlyMap<string, StateStore>, specs: ReadonlyMap<string, StoreSpec>): TaskStateBackend;
  close(): Promise<void>;
}

/** A commit refused because another owner claimed the task since (this process is a zombie for it). */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly taskId: string,
    readonly ownEpoch: number,
    readonly currentEpoch: number,
  ) {
    super(`task ${taskId} was claimed by another owner (epoch ${currentEpoch}, ours ${ownEpoch}): its commit is refused`);
  }
}
