import type { Cancellable, PunctuationType } from '../processors/api.ts';

interface Schedule {
  next: number;
  interval: number;
  punctuator: (timestamp: number) => void;
  cancelled: boolean;
  owner: string;
}

/**
 * The punctuators of one task, for one clock. Stream-time schedules are aligned to 0 and fire at
 * the first record; wall-clock ones first fire one interval after scheduling. After a fire the next
 * time is the first multiple of the interval past `now`, so missed intervals are skipped.
 */
export class PunctuationQueue {
  private schedules: Schedule[] = [];

  constructor(readonly type: PunctuationType) {}

  schedule(start: number, interval: number, punctuator: (timestamp: number) => void, owner: string): Cancellable {
    if (interval <= 0) throw new RangeError(`punctuation interval must be positive, got ${interval}`);
    const entry: Schedule = { next: start, interval, punctuator, cancelled: false, owner };
    this.schedules.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
        this.schedules = this.schedules.filter((s) => s !== entry);
      },
    };
  }

  get size(): number {
    return this.schedules.length;
  }

  /** Fires every schedule due at `now` once; `onError` gets a punctuator's throw. */
  mayPunctuate(now: number, run: (owner: string, fire: () => void) => void): boolean {
    let fired = false;
    for (const s of [...this.schedules]) {
      if (s.cancelled || now < s.next) continue;
      fired = true;
      const scheduled = s.next;
      s.next = scheduled + s.interval > now ? scheduled + s.interval : scheduled + (Math.floor((now - scheduled) / s.interval) + 1) * s.interval;
      run(s.owner, () => s.punctuator(now));
    }
    return fired;
  }
}
