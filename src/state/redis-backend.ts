import { Redis } from 'ioredis';
import { FencedError, type RestoreProgress, type RestoredState, type StateBackend, type TaskStateBackend } from './backend.ts';
import { persistedStore, type PersistedStore } from './redis-codec.ts';
import type { StateStore, StoreSpec } from './store.ts';

/** How the Redis state backend connects and restores. */
export interface RedisStateBackendOptions {
  /** How long `connect()` waits for the server to answer, in ms (default 3000). */
  connectTimeoutMs?: number;
  /** Entries per HSCAN page when a task restores (default 1000). */
  restorePageSize?: number;
  /**
   * How long a commit or restore keeps retrying while Redis is unreachable (it returns from a
   * restart, a failover), in ms, before it fails with RedisUnavailableError. Default 60 000.
   */
  outageTimeoutMs?: number;
  /** Where retries are reported (`Redis at <url> unreachable, retrying (n): ...`). Default `console.warn`. */
  log?: (message: string) => void;
}

/** Retries an operation while Redis is unreachable, with backoff, reporting each retry. */
class OutageRetry {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly log: (message: string) => void,
  ) {}

  async run<T>(operation: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await operation();
        if (attempt > 1) this.log(`Redis at ${this.url} is back after ${((Date.now() - started) / 1000).toFixed(1)} s; resuming`);
        return result;
      } catch (error) {
        if (!isOutage(error)) throw error;
        const reason = (error as Error).message;
        if (Date.now() - started >= this.timeoutMs) {
          throw new RedisUnavailableError(this.url, `unreachable for ${Math.round((Date.now() - started) / 1000)} s (giving up after outageTimeoutMs = ${this.timeoutMs} ms, --redis-outage-timeout); last error: ${reason}`, { cause: error });
        }
        this.log(`Redis at ${this.url} unreachable, retrying (${attempt}): ${reason}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** Math.min(attempt - 1, 3), 2_000)));
      }
    }
  }
}

/** Errors of a Redis that is not there (connection refused or lost, still loading its data), not of the command. */
function isOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)\b/.test(error.message);
  return error.name === 'MaxRetriesPerRequestError' || /connect|connection|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|writeable|closed/i.test(error.message);
}

/** The Redis server of the state backend could not be reached. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach Redis at ${url}: ${reason}. Is it running? (\`tributary services up\` starts one locally)`, options);
  }
}

/** The URL with its password hidden, for messages. */
function printable(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connects with retries only after the first success: an unreachable server fails `connect()`
 * within `timeoutMs` instead of being retried forever, and a running application rides out a
 * short outage (each command is retried twice, then its commit rejects).
 */
export async function connectRedis(url: string, timeoutMs: number): Promise<Redis> {
  let ready = false;
  let lastError: Error | undefined;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => (ready ? Math.min(times * 200, 2000) : null),
  });
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.connect(), deadline]);
    ready = true;
    return redis;
  } catch (error) {
    redis.disconnect();
    const cause = lastError ?? error;
    throw new RedisUnavailableError(printable(url), (cause as Error).message, { cause });
  } finally {
    clearTimeout(timer);
  }
}

/** Redis glob patterns treat these characters specially. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Arguments per `redis.call` inside the commit script: Lua's `unpack` fails beyond ~8000. */
const CALL_CHUNK = 1000;

/**
 * The commit: `KEYS[1]` is the epoch, `ARGV[1]` the epoch this owner claimed. Then groups of
 * `command, key index, argument count, arguments...` (HSET, HDEL, ZADD, ZREM). Nothing is written
 * unless the epoch is still ours; a fenced commit returns the current epoch, a successful one nil.
 */
const COMMIT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return current or '0' end
local i = 2
local n = #ARGV
while i <= n do
  local command = ARGV[i]
  local key = KEYS[tonumber(ARGV[i + 1])]
  local last = i + 2 + tonumber(ARGV[i + 2])
  i = i + 3
  while i <= last do
    local stop = math.min(i + ${CALL_CHUNK} - 1, last)
    redis.call(command, key, unpack(ARGV, i, stop))
    i = stop + 1
  end
end
return nil
`;

interface CommitCommand {
  tributaryCommit(args: (string | number)[]): Promise<string | null>;
}

/** Collects the script's argument groups. */
class CommitArgs {
  readonly keys: string[];
  readonly argv: (string | number)[];

  constructor(epochKey: string, epoch: number) {
    this.keys = [epochKey];
    this.argv = [String(epoch)];
  }

  add(command: 'HSET' | 'HDEL' | 'ZADD' | 'ZREM', key: string, args: (string | number)[]): void {
    if (args.length === 0) return;
    let index = this.keys.indexOf(key);
    if (index < 0) index = this.keys.push(key) - 1;
    this.argv.push(command, index + 1, args.length);
    for (const arg of args) this.argv.push(arg);
  }
}

class RedisTaskStateBackend implements TaskStateBackend {
  private epoch: number | undefined;
  private readonly prefix: string;
  private readonly stores: PersistedStore[] = [];
  /** Fields of entries found expired during restore, deleted at the next commit. */
  private readonly expired = new Map<PersistedStore, string[]>();

  constructor(
    private readonly redis: Redis & CommitCommand,
    applicationId: string,
    readonly taskId: string,
    stores: ReadonlyMap<string, StateStore>,
    specs: ReadonlyMap<string, StoreSpec>,
    private readonly pageSize: number,
    private readonly retry: OutageRetry,
  ) {
    this.prefix = `trib:{${applicationId}:${taskId}}`;
    for (const store of stores.values()) {
      const bound = persistedStore(this.prefix, store, specs.get(store.name));
      if (bound) this.stores.push(bound);
    }
  }

  /** Each command is retried through an outage (an HSCAN cursor stays valid across reconnects). */
  async open(onProgress?: (progress: RestoreProgress) => void): Promise<RestoredState> {
    this.epoch = await this.retry.run(() => this.redis.incr(`${this.prefix}:epoch`));
    for (const store of this.stores) store.changes.enabled = true;
    const checkpoint = await this.retry.run(() => this.redis.hgetall(`${this.prefix}:checkpoint`));
    const offsets = new Map(Object.entries(checkpoint).map(([partition, offset]) => [partition, Number(offset)]));
    const applied = new Map(Object.entries(await this.retry.run(() => this.redis.hgetall(`${this.prefix}:applied`))));
    let entries = 0;
    for (const store of this.stores) entries += await this.load(store, onProgress);
    return { epoch: this.epoch, offsets, entries, applied };
  }

  async commit(offsets: ReadonlyMap<string, number>, applied?: ReadonlyMap<string, string>): Promise<void> {
    if (this.epoch === undefined) throw new Error(`task ${this.taskId}: commit before open`);
    const args = new CommitArgs(`${this.prefix}:epoch`, this.epoch);
    for (const store of this.stores) this.addChanges(args, store);
    this.expired.clear();
    const checkpoint: (string | number)[] = [];
    for (const [partition, offset] of offsets) checkpoint.push(partition, offset);
    args.add('HSET', `${this.prefix}:checkpoint`, checkpoint);
    if (applied) args.add('HSET', `${this.prefix}:applied`, [...applied].flat());
    // Even with nothing to write the script runs: a zombie learns it was fenced at its next commit.
    // The script is atomic and its writes idempotent: after an outage the same one runs again.
    const script = [args.keys.length, ...args.keys, ...args.argv];
    const current = await this.retry.run(() => this.redis.tributaryCommit(script));
    if (current !== null) throw new FencedError(this.taskId, this.epoch, Number(current));
  }

  private addChanges(args: CommitArgs, store: PersistedStore): void {
    const sets: string[] = [];
    const deletes: string[] = this.expired.get(store) ?? [];
    const scores: (number | string)[] = [];
    for (const change of store.changes.take()) {
      const field = store.field(change);
      if (change.value === null) {
        deletes.push(field);
      } else {
        sets.push(field, store.encodeValue(change.value));
        if (store.index) scores.push(store.score(change), field);
      }
    }
    args.add('HSET', store.hash, sets);
    args.add('HDEL', store.hash, deletes);
    if (!store.index) return;
    args.add('ZADD', store.index, scores);
    args.add('ZREM', store.index, deletes);
  }

  /** Loads one store page by page; returns how many entries it restored. */
  private async load(store: PersistedStore, onProgress?: (progress: RestoreProgress) => void): Promise<number> {
    const total = await this.retry.run(() => this.redis.hlen(store.hash));
    const expired: string[] = [];
    // HSCAN may return an entry twice: harmless where a restore overwrites, not where it appends.
    const seen = store.appendsOnRestore ? new Set<string>() : undefined;
    let loaded = 0;
    let cursor = '0';
    do {
      const [next, page] = await this.retry.run(() => this.redis.hscan(store.hash, cursor, 'COUNT', this.pageSize));
      cursor = next;
      for (let i = 0; i + 1 < page.length; i += 2) {
        const field = page[i]!;
        if (seen) {
          if (seen.has(field)) continue;
          seen.add(field);
        }
        if (store.restore(field, page[i + 1]!)) loaded++;
        else expired.push(field);
      }
      onProgress?.({ taskId: this.taskId, store: store.name, loaded: Math.min(loaded + expired.length, total), total });
    } while (cursor !== '0');
    if (expired.length > 0) this.expired.set(store, expired);
    return loaded;
  }
}

/**
 * The state backend of a running application: every task's stores and checkpoint in Redis,
 * under keys that share the task's hash tag (`trib:{<applicationId>:<taskId>}:...`), so one task
 * lives in one Redis Cluster slot and its commit is one atomic script.
 */
export class RedisStateBackend implements StateBackend {
  private redis: (Redis & CommitCommand) | undefined;
  private readonly connectTimeoutMs: number;
  private readonly pageSize: number;
  private readonly retry: OutageRetry;

  constructor(
    readonly url: string,
    readonly applicationId: string,
    options: RedisStateBackendOptions = {},
  ) {
    if (/[{}]/.test(applicationId)) throw new RangeError(`applicationId '${applicationId}' must not contain '{' or '}' (they delimit Redis hash tags)`);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.pageSize = options.restorePageSize ?? 1000;
    this.retry = new OutageRetry(printable(url), options.outageTimeoutMs ?? 60_000, options.log ?? ((message) => console.warn(`tributary: ${message}`)));
  }

  async connect(): Promise<void> {
    if (this.redis) return;
    const redis = await connectRedis(this.url, this.connectTimeoutMs);
    redis.defineCommand('tributaryCommit', { lua: COMMIT_SCRIPT });
    this.redis = redis as Redis & CommitCommand;
  }

  forTask(taskId: string, stores: ReadonlyMap<string, StateStore>, specs: ReadonlyMap<string, StoreSpec>): TaskStateBackend {
    if (!this.redis) throw new Error(`the Redis state backend (${printable(this.url)}) is used before connect()`);
    if (/[{}]/.test(taskId)) throw new RangeError(`taskId '${taskId}' must not contain '{' or '}' (they delimit Redis hash tags)`);
    return new RedisTaskStateBackend(this.redis, this.applicationId, taskId, stores, specs, this.pageSize, this.retry);
  }

  async close(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    if (!redis) return;
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  }

  /** Deletes every key of an application (its tasks' stores, checkpoints and epochs); returns how many. */
  static async reset(url: string, applicationId: string, options: RedisStateBackendOptions & { extraKeys?: string[] } = {}): Promise<number> {
    const redis = await connectRedis(url, options.connectTimeoutMs ?? 3000);
    try {
      let deleted = options.extraKeys?.length ? await redis.unlink(...options.extraKeys) : 0;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `trib:{${globEscape(applicationId)}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== '0');
      return deleted;
    } finally {
      redis.disconnect();
    }
  }
}
