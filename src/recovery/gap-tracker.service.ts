import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import { MetricsService } from '../metrics/metrics.service';
import { OpentactConnection } from '../platform/opentact-connection.service';
import type { ConnectionState } from '../platform/opentact-connection.types';
import { CLAIM_LEASE_MS, GapRecoverer } from './gap-recoverer.service';
import { type ClaimedGap, RecoveryStateRepository } from './recovery-state.repository';

/** How often an authenticated link tells Redis it is receiving (the shared `seen` mark). */
export const HEARTBEAT_MS = 1_000;
/** A gap that could not be recovered is claimed again this long after, while the link is up. */
const RETRY_CLAIM_MS = 30_000;
const STOP_WAIT_MS = 5_000;

/**
 * Finds the gaps in the event stream and has them recovered. While the link is authenticated it
 * marks the time in Redis every second; when a link ends, the gap starts at the last frame, or at
 * the last moment the link was surely healthy (one ping period and the pong timeout before it
 * ended), whichever is later. When the next link authenticates (and at start-up, from the shared
 * mark, so a restart recovers the time it was away) the gap is claimed in Redis, so that two
 * ingest processes recover each moment once, and recovered in the background.
 */
@Injectable()
export class GapTracker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Unique per process and per app instance (tests run several in one process). */
  readonly instance = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly logger: Logger;
  private readonly errors: RepeatedErrorLog;
  private running = false;
  private linkOpen = false;
  private lastFrameAtMs?: number;
  /** Where the next gap starts; undefined at start-up (the shared mark stands in). */
  private pendingFromMs?: number;
  private heartbeat?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    private readonly connection: OpentactConnection,
    private readonly state: RecoveryStateRepository,
    private readonly recoverer: GapRecoverer,
    private readonly metrics: MetricsService,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'recovery' });
    this.errors = new RepeatedErrorLog(this.logger, 'recovery bookkeeping failed');
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.connection.addListener({
      onStateChange: (state) => this.onStateChange(state),
      onFrame: () => {
        this.lastFrameAtMs = Date.now();
      },
    });
    if (this.connection.isAuthenticated()) {
      this.onStateChange('open');
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, STOP_WAIT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private get enabled(): boolean {
    return this.config.recovery.maxWindowMs > 0;
  }

  private onStateChange(state: ConnectionState): void {
    if (!this.running) {
      return;
    }
    if (state === 'open' && !this.linkOpen) {
      this.linkOpen = true;
      this.onAuthenticated();
    } else if (state !== 'open' && this.linkOpen) {
      this.linkOpen = false;
      this.onLinkEnded(Date.now());
    }
  }

  private onLinkEnded(nowMs: number): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const { pingIntervalMs, pongTimeoutMs } = this.config.opentact;
    const surelyHealthy = nowMs - pingIntervalMs - pongTimeoutMs;
    const from = Math.min(nowMs, Math.max(this.lastFrameAtMs ?? surelyHealthy, surelyHealthy));
    this.pendingFromMs = Math.min(this.pendingFromMs ?? from, from);
    this.logger.info(
      { gapFrom: new Date(this.pendingFromMs).toISOString() },
      'Opentact link ended; what it misses is recovered once a link is back',
    );
  }

  private onAuthenticated(): void {
    const fromMs = this.pendingFromMs;
    this.pendingFromMs = undefined;
    // The claim goes first: it reads the shared mark before this process's heartbeats raise it.
    this.claim(fromMs);
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private beat(): void {
    this.state.markSeen(Date.now()).then(
      () => this.errors.recovered('seen'),
      (error: unknown) => this.errors.report('seen', error),
    );
  }

  /**
   * Claims the gap from `fromMs` (the shared mark when undefined) to now, and any claim left
   * unfinished, and recovers them. If the claim cannot be stored, the gap's start stays pending.
   */
  private claim(fromMs: number | undefined): void {
    if (!this.enabled) {
      return;
    }
    const nowMs = Date.now();
    const work = this.state
      .claim({
        fromMs,
        nowMs,
        maxWindowMs: this.config.recovery.maxWindowMs,
        owner: this.instance,
        leaseMs: CLAIM_LEASE_MS,
        id: `${nowMs}-${randomUUID().slice(0, 8)}`,
      })
      .then(
        (claims) => Promise.all(claims.map((gap) => this.recover(gap))).then(() => undefined),
        (error: unknown) => {
          this.errors.report('claim', error);
          if (fromMs !== undefined) {
            this.pendingFromMs = Math.min(this.pendingFromMs ?? fromMs, fromMs);
          }
          this.scheduleRetry();
        },
      );
    this.track(work);
  }

  private async recover(gap: ClaimedGap): Promise<void> {
    this.metrics.recoveryGaps.inc();
    try {
      await this.recoverer.recover(gap, this.instance, () => this.running);
    } catch {
      // Logged by the recoverer. Let the claim lapse now so a retry (here or elsewhere) takes it.
      await this.state.renew(gap.id, this.instance, 0).catch(() => false);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer) {
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // While the link is down there is nothing to do: the next authentication claims anyway.
      if (this.running && this.linkOpen) {
        const fromMs = this.pendingFromMs;
        this.pendingFromMs = undefined;
        this.claim(fromMs ?? Date.now());
      }
    }, RETRY_CLAIM_MS);
    this.retryTimer.unref();
  }

  private track(work: Promise<void>): void {
    const tracked: Promise<void> = work.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
