export interface TickBatcherOptions<T, R> {
  /** Writes one batch; resolves to one result per item, in order. Rejecting fails every item. */
  flush: (items: T[]) => Promise<R[]>;
  /** Items at which a batch is closed and the next one starts. */
  maxItems: number;
  /** Summed `sizeOf` at which a batch is closed (bytes, typically). */
  maxSize: number;
  sizeOf: (item: T) => number;
  /** Defers the first flush; `setImmediate` in production, so items of one socket read batch. */
  defer?: (run: () => void) => void;
}

interface Batch<T, R> {
  items: T[];
  size: number;
  waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[];
}

/**
 * Groups items that arrive together into one write, without a timer: the first item of an idle
 * batcher is written on the next turn of the event loop (with whatever else arrived in the same
 * turn), and while a write is in flight new items collect for the next one. At a low rate every
 * item is written alone and at once; under load the batches grow by themselves. One write at a
 * time keeps the written order the arrival order.
 */
export class TickBatcher<T, R> {
  private open: Batch<T, R> | undefined;
  private readonly sealed: Batch<T, R>[] = [];
  private writing = false;
  private scheduled = false;
  private readonly defer: (run: () => void) => void;

  constructor(private readonly options: TickBatcherOptions<T, R>) {
    if (!(options.maxItems >= 1) || !(options.maxSize > 0)) {
      throw new RangeError('maxItems must be at least 1 and maxSize positive');
    }
    this.defer = options.defer ?? ((run) => setImmediate(run));
  }

  /** Items queued or being written. */
  get size(): number {
    return (this.open?.items.length ?? 0) + this.sealed.reduce((sum, b) => sum + b.items.length, 0);
  }

  add(item: T): Promise<R> {
    const size = this.options.sizeOf(item);
    let batch = this.open;
    if (
      batch &&
      (batch.items.length >= this.options.maxItems || batch.size + size > this.options.maxSize)
    ) {
      this.sealed.push(batch);
      batch = undefined;
    }
    if (!batch) {
      batch = { items: [], size: 0, waiters: [] };
      this.open = batch;
    }
    batch.items.push(item);
    batch.size += size;
    const done = new Promise<R>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.writing && !this.scheduled) {
      this.scheduled = true;
      this.defer(() => {
        this.scheduled = false;
        void this.drain();
      });
    }
    return done;
  }

  private async drain(): Promise<void> {
    if (this.writing) {
      return;
    }
    this.writing = true;
    try {
      for (;;) {
        const batch = this.sealed.shift() ?? this.open;
        if (!batch) {
          return;
        }
        if (batch === this.open) {
          this.open = undefined;
        }
        await this.write(batch);
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: Batch<T, R>): Promise<void> {
    try {
      const results = await this.options.flush(batch.items);
      batch.waiters.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      batch.waiters.forEach((w) => w.reject(error));
    }
  }
}
