import { describe, expect, it } from 'vitest';
import { JoinWindows } from 'tributary';

describe('JoinWindows', () => {
  it('ofTimeDifferenceWithNoGrace sets before = after = the difference and no grace', () => {
    const w = JoinWindows.ofTimeDifferenceWithNoGrace('5m');
    expect([w.beforeMs, w.afterMs, w.graceMs]).toEqual([300_000, 300_000, 0]);
    expect(w.size()).toBe(600_000);
    expect(w.retentionMs()).toBe(600_000);
  });

  it('ofTimeDifferenceAndGrace adds a grace period to the retention', () => {
    const w = JoinWindows.ofTimeDifferenceAndGrace(100, '10ms');
    expect([w.beforeMs, w.afterMs, w.gracePeriodMs()]).toEqual([100, 100, 10]);
    expect(w.retentionMs()).toBe(210);
  });

  it('before() and after() make the window asymmetric and keep the rest', () => {
    const w = JoinWindows.ofTimeDifferenceAndGrace('1s', '2s').before(0).after('3s');
    expect([w.beforeMs, w.afterMs, w.graceMs]).toEqual([0, 3_000, 2_000]);
  });

  it('rejects negative or malformed durations', () => {
    expect(() => JoinWindows.ofTimeDifferenceWithNoGrace(-1)).toThrow(RangeError);
    expect(() => JoinWindows.ofTimeDifferenceWithNoGrace('soon' as never)).toThrow(/not a duration/);
  });
});
