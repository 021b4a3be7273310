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
