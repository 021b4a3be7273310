import { timeWindowsFor } from '../processors/windowed-aggregate.ts';
import type { Window } from '../serdes/serdes.ts';
import { toMillis, type Duration } from '../util/duration.ts';

/**
 * Fixed-size windows aligned to the epoch: `[start, start + size)`, the end exclusive. Tumbling by
 * default (`advance = size`); `advanceBy(hop)` makes them hopping (overlapping). A window accepts
 * records until stream time reaches `end + grace`; later records for it are dropped and counted.
 *
 * ```ts
 * TimeWindows.ofSizeWithNoGrace('1m');                    // tumbling minutes
 * TimeWindows.ofSizeAndGrace('5m', '30s').advanceBy('1m'); // 5-minute windows every minute
 * ```
 */
export class TimeWindows {
  private constructor(
    /** The window size in ms. */ readonly sizeMs: number,
    /** How far each window starts after the previous one, in ms. */ readonly advanceMs: number,
    /** How long after a window ends out-of-order records are still accepted, in ms. */ readonly graceMs: number,
  ) {}

  /** Tumbling windows of `size`; a record is late as soon as stream time passes its window's end. */
  static ofSizeWithNoGrace(size: Duration): TimeWindows {
    return TimeWindows.ofSizeAndGrace(size, 0);
  }

  /** Tumbling windows of `size` that accept out-of-order records until `grace` after their end. */
  static ofSizeAndGrace(size: Duration, grace: Duration): TimeWindows {
    const sizeMs = toMillis(size, 'window size');
    if (sizeMs <= 0) throw new RangeError(`window size must be positive, got ${sizeMs} ms`);
    return new TimeWindows(sizeMs, sizeMs, toMillis(grace, 'window grace period'));
  }

  /** Hopping windows: a new window starts every `advance` (at most the size). */
  advanceBy(advance: Duration): TimeWindows {
    const advanceMs = toMillis(advance, 'window advance');
    if (advanceMs <= 0 || advanceMs > this.sizeMs) {
      throw new RangeError(`window advance must be in (0, size = ${this.sizeMs} ms], got ${advanceMs} ms`);
    }
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /** The windows a record at `timestamp` belongs to, by start (no negative starts). */
  windowsFor(timestamp: number): Window[] {
    return timeWindowsFor(timestamp, this.sizeMs, this.advanceMs).map((start) => ({ start, end: start + this.sizeMs }));
  }

  /** The window size in ms. */
  size(): number {
    return this.sizeMs;
  }

  /** The grace period in ms. */
  gracePeriodMs(): number {
    return this.graceMs;
  }
}

/**
 * Windows of a fixed time difference that slide with the records: `[start, start + d]`, both ends
 * inclusive. Each record at `t` gets its window `[t - d, t]`, plus a window `[t + 1, t + 1 + d]`
 * once a later record falls in it; empty windows never exist. A window accepts records until stream
 * time passes `end + grace`.
 *
 * ```ts
 * SlidingWindows.ofTimeDifferenceAndGrace('10s', '2s');
 * ```
 */
export class SlidingWindows {
  private constructor(
    /** The largest time difference between two records of one window, in ms. */ readonly timeDifferenceMs: number,
    /** How long after a window ends out-of-order records are still accepted, in ms. */ readonly graceMs: number,
  ) {}

  /** Sliding windows of `timeDifference`, without grace. */
  static ofTimeDifferenceWithNoGrace(timeDifference: Duration): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifference, 0);
  }

  /** Sliding windows of `timeDifference` that accept out-of-order records until `grace` after their end. */
  static ofTimeDifferenceAndGrace(timeDifference: Duration, grace: Duration): SlidingWindows {
    return new SlidingWindows(toMillis(timeDifference, 'sliding window time difference'), toMillis(grace, 'window grace period'));
  }

  /** The grace period in ms. */
  gracePeriodMs(): number {
    return this.graceMs;
  }
}

/**
 * One window per key that starts at `start` (0 by default) and never ends: Kafka Streams'
 * `UnlimitedWindows`. Every record at or after the start is in it; earlier records are in no
 * window. The window's end is `Number.MAX_SAFE_INTEGER` (Kafka Streams: `Long.MAX_VALUE`); it never
 * closes, so there is no grace and its store keeps it for ever.
 *
 * ```ts
 * UnlimitedWindows.of();                       // everything since the epoch
 * UnlimitedWindows.of().startOn(1_700_000_000_000);
 * ```
 */
export class UnlimitedWindows {
  private constructor(/** Where the window starts, epoch ms. */ readonly startMs: number) {}

  /** The unlimited window starting at the epoch (0). */
  static of(): UnlimitedWindows {
    return new UnlimitedWindows(0);
  }

  /** The unlimited window starting at `start` (epoch ms or a `Date`). */
  startOn(start: number | Date): UnlimitedWindows {
    const startMs = start instanceof Date ? start.getTime() : start;
    if (!(startMs >= 0)) throw new RangeError(`an unlimited window's start must not be negative, got ${startMs}`);
    return new UnlimitedWindows(startMs);
  }

  /** The window's "size": from its start to `Number.MAX_SAFE_INTEGER`. */
  get sizeMs(): number {
    return Number.MAX_SAFE_INTEGER - this.startMs;
  }

  /** The starts of the windows a record at `timestamp` is in: the one window, or none before the start. */
  windowStartsFor(timestamp: number): number[] {
    return timestamp >= this.startMs ? [this.startMs] : [];
  }

  /** The windows a record at `timestamp` belongs to. */
  windowsFor(timestamp: number): Window[] {
    return this.windowStartsFor(timestamp).map((start) => ({ start, end: Number.MAX_SAFE_INTEGER }));
  }

  /** Unlimited windows never close: 0. */
  gracePeriodMs(): number {
    return 0;
  }
}

/**
 * Sessions of activity per key: records closer than the inactivity gap join one session
 * `[first, last]` (both ends inclusive), and a record between two sessions merges them. A session
 * accepts records until stream time passes `end + gap + grace`.
 *
 * ```ts
 * SessionWindows.ofInactivityGapAndGrace('30m', '1m');
 * ```
 */
export class SessionWindows {
  private constructor(
    /** The largest gap between two records of one session, in ms. */ readonly inactivityGapMs: number,
    /** How long after a session can no longer grow out-of-order records are still accepted, in ms. */ readonly graceMs: number,
  ) {}

  /** Sessions closed by `gap` of inactivity, without grace. */
  static ofInactivityGapWithNoGrace(gap: Duration): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(gap, 0);
  }

  /** Sessions closed by `gap` of inactivity that accept out-of-order records for `grace` more. */
  static ofInactivityGapAndGrace(gap: Duration, grace: Duration): SessionWindows {
    const gapMs = toMillis(gap, 'session inactivity gap');
    if (gapMs <= 0) throw new RangeError(`session inactivity gap must be positive, got ${gapMs} ms`);
    return new SessionWindows(gapMs, toMillis(grace, 'window grace period'));
  }

  /** The inactivity gap in ms. */
  inactivityGap(): number {
    return this.inactivityGapMs;
  }

  /** The grace period in ms. */
  gracePeriodMs(): number {
    return this.graceMs;
  }
}

/**
 * When a windowed aggregation emits: `'onWindowUpdate'` (the default) forwards every update;
 * `'onWindowClose'` forwards one final result per window once it has closed (end + grace passed),
 * and never a tombstone.
 */
export type EmitStrategy = 'onWindowUpdate' | 'onWindowClose';

/** Kafka Streams' names for the emit strategies: `emitStrategy(EmitStrategy.onWindowClose())`. */
export const EmitStrategy = {
  onWindowUpdate: (): EmitStrategy => 'onWindowUpdate',
  onWindowClose: (): EmitStrategy => 'onWindowClose',
} as const;
