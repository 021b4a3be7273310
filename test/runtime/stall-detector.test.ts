/** The watchdog's rule: stalled when the lag grows while the position stands still; reported once per stall. */
import { expect, it } from 'vitest';
import { StallDetector } from '../../src/runtime/stall-detector.ts';

it('reports a partition once when its lag grows and its position does not move, and starts over when it moves', () => {
  const detector = new StallDetector();
  expect(detector.observe('in:0', 100, 10, 0)).toEqual({ stalled: false });
  // Same position, same lag: nothing arrives, nothing is processed: not a stall.
  expect(detector.observe('in:0', 100, 10, 1_000)).toEqual({ stalled: false });
  expect(detector.observe('in:0', 100, 25, 2_000)).toEqual({ stalled: true, first: true, previousLag: 10, stalledForMs: 2_000 });
  expect(detector.observe('in:0', 100, 40, 3_000)).toEqual({ stalled: true, first: false, previousLag: 25, stalledForMs: 3_000 });
  expect(detector.observe('in:0', 100, 40, 4_000)).toMatchObject({ stalled: true, first: false });
  // It moves again: a new stall later is reported again.
  expect(detector.observe('in:0', 130, 50, 5_000)).toEqual({ stalled: false });
  expect(detector.observe('in:0', 130, 60, 6_000)).toEqual({ stalled: true, first: true, previousLag: 50, stalledForMs: 1_000 });
  // Caught up (lag 0) is never stalled; a forgotten partition starts over.
  expect(detector.observe('in:1', 7, 0, 0)).toEqual({ stalled: false });
  expect(detector.observe('in:1', 7, 0, 1_000)).toEqual({ stalled: false });
  detector.forget('in:0');
  expect(detector.observe('in:0', 130, 70, 7_000)).toEqual({ stalled: false });
});
