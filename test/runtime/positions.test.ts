import { describe, expect, it } from 'vitest';
import { AppliedPositions, PositionStamper } from '../../src/runtime/positions.ts';

describe('positions on repartition topics', () => {
  it('numbers the outputs of one input in order, and a replay from the same offset numbers them the same', () => {
    const first = new PositionStamper('0_1');
    const written = [first.stamp('lines:2', 7), first.stamp('lines:2', 7), first.stamp('lines:2', 8)];
    expect(written).toEqual(['0_1/lines:2/7/0', '0_1/lines:2/7/1', '0_1/lines:2/8/0']);
    // The restarted task starts from the checkpoint (offset 7) with a fresh stamper.
    const replay = new PositionStamper('0_1');
    expect([replay.stamp('lines:2', 7), replay.stamp('lines:2', 7), replay.stamp('lines:2', 8)]).toEqual(written);
  });

  it('leaves unstamped what is not tied to an input, or comes after a later input\'s output', () => {
    const stamper = new PositionStamper('0_1');
    expect(stamper.stamp('', 3)).toBeUndefined();
    expect(stamper.stamp('lines:0', -1)).toBeUndefined();
    expect(stamper.stamp('lines:0', 5)).toBe('0_1/lines:0/5/0');
    // An asynchronous branch that fell behind: stamping it 4 would make the reader skip it.
    expect(stamper.stamp('lines:0', 4)).toBeUndefined();
    // Source partitions are numbered independently.
    expect(stamper.stamp('lines:1', 4)).toBe('0_1/lines:1/4/0');
  });

  it('applies each position once per partition read, and forgets nothing across a commit and restore', () => {
    const applied = new AppliedPositions();
    expect(applied.firstTime('rep:0', '0_1/lines:2/7/0')).toBe(true);
    expect(applied.firstTime('rep:0', '0_1/lines:2/7/1')).toBe(true);
    expect(applied.firstTime('rep:0', '0_1/lines:2/7/0')).toBe(false);
    expect(applied.firstTime('rep:0', '0_1/lines:2/7/1')).toBe(false);
    // Another writer, another source partition or another partition read is tracked apart.
    expect(applied.firstTime('rep:0', '0_2/lines:2/7/0')).toBe(true);
    expect(applied.firstTime('rep:0', '0_1/lines:3/7/0')).toBe(true);
    expect(applied.firstTime('rep:1', '0_1/lines:2/7/0')).toBe(true);

    const restored = new AppliedPositions();
    restored.restore(applied.entries());
    expect(restored.entries()).toEqual(applied.entries());
    expect(restored.firstTime('rep:0', '0_1/lines:2/7/1')).toBe(false);
    expect(restored.firstTime('rep:0', '0_1/lines:2/8/0')).toBe(true);
  });

  it('tracks interleaved writers apart when consecutive positions share a prefix or only part of one', () => {
    const applied = new AppliedPositions();
    const seen = (read: string, position: string): boolean => applied.firstTime(read, position);
    expect([seen('rep:0', '0_1/lines:2/7/0'), seen('rep:0', '0_1/lines:2/7/0')]).toEqual([true, false]);
    // a writer whose name extends the previous one's, and back
    expect([seen('rep:0', '0_1/lines:22/7/0'), seen('rep:0', '0_1/lines:2/7/1'), seen('rep:0', '0_1/lines:22/7/0')]).toEqual([true, true, false]);
    // the same writer read from another partition
    expect([seen('rep:1', '0_1/lines:2/7/1'), seen('rep:0', '0_1/lines:2/7/1')]).toEqual([true, false]);
    expect(applied.entries()).toEqual(new Map([['rep:0|0_1/lines:2', '7/1'], ['rep:0|0_1/lines:22', '7/0'], ['rep:1|0_1/lines:2', '7/1']]));
    // a restore replaces what was applied, the last writer's included
    applied.restore(new Map([['rep:0|0_1/lines:2', '5/0']]));
    expect([seen('rep:0', '0_1/lines:2/6/0'), seen('rep:0', '0_1/lines:22/7/0')]).toEqual([true, true]);
  });

  it('applies records whose position cannot be read rather than drop them', () => {
    const applied = new AppliedPositions();
    expect(applied.firstTime('rep:0', 'garbage')).toBe(true);
    expect(applied.firstTime('rep:0', 'garbage')).toBe(true);
    expect(applied.firstTime('rep:0', '0_1/lines:0/x/0')).toBe(true);
    const restored = new AppliedPositions();
    restored.restore(new Map([['rep:0|0_1/lines:0', 'nonsense'], ['rep:0|0_1/lines:1', '3/0']]));
    expect([...restored.entries().keys()]).toEqual(['rep:0|0_1/lines:1']);
  });
});
