/** A duration: milliseconds, or a string such as `'500ms'`, `'10s'`, `'5m'`, `'2h'`, `'1d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Converts a {@link Duration} to milliseconds; throws a `RangeError` that quotes the bad input. */
export function toMillis(duration: Duration, what = 'duration'): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new RangeError(`${what} must be a non-negative number of milliseconds, got ${duration}`);
    }
    return duration;
  }
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(String(duration).trim());
  if (!match) {
    throw new RangeError(`${what} '${String(duration)}' is not a duration: use milliseconds or a string like '500ms', '10s', '5m', '2h', '1d'`);
  }
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}
