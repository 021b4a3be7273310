import type { Redis } from 'ioredis';
import { connectRedis } from '../state/redis-backend.ts';
import type { TopicPartition } from '../transport/transport.ts';

/** Kafka Streams' `StreamsMetadata`: one instance of the application, what it hosts and where it answers queries. */
export interface StreamsMetadata {
  /** The instance's advertised URL (`application.server`). */
  host: string;
  /** The tasks it runs (`<subTopology>_<partition>`). */
  tasks: string[];
  /** The source partitions of those tasks. */
  topicPartitions: TopicPartition[];
  /** The stores of those tasks. */
  stateStoreNames: string[];
}

/** Kafka Streams' `KeyQueryMetadata`: which instance hosts a key of a store. */
export interface KeyQueryMetadata {
  /** The advertised URL of the instance running the key's task, `undefined` while no live instance claims it. */
  activeHost: string | undefined;
  /** Always empty: there are no standby replicas (state is in Redis). */
  standbyHosts: string[];
  /** The partition the key belongs to (murmur2 of the serialized key, as the producer places it). */
  partition: number;
  /** The task that holds the key. */
  taskId: string;
}

interface Published extends StreamsMetadata {
  /** When this instance last got an assignment (the newest claim of a task wins while an old one has not expired). */
  assignedAt: number;
  /** When it last refreshed its entry. */
  heartbeatAt: number;
}

const HEARTBEAT_MS = 1_000;

/**
 * Publishes this instance (URL and tasks) to the Redis hash `trib:{<applicationId>}:instances`
 * every second and reads the others from it. An entry not refreshed for `expireMs` belongs to a
 * dead instance and is ignored; it is deleted when the instance closes.
 */
export class InstanceRegistry {
  private redis: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: Published;

  constructor(
    private readonly url: string,
    readonly applicationId: string,
    readonly advertisedUrl: string,
    private readonly expireMs: number,
    private readonly log: (message: string) => void,
  ) {
    this.current = { host: advertisedUrl, tasks: [], topicPartitions: [], stateStoreNames: [], assignedAt: 0, heartbeatAt: 0 };
  }

  get key(): string {
    return `trib:{${this.applicationId}}:instances`;
  }

  async connect(): Promise<void> {
    this.redis = await connectRedis(this.url, 3_000);
    await this.publish();
    this.timer = setInterval(() => void this.publish().catch((error: unknown) => this.log(`could not publish this instance's metadata: ${String(error)}`)), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Records a new assignment and publishes it at once. */
  async assigned(metadata: StreamsMetadata): Promise<void> {
    this.current = { ...metadata, host: this.advertisedUrl, assignedAt: Date.now(), heartbeatAt: 0 };
    await this.publish();
  }

  /** The live instances, this one included; a task claimed by two (a rebalance in flight) goes to the newest claim. */
  async instances(): Promise<StreamsMetadata[]> {
    if (!this.redis) return [];
    const entries = await this.redis.hgetall(this.key);
    const now = Date.now();
    const live: Published[] = [];
    for (const text of Object.values(entries)) {
      const entry = JSON.parse(text) as Published;
      if (now - entry.heartbeatAt <= this.expireMs || entry.host === this.advertisedUrl) live.push(entry.host === this.advertisedUrl ? this.current : entry);
    }
    const owner = new Map<string, Published>();
    for (const entry of live) {
      for (const task of entry.tasks) {
        const previous = owner.get(task);
        if (!previous || previous.assignedAt < entry.assignedAt) owner.set(task, entry);
      }
    }
    return live
      .map((entry) => {
        const tasks = entry.tasks.filter((task) => owner.get(task) === entry);
        const partitions = new Set(tasks.map((task) => Number(task.split('_')[1])));
        return { host: entry.host, tasks, topicPartitions: entry.topicPartitions.filter((tp) => partitions.has(tp.partition)), stateStoreNames: entry.stateStoreNames };
      })
      .sort((a, b) => a.host.localeCompare(b.host));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const redis = this.redis;
    this.redis = undefined;
    if (!redis) return;
    await redis.hdel(this.key, this.advertisedUrl).catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
  }

  private async publish(): Promise<void> {
    if (!this.redis) return;
    this.current = { ...this.current, heartbeatAt: Date.now() };
    await this.redis.hset(this.key, this.advertisedUrl, JSON.stringify(this.current));
  }
}

/** Checks an advertised URL: `http(s)://host:port`, nothing after the port. */
export function checkAdvertisedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`advertisedUrl must be a URL like http://10.0.0.5:9464 (where this instance answers queries), got '${url}'`);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.pathname !== '/' || parsed.search) {
    throw new Error(`advertisedUrl must be http(s)://host:port with no path, got '${url}'`);
  }
  return url.replace(/\/$/, '');
}
