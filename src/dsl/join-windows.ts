import { toMillis, type Duration } from '../util/duration.ts';

/**
 * The time bounds of a stream-stream join: a left record at `t` joins right records with
 * timestamps in `[t - before, t + after]`, both ends inclusive. The grace period is how long after
 * a window ends out-of-order records are still awaited before left/outer joins emit unmatched
 * records.
 *
 * ```ts
 * orders.join(payments, (o, p) => ({ ...o, paid: p.amount }), JoinWindows.ofTimeDifferenceAndGrace('5m', '30s'));
 * JoinWindows.ofTimeDifferenceWithNoGrace('1m').after(0);   // right records up to 1 minute before only
 * ```
 */
export class JoinWindows {
  private constructor(
    /** How far before a left record a right record may be, in ms. */ readonly beforeMs: number,
    /** How far after a left record a right record may be, in ms. */ readonly afterMs: number,
    /** How long out-of-order records are awaited after a window ends, in ms. */ readonly graceMs: number,
  ) {}

  /** Records join when their timestamps differ by at most `timeDifference`; no grace period. */
  static ofTimeDifferenceWithNoGrace(timeDifference: Duration): JoinWindows {
    const diff = toMillis(timeDifference, 'join time difference');
    return new JoinWindows(diff, diff, 0);
  }

  /** Records join when their timestamps differ by at most `timeDifference`; late records are awaited for `grace`. */
  static ofTimeDifferenceAndGrace(timeDifference: Duration, grace: Duration): JoinWindows {
    const diff = toMillis(timeDifference, 'join time difference');
    return new JoinWindows(diff, diff, toMillis(grace, 'join grace period'));
  }

  /** The same windows, with right records allowed up to `timeDifference` before the left record. */
  before(timeDifference: Duration): JoinWindows {
    return new JoinWindows(toMillis(timeDifference, 'join window before'), this.afterMs, this.graceMs);
  }

  /** The same windows, with right records allowed up to `timeDifference` after the left record. */
  after(timeDifference: Duration): JoinWindows {
    return new JoinWindows(this.beforeMs, toMillis(timeDifference, 'join window after'), this.graceMs);
  }

  /** The window size, `before + after`, in ms. */
  size(): number {
    return this.beforeMs + this.afterMs;
  }

  /** The grace period in ms. */
  gracePeriodMs(): number {
    return this.graceMs;
  }

  /** How long the join buffers keep records: `before + after + grace`, in ms. */
  retentionMs(): number {
    return this.beforeMs + this.afterMs + this.graceMs;
  }
}
