import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { OperationalEvents } from './operational-events';
import { Clock } from '../common/clock';
import { SubscriptionHealthRepository } from '../subscriptions/subscription-health.repository';

/** An attempt in flight longer than this makes its endpoint "slow" for the inline decision. */
export const SLOW_ATTEMPT_MS = 250;
/** This many slow attempts in flight at once and the endpoint goes through the queue. */
export const MAX_SLOW_INLINE = 2;
/** A busy healthy endpoint writes its last success at most this often. */
export const SUCCESS_WRITE_INTERVAL_MS = 1_000;

/** What this class needs of the subscriptions store. */
export type EndpointHealthStore = Pick<
  SubscriptionHealthRepository,
  'recordSuccess' | 'recordFailure' | 'disable'
>;

/** A handle on one attempt in flight, returned by `started`. */
export interface AttemptTicket {
  readonly subscriptionId: string;
  readonly key: number;
}

/**
 * What the service knows about each endpoint's health: the attempts in flight in this process
 * and whether its last attempt here failed (which decide whether the fan-out may attempt it
 * inline), the failure run that ends in auto-disable, and the 410 that disables at once.
 */
@Injectable()
export class EndpointHealth {
  private readonly logger: Logger;
  private readonly inflight = new Map<string, Map<number, number>>();
  private readonly failedLast = new Map<string, boolean>();
  private readonly lastSuccessWrite = new Map<string, number>();
  private nextKey = 0;
  private readonly disableAfterMs: number;

  constructor(
    config: AppConfig,
    @Inject(SubscriptionHealthRepository) private readonly store: EndpointHealthStore,
    private readonly metrics: MetricsService,
    private readonly operational: OperationalEvents,
    private readonly clock: Clock,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'endpoint-health' });
    this.disableAfterMs = config.delivery.disableAfterMs;
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }

  /**
   * Whether the fan-out may make the first attempt itself instead of queueing it. Not for a
   * subscription whose last attempt here failed, nor one with attempts stuck in flight (a slow
   * endpoint): those go through the deliveries queue, so a slow or failing endpoint cannot hold
   * the fan-out slots everyone else's events need.
   */
  canAttemptInline(subscriptionId: string): boolean {
    if (this.failedLast.get(subscriptionId) === true) {
      return false;
    }
    const starts = this.inflight.get(subscriptionId);
    if (!starts) {
      return true;
    }
    // A fast endpoint never has an attempt in flight for long, whatever the load; two attempts
    // stuck past SLOW_ATTEMPT_MS mark a slow one before it can take many fan-out slots.
    const slowBefore = this.nowMs() - SLOW_ATTEMPT_MS;
    let slow = 0;
    for (const startedAt of starts.values()) {
      if (startedAt < slowBefore && ++slow >= MAX_SLOW_INLINE) {
        return false;
      }
    }
    return true;
  }

  started(subscriptionId: string): AttemptTicket {
    const key = this.nextKey++;
    let starts = this.inflight.get(subscriptionId);
    if (!starts) {
      starts = new Map();
      this.inflight.set(subscriptionId, starts);
    }
    starts.set(key, this.nowMs());
    return { subscriptionId, key };
  }

  finished(ticket: AttemptTicket, succeeded: boolean): void {
    const starts = this.inflight.get(ticket.subscriptionId);
    if (starts) {
      starts.delete(ticket.key);
      if (starts.size === 0) {
        this.inflight.delete(ticket.subscriptionId);
      }
    }
    if (succeeded) {
      this.failedLast.delete(ticket.subscriptionId);
    } else {
      this.failedLast.set(ticket.subscriptionId, true);
    }
  }

  /**
   * Ends a failure run. Another worker may have started one, so this cannot rely on local state;
   * it is written at most once a second per subscription, which keeps a busy healthy endpoint
   * from costing a Redis write per delivery while clearing any run within a second.
   */
  async succeeded(subscriptionId: string): Promise<void> {
    const nowMs = this.nowMs();
    const last = this.lastSuccessWrite.get(subscriptionId) ?? 0;
    if (nowMs - last < SUCCESS_WRITE_INTERVAL_MS) {
      return;
    }
    this.lastSuccessWrite.set(subscriptionId, nowMs);
    await this.store.recordSuccess(subscriptionId, new Date(nowMs));
  }

  /**
   * Extends the failure run, and disables a subscription that has failed without a single
   * success for DELIVERY_DISABLE_AFTER. Returns the reason when this call disabled it.
   */
  async failed(subscriptionId: string): Promise<string | undefined> {
    const now = new Date(this.nowMs());
    const { failingSince } = await this.store.recordFailure(subscriptionId, now);
    if (failingSince === null || now.getTime() - Date.parse(failingSince) < this.disableAfterMs) {
      return undefined;
    }
    const reason = `failing without a success since ${failingSince}`;
    if (await this.store.disable(subscriptionId, reason, now)) {
      this.metrics.subscriptionsDisabled.inc({ reason: 'failing' });
      await this.operational.subscriptionDisabled({
        subscriptionId,
        reason,
        cause: 'failing',
        disabledAt: now.toISOString(),
      });
      this.logger.warn(
        { subscriptionId, failingSince },
        'subscription disabled: failing for too long',
      );
      return reason;
    }
    return undefined;
  }

  /** The endpoint answered 410 Gone: Standard Webhooks says stop sending to it. */
  async gone(subscriptionId: string, reason: string): Promise<void> {
    const now = new Date(this.nowMs());
    if (await this.store.disable(subscriptionId, reason, now)) {
      this.metrics.subscriptionsDisabled.inc({ reason: 'gone' });
      await this.operational.subscriptionDisabled({
        subscriptionId,
        reason,
        cause: 'gone',
        disabledAt: now.toISOString(),
      });
      this.logger.warn({ subscriptionId, reason }, 'subscription disabled: endpoint is gone');
    }
  }
}
