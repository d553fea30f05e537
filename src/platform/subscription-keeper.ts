import type { Logger } from 'pino';
import type { Clock } from '../common/clock';
import type { OpentactConfig } from '../config/app-config';
import type { ConnectionListeners } from './connection-listeners';
import { errorInfo, isoOf, MAX_TIMER_MS, OneShotTimer } from './connection-support';
import type { SubscriptionsState, SubscriptionsStatus } from './opentact-connection.types';
import {
  type EnsuredSubscriptions,
  type OpentactSubscriptionsClient,
  SUBSCRIPTION_RENEW_MARGIN_MS,
} from './opentact-subscriptions.client';
import { computeEqualJitterBackoffMs } from './reconnect-backoff';

/** A renewal never comes sooner than this, whatever expiry the server reports. */
const MIN_SUBSCRIPTION_RENEWAL_MS = 60_000;

export type SubscriptionKeeperConfig = Pick<
  OpentactConfig,
  'subscribe' | 'reconnectBaseMs' | 'reconnectMaxMs'
>;

/**
 * Keeps OPENTACT_SUBSCRIBE subscribed while the link is open, without holding up the stream. A
 * failure (a refusal with `success: false` among them) is counted, reported to listeners and
 * retried with backoff while the link is open; a success schedules a renewal shortly before the
 * first ensured entry lapses. While the link is down nothing runs: the next authentication
 * ensures them anyway.
 */
export class SubscriptionKeeper {
  private readonly timer = new OneShotTimer();
  /** Bumped by stop(): an attempt started before drops its result. */
  private generation = 0;
  private linkOpen = false;
  /** The token of the authenticated primary socket, for retries and renewals. */
  private token?: string;
  private running?: Promise<void>;
  private state: SubscriptionsState;
  private failures = 0;
  private lastError?: string;
  private ensuredAt?: Date;
  private nextAttemptAt?: Date;

  constructor(
    private readonly config: SubscriptionKeeperConfig,
    private readonly rest: Pick<OpentactSubscriptionsClient, 'ensureSubscriptions'>,
    private readonly listeners: ConnectionListeners,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {
    this.state = config.subscribe.length === 0 ? 'disabled' : 'pending';
  }

  /** The link authenticated with `token`: ensure the subscriptions now. */
  linkUp(token: string): void {
    this.linkOpen = true;
    this.token = token;
    this.ensure();
  }

  /** A refreshed socket took over: later attempts use its token. */
  useToken(token: string): void {
    this.token = token;
  }

  linkDown(): void {
    this.linkOpen = false;
  }

  stop(): void {
    this.generation++;
    this.linkOpen = false;
    this.timer.clear();
    this.nextAttemptAt = undefined;
  }

  /** The attempt in flight, if any, for a bounded drain on stop. */
  inFlight(): Promise<void>[] {
    return this.running ? [this.running] : [];
  }

  status(): SubscriptionsStatus {
    return {
      state: this.state,
      failures: this.failures,
      lastError: this.lastError,
      lastEnsuredAt: this.ensuredAt?.toISOString(),
      nextAttemptAt: this.nextAttemptAt?.toISOString(),
    };
  }

  private ensure(): void {
    const token = this.token;
    if (
      this.config.subscribe.length === 0 ||
      this.running !== undefined ||
      token === undefined ||
      !this.linkOpen
    ) {
      return;
    }
    this.timer.clear();
    this.nextAttemptAt = undefined;
    const generation = this.generation;
    this.running = this.rest
      .ensureSubscriptions(token, this.config.subscribe)
      .then(
        (ensured) => {
          if (generation === this.generation) {
            this.onEnsured(ensured);
          }
        },
        (error: unknown) => {
          if (generation === this.generation) {
            this.onFailed(error);
          }
        },
      )
      .finally(() => {
        this.running = undefined;
      });
  }

  private onEnsured(ensured: EnsuredSubscriptions): void {
    const { created, reactivated = [], removed = [], expiresAtMs } = ensured;
    if (created.length > 0) {
      this.logger.info(
        { types: created.map((s) => s.type), expiresAt: isoOf(expiresAtMs) },
        'created Opentact event subscriptions',
      );
    }
    if (reactivated.length > 0 || removed.length > 0) {
      this.logger.info(
        { reactivated: reactivated.map((s) => s.type), removed: removed.length },
        'renewed lapsed Opentact event subscriptions',
      );
    }
    if (this.failures > 0) {
      this.logger.info(
        { failedAttempts: this.failures },
        'Opentact event subscriptions ensured after failures',
      );
    }
    this.state = 'ok';
    this.failures = 0;
    this.lastError = undefined;
    this.ensuredAt = this.clock.now();
    if (expiresAtMs !== undefined) {
      const renewIn = Math.max(
        MIN_SUBSCRIPTION_RENEWAL_MS,
        expiresAtMs - SUBSCRIPTION_RENEW_MARGIN_MS - this.ensuredAt.getTime(),
      );
      this.scheduleCheck(renewIn);
    }
  }

  private onFailed(error: unknown): void {
    const { message, code } = errorInfo(error);
    this.state = 'failing';
    this.failures++;
    this.lastError = message;
    const retryInMs = computeEqualJitterBackoffMs(
      this.failures - 1,
      { baseMs: this.config.reconnectBaseMs, maxMs: this.config.reconnectMaxMs },
      this.random,
    );
    this.logger.warn(
      { err: { message, code }, attempt: this.failures, retryInMs },
      'could not ensure Opentact event subscriptions; retrying',
    );
    this.listeners.notify('onSubscriptionError', message);
    this.scheduleCheck(retryInMs);
  }

  private scheduleCheck(delayMs: number): void {
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, delayMs));
    this.nextAttemptAt = new Date(this.clock.now().getTime() + delay);
    this.timer.set(delay, () => {
      this.nextAttemptAt = undefined;
      this.ensure();
    });
  }
}
