import type { Redis } from 'ioredis';
import { connectRedis } from '../state/redis-backend.ts';

/**
 * Kafka Streams' `StreamsUncaughtExceptionHandler` responses:
 * - `'REPLACE_THREAD'`: drop every task of this instance without committing and reopen them from
 *   their last checkpoint (the record that failed is processed again), staying in the group;
 * - `'SHUTDOWN_CLIENT'`: this instance moves to ERROR (the default without a handler);
 * - `'SHUTDOWN_APPLICATION'`: this instance writes a shutdown marker to Redis and every instance
 *   of the application (this one included) that sees it moves to ERROR.
 */
export type StreamsUncaughtExceptionResponse = 'REPLACE_THREAD' | 'SHUTDOWN_CLIENT' | 'SHUTDOWN_APPLICATION';

export type StreamsUncaughtExceptionHandler = (error: Error) => StreamsUncaughtExceptionResponse;

interface Marker {
  at: number;
  reason: string;
}

const POLL_MS = 500;

/**
 * The application-wide shutdown marker `trib:{<applicationId>}:shutdown` in Redis (kept an hour).
 * Each instance polls it and honours a marker written after it started, so an old marker never
 * stops a new run; `cleanUp()` deletes it.
 */
export class ShutdownMarker {
  private redis: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly url: string,
    readonly applicationId: string,
  ) {}

  get key(): string {
    return `trib:{${this.applicationId}}:shutdown`;
  }

  /** Polls the marker; calls `onShutdown` once with its reason when one newer than this instance appears. */
  async watch(onShutdown: (reason: string) => void): Promise<void> {
    this.redis = await connectRedis(this.url, 3_000);
    const redis = this.redis;
    this.timer = setInterval(() => {
      redis.get(this.key).then(
        (text) => {
          if (!text || !this.timer) return;
          const marker = JSON.parse(text) as Marker;
          if (marker.at < this.startedAt) return;
          clearInterval(this.timer);
          this.timer = undefined;
          onShutdown(marker.reason);
        },
        () => undefined,
      );
    }, POLL_MS);
    this.timer.unref();
  }

  async signal(reason: string): Promise<void> {
    const marker: Marker = { at: Date.now(), reason };
    await this.redis?.set(this.key, JSON.stringify(marker), 'PX', 3_600_000);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const redis = this.redis;
    this.redis = undefined;
    await redis?.quit().catch(() => redis.disconnect());
  }
}
