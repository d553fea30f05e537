import type { Logger } from 'pino';
import type { OpentactConfig } from '../config/app-config';
import { OneShotTimer } from './connection-support';
import { BackoffTracker, computeEqualJitterBackoffMs } from './reconnect-backoff';

const AUTH_BACKOFF_CAP_FACTOR = 10;
/**
 * Oversized frames in a row (without a stable connection between them) that reconnect at once;
 * beyond this the usual backoff applies, so a peer that keeps sending them cannot drive a loop.
 */
const MAX_IMMEDIATE_OVERSIZE_RECONNECTS = 3;

export type ReconnectConfig = Pick<
  OpentactConfig,
  'reconnectBaseMs' | 'reconnectMaxMs' | 'authFailureBackoffMs' | 'stableAfterMs'
>;

/**
 * When the link dials again: jittered backoff after a lost or failed socket, a long growing delay
 * after refused credentials, at once after an oversized frame (a few in a row), and the backoff
 * forgotten once a link has stayed up for `stableAfterMs`.
 */
export class ReconnectScheduler {
  private readonly backoff: BackoffTracker;
  private readonly reconnectTimer = new OneShotTimer();
  private readonly stableTimer = new OneShotTimer();
  private consecutiveAuthFailures = 0;
  private oversizeStreak = 0;

  constructor(
    private readonly config: ReconnectConfig,
    private readonly reconnect: () => void,
    private readonly logger: Logger,
    private readonly random: () => number,
  ) {
    this.backoff = new BackoffTracker(
      { baseMs: config.reconnectBaseMs, maxMs: config.reconnectMaxMs },
      random,
    );
  }

  /** Dials again after the next backoff delay. */
  afterFailure(): void {
    this.schedule(this.backoff.next());
  }

  /** Counts refused credentials; returns how many in a row. */
  authRefused(): number {
    return ++this.consecutiveAuthFailures;
  }

  /** Long, growing and jittered: retrying refused credentials quickly helps nobody. */
  afterAuthFailure(): void {
    const base = this.config.authFailureBackoffMs;
    this.schedule(
      computeEqualJitterBackoffMs(
        this.consecutiveAuthFailures - 1,
        { baseMs: base, maxMs: base * AUTH_BACKOFF_CAP_FACTOR },
        this.random,
      ),
    );
  }

  /**
   * The peer is fine and the frame is gone: waiting, or growing the backoff, would only lose the
   * frames sent meanwhile. Dials at once and returns true, or returns false once too many came in
   * a row (the caller then falls back to backoff). `inARow` counts them.
   */
  afterOversizeFrame(): { immediate: boolean; inARow: number } {
    this.oversizeStreak++;
    if (this.oversizeStreak > MAX_IMMEDIATE_OVERSIZE_RECONNECTS) {
      return { immediate: false, inARow: this.oversizeStreak };
    }
    this.schedule(0);
    return { immediate: true, inARow: this.oversizeStreak };
  }

  /** A link authenticated: refusals are over, and staying up resets the backoff. */
  connected(): void {
    this.consecutiveAuthFailures = 0;
    this.stableTimer.set(this.config.stableAfterMs, () => {
      this.backoff.reset();
      this.oversizeStreak = 0;
    });
  }

  /** The authenticated link ended before it was stable. */
  linkLost(): void {
    this.stableTimer.clear();
  }

  cancel(): void {
    this.reconnectTimer.clear();
    this.stableTimer.clear();
  }

  private schedule(delayMs: number): void {
    this.reconnectTimer.clear();
    this.logger.info({ delayMs }, 'reconnecting to Opentact after a delay');
    this.reconnectTimer.set(delayMs, this.reconnect);
  }
}
