/**
 * Spaces out requests to at most `perSecond`, in this process: each `next()` resolves when the
 * next request may start. Recovery after a long outage runs many searches back to back; Opentact
 * states no rate limit, so the bridge sets its own.
 */
export class RequestPacer {
  private nextAtMs = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.intervalMs = 1000 / perSecond;
  }

  async next(): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.nextAtMs);
    this.nextAtMs = at + this.intervalMs;
    if (at > now) {
      await this.sleep(at - now);
    }
  }
}
