import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import { MetricsService, statusClass } from '../metrics/metrics.service';
import { OperationalStatsRepository } from '../metrics/operational-stats.repository';
import type { Subscription } from '../subscriptions/subscription.model';
import { classifyAttempt } from './delivery-outcome';
import { type DeliveryIdentity, DeliveryRecordRepository } from './delivery-record.repository';
import { type DeliveryAttempt as AttemptRecord, DeliveryStatus } from './delivery.model';
import { EndpointHealth } from './endpoint-health';
import { OperationalEvents } from './operational-events';
import { SubscriptionLimiter } from './subscription-limiter';
import { applyRetryAfter, nextDelayMs } from './retry-schedule';
import type { HttpAttemptResult } from './webhook-http.client';
import { WebhookSender } from './webhook-sender';

/** One attempt to make: who, what, and where in its schedule. */
export interface AttemptTarget {
  identity: DeliveryIdentity;
  /** Enabled, resolved by the caller. */
  subscription: Pick<Subscription, 'id' | 'url' | 'headers' | 'secrets'>;
  /** The stored webhook body, sent byte for byte. */
  body: string;
  /** 1 for the first attempt of the current schedule (a manual retry starts a new one). */
  attemptNumber: number;
  /** Created by a manual retry or replay: does not count toward auto-disable or latency. */
  manual: boolean;
  /** When the bridge read the frame (epoch ms): the start of the end-to-end latency. */
  receivedAtMs: number;
}

export interface AttemptOptions {
  /**
   * Called before a failed attempt is recorded as failing: the fan-out queues the retry job here,
   * so a crash in between leaves the delivery pending (attempted again) rather than stranded.
   */
  beforeRetryRecorded?: (delayMs: number) => Promise<void>;
}

/** What should happen after one attempt. */
export type AttemptResolution =
  | { kind: 'done' }
  | { kind: 'retry'; reason: string; delayMs: number; nextAttemptAtMs: number }
  | { kind: 'dead'; reason: string };

/**
 * Runs one delivery attempt and decides what it means: send (signed), classify, record the
 * attempt with the delivery's new state in one write, tell the endpoint's health. It never throws
 * for a failed delivery; it says what should happen next, and the caller maps that onto its
 * queue (or onto a retry job, for the fan-out's inline attempt).
 */
@Injectable()
export class DeliveryAttempt {
  private readonly logger: Logger;
  private readonly retryScheduleMs: number[];
  private readonly retryJitter: number;
  private readonly retryAfterMaxMs: number;

  constructor(
    config: AppConfig,
    private readonly sender: WebhookSender,
    private readonly records: DeliveryRecordRepository,
    private readonly health: EndpointHealth,
    private readonly metrics: MetricsService,
    private readonly stats: OperationalStatsRepository,
    private readonly limiter: SubscriptionLimiter,
    private readonly operational: OperationalEvents,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'delivery' });
    this.retryScheduleMs = config.delivery.retryScheduleMs;
    this.retryJitter = config.delivery.retryJitter;
    this.retryAfterMaxMs = config.delivery.retryAfterMaxMs;
  }

  async run(target: AttemptTarget, options: AttemptOptions = {}): Promise<AttemptResolution> {
    const { identity, subscription } = target;
    const now = new Date();
    const ticket = this.health.started(subscription.id);
    let result: HttpAttemptResult;
    try {
      result = await this.sender.send(
        subscription,
        { eventId: identity.eventId, body: target.body },
        now,
      );
    } catch (error) {
      // Not the receiver's doing (a stored secret that cannot sign, a URL no longer http): kept
      // as a failed attempt with its reason, retried on the schedule so a fix by an operator
      // (a rotated secret, an edited URL) is picked up.
      result = {
        headers: {},
        body: '',
        bodyTruncated: false,
        durationMs: 0,
        error: {
          kind: 'internal',
          message: error instanceof Error ? error.message : String(error),
        },
      };
    }
    const outcome = classifyAttempt(result, new Date(), { retryAfterMaxMs: this.retryAfterMaxMs });
    this.health.finished(ticket, outcome.kind === 'success');
    const cls = statusClass(result.statusCode);
    this.metrics.attemptDuration.observe({ status_class: cls }, result.durationMs / 1000);

    const attempt: AttemptRecord = {
      attempt: target.attemptNumber,
      at: now.toISOString(),
      durationMs: Math.round(result.durationMs),
      statusCode: result.statusCode,
      error: result.error ? `${result.error.kind}: ${result.error.message}` : undefined,
      responseBody: result.body === '' ? undefined : result.body,
      responseTruncated: result.bodyTruncated || undefined,
    };

    if (outcome.kind === 'success') {
      await Promise.all([
        this.records.recordAttempt(identity, attempt, { status: DeliveryStatus.Succeeded }),
        this.health.succeeded(subscription.id),
      ]);
      this.metrics.deliveries.inc({ outcome: 'success', status_class: cls });
      this.stats.countDelivery('success');
      if (target.attemptNumber === 1 && !target.manual) {
        this.metrics.endToEndLatency.observe((Date.now() - target.receivedAtMs) / 1000);
      }
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug(
          {
            deliveryId: identity.deliveryId,
            attempt: attempt.attempt,
            statusCode: result.statusCode,
          },
          'delivered',
        );
      }
      return { kind: 'done' };
    }

    if (outcome.kind === 'disable') {
      await this.records.recordAttempt(
        identity,
        { ...attempt, error: outcome.reason },
        { status: DeliveryStatus.Dead },
      );
      await this.health.gone(subscription.id, outcome.reason);
      this.metrics.deliveries.inc({ outcome: 'disabled', status_class: cls });
      this.stats.countDelivery('disabled');
      return { kind: 'dead', reason: outcome.reason };
    }

    const reason = attempt.error ?? outcome.reason;
    if (outcome.retryAfterMs !== undefined) {
      // The receiver asked for a break: every delivery of the subscription waits, not only this.
      await this.limiter.pause(subscription.id, Date.now() + outcome.retryAfterMs);
      this.metrics.subscriptionPauses.inc();
    }
    if (!target.manual) {
      await this.health.failed(subscription.id);
    }
    // No delay once the schedule is used up: attempt schedule.length + 1 was the last.
    const scheduled = nextDelayMs(target.attemptNumber, this.retryScheduleMs, this.retryJitter);
    if (scheduled === undefined) {
      const attempts = await this.records.recordAttempt(
        identity,
        { ...attempt, error: reason },
        { status: DeliveryStatus.Dead },
      );
      await this.operational.deliveryDead(
        {
          deliveryId: identity.deliveryId,
          eventId: identity.eventId,
          eventType: identity.eventType,
          subscriptionId: subscription.id,
          attempts,
          lastStatusCode: attempt.statusCode,
          lastError: reason,
        },
        attempt.at,
      );
      this.metrics.deliveries.inc({ outcome: 'dead', status_class: cls });
      this.stats.countDelivery('dead');
      this.logger.warn(
        {
          deliveryId: identity.deliveryId,
          subscriptionId: subscription.id,
          attempt: attempt.attempt,
          statusCode: attempt.statusCode,
          reason,
        },
        'delivery dead: every attempt failed',
      );
      return { kind: 'dead', reason: `every attempt failed; last: ${reason}` };
    }
    const delayMs = applyRetryAfter(scheduled, outcome.retryAfterMs, this.retryAfterMaxMs);
    const nextAttemptAtMs = Date.now() + delayMs;
    await options.beforeRetryRecorded?.(delayMs);
    await this.records.recordAttempt(
      identity,
      { ...attempt, error: reason },
      { status: DeliveryStatus.Failing, nextAttemptAtMs },
    );
    this.metrics.deliveries.inc({ outcome: 'retry', status_class: cls });
    this.stats.countDelivery('retry');
    if (this.logger.isLevelEnabled('info')) {
      this.logger.info(
        {
          deliveryId: identity.deliveryId,
          subscriptionId: subscription.id,
          attempt: attempt.attempt,
          statusCode: attempt.statusCode,
          reason,
          nextAttemptAt: new Date(nextAttemptAtMs).toISOString(),
        },
        'delivery failed; retry scheduled',
      );
    }
    return { kind: 'retry', reason, delayMs, nextAttemptAtMs };
  }

  /** Records that a delivery will not be sent (subscription gone or off, event expired). */
  async skip(identity: DeliveryIdentity, reason: string): Promise<void> {
    const nowMs = Date.now();
    if (
      !(await this.records.setStatus(identity.deliveryId, DeliveryStatus.Skipped, nowMs, reason))
    ) {
      // No record yet (a queued first attempt whose record write was lost): make one to say so.
      await this.records.createPending(identity);
      await this.records.setStatus(identity.deliveryId, DeliveryStatus.Skipped, nowMs, reason);
    }
    this.metrics.deliveries.inc({ outcome: 'skipped', status_class: 'none' });
    this.stats.countDelivery('skipped');
    this.logger.info({ deliveryId: identity.deliveryId, reason }, 'delivery skipped');
  }
}
