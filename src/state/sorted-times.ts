/**
 * A sorted set of timestamps (window starts, session ends), cheap to grow at the end and to trim
 * at the front: what time-indexed stores need to expire old entries and to scan a time range.
 */
export class SortedTimes {
  private items: number[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  /** The smallest time, or `undefined` when empty. */
  first(): number | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Adds a time (a time already present is kept once). */
  add(time: number): void {
    const items = this.items;
    const last = items.length - 1;
    if (last < this.head || items[last]! < time) {
      items.push(time);
      return;
    }
    const at = this.lowerBound(time);
    if (items[at] !== time) items.splice(at, 0, time);
  }

  /** Removes one time if present. */
  delete(time: number): void {
    const at = this.lowerBound(time);
    if (at < this.items.length && this.items[at] === time) {
      if (at === this.head) this.shiftOne();
      else this.items.splice(at, 1);
    }
  }

  /** Removes and returns the smallest time. */
  shift(): number | undefined {
    if (this.head >= this.items.length) return undefined;
    const time = this.items[this.head]!;
    this.shiftOne();
    return time;
  }

  /** The times in `[from, to]`, ascending. */
  range(from: number, to: number): number[] {
    const out: number[] = [];
    const items = this.items;
    for (let i = this.lowerBound(from); i < items.length && items[i]! <= to; i++) out.push(items[i]!);
    return out;
  }

  /** Index of the first item `>= time` (at least `head`). */
  private lowerBound(time: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]! < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private shiftOne(): void {
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
