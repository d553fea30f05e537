import { performance } from 'node:perf_hooks';
import { frameLogId } from './frame-factory';
import { isRecord } from './http-json';

export interface SentLogEntry {
  id: string;
  at: number;
  sockets: number;
}

const SENT_LOG_LIMIT = 1_000_000;
/** Trimming a 1M-entry array is O(n), so it is done in chunks rather than on every push. */
const SENT_LOG_SLACK = 50_000;

/** Wall-clock ms with sub-ms precision, as `sentLog` entries and `sim_sent_at` carry it. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Every frame the simulator emitted, newest last, with how many sockets it reached; bounded to
 * the last `limit` entries. Also names frames that carry no id of their own.
 */
export class SentLog {
  private log: SentLogEntry[] = [];
  private logTotal = 0;
  private rawIdSeq = 0;

  constructor(
    private readonly limit = SENT_LOG_LIMIT,
    private readonly slack = SENT_LOG_SLACK,
  ) {}

  /** The last `limit` entries. */
  get entries(): SentLogEntry[] {
    this.trim();
    return this.log;
  }

  /** Entries ever appended, trimmed ones included. */
  get total(): number {
    return this.logTotal;
  }

  append(id: string, sockets: number): void {
    this.log.push({ id, at: epochMs(), sockets });
    this.logTotal++;
    if (this.log.length > this.limit + this.slack) {
      this.trim();
    }
  }

  /** The id of a built frame: its own (see `frameLogId`), else a `sim-<n>` one. */
  frameId(frame: Record<string, unknown>): string {
    return frameLogId(frame) ?? `sim-${++this.rawIdSeq}`;
  }

  /** The id of a frame given as text: its own when it is a JSON frame with one, else `raw-<n>`. */
  rawId(text: string): string {
    try {
      const parsed: unknown = JSON.parse(text);
      const id = isRecord(parsed) ? frameLogId(parsed) : undefined;
      if (id !== undefined) {
        return id;
      }
    } catch {
      // Not JSON: deliberately malformed frames still get a log entry.
    }
    return `raw-${++this.rawIdSeq}`;
  }

  private trim(): void {
    if (this.log.length > this.limit) {
      this.log = this.log.slice(this.log.length - this.limit);
    }
  }
}
