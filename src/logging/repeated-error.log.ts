import type { Logger } from 'pino';
import { errorSummary } from './logger';

const DEFAULT_INTERVAL_MS = 30_000;
const MAX_TRACKED = 100;

/**
 * Logs a connection error once, then the same error from the same source at most once per
 * interval with the count it stood for. A Redis outage makes every client report every reconnect
 * attempt; a line per attempt per client would bury everything else. Only the message and code
 * are logged: errors from Redis clients carry the command they failed on, AUTH included.
 */
export class RepeatedErrorLog {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `fields` (never secrets) go on the logged line; they do not tell errors apart. */
  report(source: string, error: unknown, fields: Record<string, unknown> = {}): void {
    const err = errorSummary(error);
    const key = `${source}\n${err.message}`;
    const entry = this.seen.get(key);
    const now = this.now();
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    if (!entry && this.seen.size >= MAX_TRACKED) {
      this.seen.clear();
    }
    this.seen.set(key, { at: now, suppressed: 0 });
    this.logger.warn(
      { ...fields, source, err, repeated: entry?.suppressed || undefined },
      this.message,
    );
  }

  /** The source is healthy again: its next error is news, logged at once. */
  recovered(source: string): void {
    for (const key of this.seen.keys()) {
      if (key.startsWith(`${source}\n`)) {
        this.seen.delete(key);
      }
    }
  }
}
