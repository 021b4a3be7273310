import { describe, expect, it } from 'vitest';
import { AppliedPositions, compactWriter, PositionStamper, topicId, writerOf } from '../../src/runtime/positions.ts';

const L = topicId('lines');
const W12 = writerOf('0_1', 'lines', 2);
const W22 = writerOf('0_2', 'lines', 2);
const W13 = writerOf('0_1', 'lines', 3);
const W10 = writerOf('0_1', 'lines', 0);
const W11 = writerOf('0_1', 'lines', 1);
/** A writer whose text extends W12's (source partition 22 of the same topic). */
const W122 = writerOf('0_1', 'lines', 22);

describe('positions on repartition topics', () => {
  it('numbers the outputs of one input in order, and a replay from the same offset numbers them the same', () => {
    const first = new PositionStamper('0_1');
    const w = first.writer('lines', 2);
    expect(w).toBe(`0_1~${L}:2`);
    const written = [first.stamp(w, 7), first.stamp(w, 7), first.stamp(w, 8)];
    expect(written).toEqual([`0_1~${L}:2/7/0`, `0_1~${L}:2/7/1`, `0_1~${L}:2/8/0`]);
    // The restarted task starts from the checkpoint (offset 7) with a fresh stamper.
    const replay = new PositionStamper('0_1');
    const r = replay.writer('lines', 2);
    expect([replay.stamp(r, 7), replay.stamp(r, 7), replay.stamp(r, 8)]).toEqual(written);
  });

  it('leaves unstamped what is not tied to an input, or comes after a later input\'s output', () => {
    const stamper = new PositionStamper('0_1');
    expect(stamper.stamp('', 3)).toBeUndefined();
    expect(stamper.stamp(stamper.writer('lines', 0), -1)).toBeUndefined();
    expect(stamper.stamp(stamper.writer('lines', 0), 5)).toBe(`0_1~${L}:0/5/0`);
    // An asynchronous branch that fell behind: stamping it 4 would make the reader skip it.
    expect(stamper.stamp(stamper.writer('lines', 0), 4)).toBeUndefined();
    // Source partitions are numbered independently.
    expect(stamper.stamp(stamper.writer('lines', 1), 4)).toBe(`0_1~${L}:1/4/0`);
  });

  it('names a writer compactly, the same in every run, and apart per task, source topic and partition', () => {
    // 8 base64url characters of the topic name's SHA-256, whatever the name's length
    const long = 'my-application-KSTREAM-AGGREGATE-STATE-STORE-0000000004-repartition';
    expect(topicId(long)).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(topicId(long)).toBe(topicId(`${long}`));
    expect(topicId('lines')).toBe('XqRMOWHx'); // fixed: a change would split writers across an upgrade
    const writers = new Set<string>();
    for (const task of ['0_1', '0_11', '1_1', '10_1']) {
      const stamper = new PositionStamper(task);
      for (const topic of ['lines', 'lines2', 'line', 'a-lines', 'lines-a', '1', '11', long]) {
        for (const partition of [1, 11, 111]) writers.add(stamper.writer(topic, partition));
      }
    }
    expect(writers.size).toBe(4 * 8 * 3);
    // no writer is another's prefix that the reader's cached-prefix check could confuse
    for (const a of writers) for (const b of writers) if (a !== b) expect(b.startsWith(`${a}/`)).toBe(false);
    expect(writerOf('0_1', 'lines', 2)).toBe(new PositionStamper('0_1').writer('lines', 2));
  });

  it('refuses two source topics of one task whose ids clash', () => {
    const stamper = new PositionStamper('0_1');
    stamper.register('lines');
    stamper.register('lines'); // the same topic again is no clash
    // Force a clash: the stamper keeps id → topic, so a second topic with the same id is refused.
    (stamper as unknown as { topics: Map<string, string> }).topics.set(topicId('words'), 'other-topic');
    expect(() => stamper.register('words')).toThrow(/same position id/);
  });

  it('applies each position once per partition read, and forgets nothing across a commit and restore', () => {
    const applied = new AppliedPositions();
    expect(applied.firstTime('rep:0', `${W12}/7/0`)).toBe(true);
    expect(applied.firstTime('rep:0', `${W12}/7/1`)).toBe(true);
    expect(applied.firstTime('rep:0', `${W12}/7/0`)).toBe(false);
    expect(applied.firstTime('rep:0', `${W12}/7/1`)).toBe(false);
    // Another writer, another source partition or another partition read is tracked apart.
    expect(applied.firstTime('rep:0', `${W22}/7/0`)).toBe(true);
    expect(applied.firstTime('rep:0', `${W13}/7/0`)).toBe(true);
    expect(applied.firstTime('rep:1', `${W12}/7/0`)).toBe(true);

    const restored = new AppliedPositions();
    restored.restore(applied.entries());
    expect(restored.entries()).toEqual(applied.entries());
    expect(restored.firstTime('rep:0', `${W12}/7/1`)).toBe(false);
    expect(restored.firstTime('rep:0', `${W12}/8/0`)).toBe(true);
  });

  it('tracks interleaved writers apart when consecutive positions share a prefix or only part of one', () => {
    const applied = new AppliedPositions();
    const seen = (read: string, position: string): boolean => applied.firstTime(read, position);
    expect([seen('rep:0', `${W12}/7/0`), seen('rep:0', `${W12}/7/0`)]).toEqual([true, false]);
    // a writer whose name extends the previous one's, and back
    expect([seen('rep:0', `${W122}/7/0`), seen('rep:0', `${W12}/7/1`), seen('rep:0', `${W122}/7/0`)]).toEqual([true, true, false]);
    // the same writer read from another partition
    expect([seen('rep:1', `${W12}/7/1`), seen('rep:0', `${W12}/7/1`)]).toEqual([true, false]);
    expect(applied.entries()).toEqual(new Map([[`rep:0|${W12}`, '7/1'], [`rep:0|${W122}`, '7/0'], [`rep:1|${W12}`, '7/1']]));
    // a restore replaces what was applied, the last writer's included
    applied.restore(new Map([[`rep:0|${W12}`, '5/0']]));
    expect([seen('rep:0', `${W12}/6/0`), seen('rep:0', `${W122}/7/0`)]).toEqual([true, true]);
  });

  it('applies records whose position cannot be read rather than drop them', () => {
    const applied = new AppliedPositions();
    expect(applied.firstTime('rep:0', 'garbage')).toBe(true);
    expect(applied.firstTime('rep:0', 'garbage')).toBe(true);
    expect(applied.firstTime('rep:0', `${W10}/x/0`)).toBe(true);
    const restored = new AppliedPositions();
    restored.restore(new Map([[`rep:0|${W10}`, 'nonsense'], [`rep:0|${W11}`, '3/0']]));
    expect([...restored.entries().keys()]).toEqual([`rep:0|${W11}`]);
  });

  it('reads an earlier version\'s header and entries as the same writer, so a replay across an upgrade is applied once', () => {
    const applied = new AppliedPositions();
    // Before the upgrade the writer wrote 7/0 and 7/1 in the old format; the reader applied them.
    expect(applied.firstTimeLegacy('rep:0', '0_1/lines:2/7/0')).toBe(true);
    expect(applied.firstTimeLegacy('rep:0', '0_1/lines:2/7/1')).toBe(true);
    expect(applied.firstTimeLegacy('rep:0', '0_1/lines:2/7/1')).toBe(false);
    // The upgraded writer crashed before its checkpoint moved and writes them again, compactly.
    const w = new PositionStamper('0_1').writer('lines', 2);
    expect(applied.firstTime('rep:0', `${w}/7/0`)).toBe(false);
    expect(applied.firstTime('rep:0', `${w}/7/1`)).toBe(false);
    expect(applied.firstTime('rep:0', `${w}/8/0`)).toBe(true);
    expect(applied.firstTimeLegacy('rep:0', '0_1/lines:2/8/0')).toBe(false);
    expect(applied.entries()).toEqual(new Map([[`rep:0|${w}`, '8/0']]));
    // A malformed old position is applied, not dropped.
    expect(applied.firstTimeLegacy('rep:0', 'garbage')).toBe(true);
    expect(applied.firstTimeLegacy('rep:0', '0_1/lines/7/0')).toBe(true);
  });

  it('restores an earlier version\'s committed entries as the compact writer\'s, keeping the higher of both', () => {
    const w = writerOf('0_1', 'lines', 2);
    expect(compactWriter('0_1/lines:2')).toBe(w);
    expect(compactWriter('garbage')).toBeUndefined();
    const restored = new AppliedPositions();
    // what Redis held when the old version committed
    restored.restore(new Map([['rep:0|0_1/lines:2', '7/1'], ['rep:1|0_1/lines:3', '4/0']]));
    expect(restored.entries()).toEqual(new Map([[`rep:0|${w}`, '7/1'], [`rep:1|${writerOf('0_1', 'lines', 3)}`, '4/0']]));
    // the old-format replay and the compact one are both guarded by the old entry
    expect(restored.firstTimeLegacy('rep:0', '0_1/lines:2/7/1')).toBe(false);
    expect(restored.firstTime('rep:0', `${w}/7/0`)).toBe(false);
    expect(restored.firstTime('rep:0', `${w}/9/0`)).toBe(true);
    // After the upgrade Redis keeps the old field (HSET adds) next to the new one: the higher counts, in either order.
    for (const order of [[['rep:0|0_1/lines:2', '7/1'], [`rep:0|${w}`, '9/0']], [[`rep:0|${w}`, '9/0'], ['rep:0|0_1/lines:2', '7/1']]] as [string, string][][]) {
      const again = new AppliedPositions();
      again.restore(new Map(order));
      expect(again.entries()).toEqual(new Map([[`rep:0|${w}`, '9/0']]));
    }
  });
});
