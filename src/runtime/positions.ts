/**
 * Replay-stable positions of records on internal (repartition) topics, so that a task downstream
 * of a repartition topic applies each record once even when the task upstream crashed and wrote
 * its output again (DESIGN.md section 4).
 *
 * A record written to an internal topic carries, in one header, its writer (the task that wrote
 * it and the source partition of the input record it came from), that input's offset, and its
 * index among that input's outputs: `<taskId>~<topicId>:<partition>/<offset>/<index>`, where
 * `topicId` is 8 base64url characters of the SHA-256 of the source topic's name (see `topicId`).
 * A replay from the same checkpoint writes the same positions again, in the same order. The
 * reading task keeps, per writer, the highest position it applied, and commits it with its state
 * and offsets.
 *
 * Earlier versions wrote `<taskId>/<topic>:<partition>/<offset>/<index>` in the header
 * `tributary-position` and committed their entries under `<taskId>/<topic>:<partition>`. Both are
 * still read, and translated to the compact writer (the topic name hashed), so that a record an
 * upgraded writer writes again after a crash matches the entry its first, old-format copy left.
 */
import { createHash } from 'node:crypto';
import { TopologyError } from '../topology/errors.ts';

/** The header that carries a record's position on an internal topic (read and removed by the next task). */
export const POSITION_HEADER = '~tp';
/** The header earlier versions wrote; still read, for records left in a repartition topic across an upgrade. */
export const LEGACY_POSITION_HEADER = 'tributary-position';

/**
 * The short, stable id of a source topic in a writer: 48 bits of the SHA-256 of its name, as 8
 * base64url characters (no `/`, `:` or `~`). The same name gives the same id in every process and
 * run; two topics of one task with the same id are refused (`PositionStamper.register`), so it
 * never mixes two writers, with odds of a refusal around n²/2⁴⁹ for a task of n source topics.
 */
export function topicId(topic: string): string {
  return createHash('sha256').update(topic, 'utf8').digest().subarray(0, 6).toString('base64url');
}

/** The writer part of a position: `<taskId>~<topicId>:<partition>`. */
export function writerOf(taskId: string, topic: string, partition: number): string {
  return `${taskId}~${topicId(topic)}:${partition}`;
}

interface Position {
  offset: number;
  index: number;
}

/** Numbers one task's outputs on internal topics, per source partition, in the order they are written. */
export class PositionStamper {
  private readonly last = new Map<string, Position>();
  /** Source topic → its id, and id → topic: two topics of this task must not share an id. */
  private readonly ids = new Map<string, string>();
  private readonly topics = new Map<string, string>();

  constructor(private readonly taskId: string) {}

  /**
   * The id of `topic` in this task's positions, refused when another of its source topics has the
   * same: their writers would be one, and the reader would skip one topic's records as the other's
   * replays. The task registers its source topics when it is built, and each topic a pattern
   * source comes to read, so that a clash fails the task before it writes anything.
   */
  register(topic: string): string {
    let id = this.ids.get(topic);
    if (id !== undefined) return id;
    id = topicId(topic);
    const other = this.topics.get(id);
    if (other !== undefined) {
      throw new TopologyError(`source topics '${other}' and '${topic}' of task ${this.taskId} have the same position id '${id}': rename one of them`);
    }
    this.ids.set(topic, id);
    this.topics.set(id, topic);
    return id;
  }

  /** The writer of outputs of inputs from `partition` of `topic` (what `stamp` takes). */
  writer(topic: string, partition: number): string {
    return `${this.taskId}~${this.register(topic)}:${partition}`;
  }

  /**
   * The position of the next output of the input at `offset` of `writer` (from `writer()`).
   * Undefined when the output is not tied to an input (a punctuator's) or comes after a later
   * input's output (an asynchronous branch that fell behind a synchronous one): such a record is
   * always applied, so a gap in the order can never make the reader skip a record it has not seen.
   */
  stamp(writer: string, offset: number): string | undefined {
    if (offset < 0 || writer.length === 0) return undefined;
    const previous = this.last.get(writer);
    let index = 0;
    if (previous !== undefined) {
      if (offset < previous.offset) return undefined;
      if (offset === previous.offset) index = previous.index + 1;
    }
    if (previous === undefined) this.last.set(writer, { offset, index });
    else {
      previous.offset = offset;
      previous.index = index;
    }
    return `${writer}/${offset}/${index}`;
  }
}

/**
 * An earlier version's writer, `<taskId>/<topic>:<partition>`, as the compact one
 * (`<taskId>~<topicId>:<partition>`); undefined when it is not one. Task ids and topic names hold
 * no `/`, and topic names no `:`.
 */
export function compactWriter(legacy: string): string | undefined {
  const slash = legacy.indexOf('/');
  const colon = legacy.lastIndexOf(':');
  if (slash <= 0 || colon <= slash + 1 || decimal(legacy, colon + 1, legacy.length) < 0) return undefined;
  return `${legacy.slice(0, slash)}~${topicId(legacy.slice(slash + 1, colon))}:${legacy.slice(colon + 1)}`;
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
 * The highest position applied per partition read and writer:
 * `<topic>:<partition>|<taskId>~<topicId>:<partition>` → `<offset>/<index>`. Per partition read,
 * because a writer's order holds within one partition, not across two that a task interleaves.
 */
export class AppliedPositions {
  private readonly highest = new Map<string, Position>();
  /** Earlier versions' writers seen in `tributary-position` headers → their compact writers. */
  private readonly legacyWriters = new Map<string, string>();
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

  /**
   * `firstTime` for a position in the header earlier versions wrote
   * (`<taskId>/<topic>:<partition>/<offset>/<index>`): the same entry as the compact position of
   * the same writer, so a record written before an upgrade and again after it is applied once.
   */
  firstTimeLegacy(readKey: string, header: string): boolean {
    const indexAt = header.lastIndexOf('/');
    const offsetAt = header.lastIndexOf('/', indexAt - 1);
    if (offsetAt <= 0) return true;
    const legacy = header.slice(0, offsetAt);
    let writer = this.legacyWriters.get(legacy);
    if (writer === undefined) {
      writer = compactWriter(legacy);
      if (writer === undefined) return true;
      this.legacyWriters.set(legacy, writer);
    }
    return this.firstTime(readKey, writer + header.slice(offsetAt));
  }

  private remember(readKey: string, prefix: string, entry: Position): void {
    this.lastReadKey = readKey;
    this.lastPrefix = prefix;
    this.lastEntry = entry;
  }

  /**
   * Loads what a commit wrote (entries as `entries()` gives them); unreadable entries are left out.
   * An earlier version's entry (`<read>|<taskId>/<topic>:<partition>`) is loaded as its compact
   * writer's; where both are there (Redis keeps the old field after the upgrade), the higher counts.
   */
  restore(entries: ReadonlyMap<string, string>): void {
    this.highest.clear();
    this.lastEntry = undefined;
    for (const [key, position] of entries) {
      const slash = position.indexOf('/');
      const offset = Number(position.slice(0, slash));
      const index = Number(position.slice(slash + 1));
      if (!(slash > 0 && Number.isInteger(offset) && Number.isInteger(index))) continue;
      const bar = key.indexOf('|');
      const writer = bar < 0 || key.includes('~', bar) ? undefined : compactWriter(key.slice(bar + 1));
      const compact = writer === undefined ? key : `${key.slice(0, bar + 1)}${writer}`;
      const other = this.highest.get(compact);
      if (other === undefined || offset > other.offset || (offset === other.offset && index > other.index)) this.highest.set(compact, { offset, index });
    }
  }

  /** What a commit writes, with the task's state and offsets. */
  entries(): Map<string, string> {
    const entries = new Map<string, string>();
    for (const [writer, { offset, index }] of this.highest) entries.set(writer, `${offset}/${index}`);
    return entries;
  }
}
