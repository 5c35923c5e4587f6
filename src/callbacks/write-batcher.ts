/**
 * Group commit for a dispatcher's outcomes: items handed in while a write is in flight are written
 * together by the next one. One write at a time; the first item after a quiet spell is written at
 * once (no timer, no added latency), and under load each write takes everything that queued during
 * the one before (up to `maxBatch`), so the number of writes tracks the store's pace rather than
 * the number of items. A failed write fails the items it held, and only those.
 */
export type BatchWrite<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

export class WriteBatcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private writing = false;

  /** `write` answers one result per item, in order. */
  constructor(
    private readonly write: BatchWrite<I, O>,
    private readonly maxBatch: number,
  ) {}

  /** Resolves with the item's result once the write holding it has committed. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        void this.writeAll();
      }
    });
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const results = await this.write(batch.map((w) => w.item));
        if (results.length !== batch.length) {
          throw new Error(`a batch write answered ${results.length} results for ${batch.length} items`);
        }
        batch.forEach((w, i) => w.resolve(results[i]!));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    // Cleared in the same turn as the empty check above: an item added later starts a new write.
    this.writing = false;
  }
}
