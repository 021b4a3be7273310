/** What one lag check says of a partition. */
export type StallVerdict =
  | { stalled: false }
  | { stalled: true; first: boolean; previousLag: number; stalledForMs: number };

interface Sample {
  position: number;
  lag: number;
  since: number;
  reported: boolean;
}

/**
 * The liveness watchdog's rule: a partition is stalled when its lag grew since the last check
 * while its position did not move. A partition that moves, or has caught up, starts over.
 * `first` is true once per stall, so that it is reported once.
 */
export class StallDetector {
  private readonly samples = new Map<string, Sample>();

  observe(partition: string, position: number, lag: number, now: number): StallVerdict {
    const previous = this.samples.get(partition);
    if (!previous || position !== previous.position || lag === 0) {
      this.samples.set(partition, { position, lag, since: now, reported: false });
      return { stalled: false };
    }
    const grew = lag > previous.lag;
    const verdict: StallVerdict = grew || previous.reported
      ? { stalled: true, first: grew && !previous.reported, previousLag: previous.lag, stalledForMs: now - previous.since }
      : { stalled: false };
    if (grew) previous.reported = true;
    previous.lag = lag;
    return verdict;
  }

  /** Forgets a partition this process no longer owns. */
  forget(partition: string): void {
    this.samples.delete(partition);
  }
}
