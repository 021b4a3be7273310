/**
 * The request chunks of one partition that a Kafka model server is answering: chunks are answered
 * concurrently (the consumer fetches the next ones meanwhile), and an offset is committed only when
 * its chunk and every chunk before it have their replies acknowledged. Commits are coalesced: while
 * one is in flight, later ones wait and only the newest offset is sent.
 *
 * A chunk that cannot be answered breaks the lane: nothing after it is committed, and `onFailure`
 * is told its first offset so the server can seek back and answer it again in a fresh lane.
 */
export class PartitionLane {
  private tail: Promise<void> = Promise.resolve();
  private target: string | undefined;
  private sent: string | undefined;
  private committing: Promise<void> | undefined;
  private broken = false;

  constructor(
    /** Commits the offset; must not reject (a failed commit only means these requests are answered again). */
    private readonly commitOffset: (offset: string) => Promise<void>,
    private readonly onFailure: (firstOffset: string, error: unknown) => void,
  ) {}

  /** A chunk from `first` whose replies are produced by `answered`; `next` is the offset after its last record. */
  add(first: string, next: string, answered: Promise<void>): void {
    const ok = answered.then(
      () => true,
      (error: unknown) => {
        if (!this.broken) {
          this.broken = true;
          this.onFailure(first, error);
        }
        return false;
      },
    );
    this.tail = this.tail.then(async () => {
      if ((await ok) && !this.broken) {
        this.target = next;
        this.flush();
      }
    });
  }

  /** Resolves when every chunk added so far is answered (or failed) and the last commit is done. */
  async settled(): Promise<void> {
    await this.tail;
    await this.committing;
  }

  private flush(): void {
    if (this.committing !== undefined || this.target === this.sent) return;
    this.committing = (async () => {
      try {
        while (this.target !== this.sent && !this.broken) {
          const offset = this.target!;
          await this.commitOffset(offset);
          this.sent = offset;
        }
      } finally {
        this.committing = undefined;
      }
    })();
  }
}
