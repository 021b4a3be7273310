/**
 * Replay-stable positions of records on internal (repartition) topics, so that a task downstream
 * of a repartition topic applies each record once even when the task upstream crashed and wrote
 * its output again (DESIGN.md section 4).
 *
 * A record written to an internal topic carries, in one header, the task that wrote it, the source
 * partition and offset of the input record it came from, and its index among that input's
 * outputs: `<taskId>/<topic>:<partition>/<offset>/<index>`. A replay from the same checkpoint
 * writes the same positions again, in the same order. The reading task keeps, per writer and
 * source partition, the highest position it applied, and commits it with its state and offsets.
 */

/** The header that carries a record's position on an internal topic (read and removed by the next task). */
export const POSITION_HEADER = 'tributary-position';

interface Position {
  offset: number;
  index: number;
}

/** Numbers one task's outputs on internal topics, per source partition, in the order they are written. */
export class PositionStamper {
  private readonly last = new Map<string, Position>();

  constructor(private readonly taskId: string) {}

  /**
   * The position of the next output of the input at `offset` of `sourceKey` (`topic:partition`).
   * Undefined when the output is not tied to an input (a punctuator's) or comes after a later
   * input's output (an asynchronous branch that fell behind a synchronous one): such a record is
   * always applied, so a gap in the order can never make the reader skip a record it has not seen.
   */
  stamp(sourceKey: string, offset: number): string | undefined {
    if (offset < 0 || sourceKey.length === 0) return undefined;
    const previous = this.last.get(sourceKey);
    let index = 0;
    if (previous !== undefined) {
      if (offset < previous.offset) return undefined;
      if (offset === previous.offset) index = previous.index + 1;
    }
    if (previous === undefined) this.last.set(sourceKey, { offset, index });
    else {
      previous.offset = offset;
      previous.index = index;
    }
    return `${this.taskId}/${sourceKey}/${offset}/${index}`;
  }
}

/** The decimal digits of `text` from `start` to `end` as a number, or -1 when they are not all digits (or none, or too many to be exact). */
function decimal(text: string, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The highest position applied per partition read, writer and source partition:
 * `<topic>:<partition>|<taskId>/<topic>:<partition>` → `<offset>/<index>`. Per partition read,
 * because a writer's order holds within one partition, not across two that a task interleaves.
 */
export class AppliedPositions {
  private readonly highest = new Map<string, Position>();
  /** The writer key and entry of the last position seen: consecutive records mostly share their writer. */
  private lastReadKey = '';
  private lastPrefix = '';
  private lastEntry: Position | undefined;

  /** True the first time a position is seen in `readKey` (`topic:partition`); false at or below the highest applied from its writer there (a replay). */
  firstTime(readKey: string, header: string): boolean {
    const indexAt = header.lastIndexOf('/');
    const offsetAt = header.lastIndexOf('/', indexAt - 1);
    if (offsetAt <= 0) return true;
    const offset = decimal(header, offsetAt + 1, indexAt);
    const index = decimal(header, indexAt + 1, header.length);
    if (offset < 0 || index < 0) return true;
    let highest: Position | undefined;
    if (this.lastEntry !== undefined && readKey === this.lastReadKey && offsetAt === this.lastPrefix.length && header.startsWith(this.lastPrefix)) {
      highest = this.lastEntry;
    } else {
      const prefix = header.slice(0, offsetAt);
      const writer = `${readKey}|${prefix}`;
      highest = this.highest.get(writer);
      if (highest === undefined) {
        highest = { offset, index };
        this.highest.set(writer, highest);
        this.remember(readKey, prefix, highest);
        return true;
      }
      this.remember(readKey, prefix, highest);
    }
    if (offset < highest.offset || (offset === highest.offset && index <= highest.index)) return false;
    highest.offset = offset;
    highest.index = index;
    return true;
  }

  private remember(readKey: string, prefix: string, entry: Position): void {
    this.lastReadKey = readKey;
    this.lastPrefix = prefix;
    this.lastEntry = entry;
  }

  /** Loads what a commit wrote (entries as `entries()` gives them); unreadable entries are left out. */
  restore(entries: ReadonlyMap<string, string>): void {
    this.highest.clear();
    this.lastEntry = undefined;
    for (const [writer, position] of entries) {
      const slash = position.indexOf('/');
      const offset = Number(position.slice(0, slash));
      const index = Number(position.slice(slash + 1));
      if (slash > 0 && Number.isInteger(offset) && Number.isInteger(index)) this.highest.set(writer, { offset, index });
    }
  }

  /** What a commit writes, with the task's state and offsets. */
  entries(): Map<string, string> {
    const entries = new Map<string, string>();
    for (const [writer, { offset, index }] of this.highest) entries.set(writer, `${offset}/${index}`);
    return entries;
  }
}
