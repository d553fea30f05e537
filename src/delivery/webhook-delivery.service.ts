import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import type { NormalizedEvent } from '../events/normalized-event';
import { InjectLogger } from '../logging/logging.module';
import { MetricsService, statusClass } from '../metrics/metrics.service';
import {
  type DeliveryJobData,
  type EventJobData,
  eventJobId,
  QueueName,
} from '../queue/queue.constants';
import { InjectRedis } from '../redis/redis.module';
import type { Subscription } from '../subscriptions/subscription.model';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.service';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { classifyAttempt, type DeliveryOutcome } from './delivery-outcome';
import { PermanentDeliveryError, RetryableDeliveryError } from './delivery-errors';
import { DeliveryRecordRepository } from './delivery-record.repository';
import { type DeliveryAttempt, DeliveryStatus } from './delivery.model';
import { applyRetryAfter, nextDelayMs } from './retry-schedule';
import { type HttpAttemptResult, WebhookHttpClient } from './webhook-http.client';
import { WebhookSigner } from './webhook-signer';

const SUCCESS_WRITE_INTERVAL_MS = 1_000;
/** An attempt in flight longer than this makes its endpoint "slow" for the inline decision. */
const SLOW_ATTEMPT_MS = 250;
const MAX_SLOW_INLINE = 2;

export interface AttemptOptions {
  /** The event, when the caller already holds it (the fan-out). */
  event?: EventJobData;
  /**
   * Called before a failed attempt is recorded as failing: the fan-out queues the retry job here,
   * so a crash in between leaves the delivery pending (attempted again) rather than stranded.
   */
  beforeRetryRecorded?: (delayMs: number) => Promise<void>;
}

/** What should happen after one attempt. */
export type AttemptResolution =
  | { kind: 'done' }
  | { kind: 'retry'; reason: string; delayMs: number; nextAttemptAt: string }
  | { kind: 'dead'; reason: string };

/** The webhook body: the normalised event, field for field. */
export function webhookBody(event: NormalizedEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    data: event.data,
    raw: event.raw,
  });
}

/**
 * Runs one delivery attempt: load, sign, send, record, classify. A failed attempt always throws
 * (never swallowed) so BullMQ counts it and schedules the next one through the webhook backoff.
 */
@Injectable()
export class WebhookDelivery {
  private readonly logger: Logger;
  private readonly maxAttempts: number;
  private readonly lastSuccessWrite = new Map<string, number>();
  /** Per subscription, in this process: attempts in flight, and whether the last one failed. */
  private readonly inflight = new Map<string, Map<number, number>>();
  private readonly failedLast = new Map<string, boolean>();
  private nextAttemptKey = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly http: WebhookHttpClient,
    private readonly signer: WebhookSigner,
    private readonly records: DeliveryRecordRepository,
    private readonly subscriptions: SubscriptionsService,
    private readonly subscriptionsRepo: SubscriptionsRepository,
    private readonly metrics: MetricsService,
    private readonly registry: SubscriptionRegistry,
    @InjectQueue(QueueName.Events) private readonly events: Queue<EventJobData>,
    @InjectRedis() private readonly redis: Redis,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'delivery' });
    this.maxAttempts = config.delivery.retryScheduleMs.length + 1;
  }

  /** The deliveries-queue path: one attempt of a job; a failure throws so BullMQ counts it. */
  async deliver(job: Job<DeliveryJobData>): Promise<void> {
    const attemptNumber = job.attemptsMade + 1 + (job.data.attemptOffset ?? 0);
    const resolution = await this.attempt(job.data, attemptNumber);
    if (resolution.kind === 'retry') {
      // The backoff strategy reads the delay back from the error, so the job waits exactly this long.
      throw new RetryableDeliveryError(resolution.reason, resolution.delayMs);
    }
    if (resolution.kind === 'dead') {
      throw new PermanentDeliveryError(resolution.reason);
    }
  }

  /**
   * Whether the fan-out may make the first attempt itself instead of queueing a delivery job.
   * Not for a subscription whose last attempt here failed, nor one with attempts stuck in flight
   * (a slow endpoint): those go through the deliveries queue, so a slow or failing endpoint
   * cannot hold the fan-out slots everyone else's events need.
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
    const slowBefore = Date.now() - SLOW_ATTEMPT_MS;
    let slow = 0;
    for (const startedAt of starts.values()) {
      if (startedAt < slowBefore && ++slow >= MAX_SLOW_INLINE) {
        return false;
      }
    }
    return true;
  }

  /**
   * One attempt: load, sign, send, record, classify. Used by both paths; it never throws for a
   * failed delivery, it says what should happen next.
   */
  async attempt(
    data: DeliveryJobData,
    attemptNumber: number,
    options: AttemptOptions = {},
  ): Promise<AttemptResolution> {
    const { deliveryId, eventId, subscriptionId } = data;
    const log = this.logger.child({ deliveryId, eventId, subscriptionId });
    const now = new Date();

    const subscription = await this.loadSubscription(subscriptionId);
    if (!subscription || !subscription.enabled) {
      const reason = subscription ? 'subscription disabled' : 'subscription deleted';
      await this.records.setStatus(deliveryId, DeliveryStatus.Skipped, now.toISOString(), reason);
      this.metrics.deliveries.inc({ outcome: 'skipped', status_class: 'none' });
      log.info({ reason }, 'delivery skipped');
      return { kind: 'done' };
    }
    const event = options.event ?? (await this.loadEvent(eventId));
    if (!event) {
      const reason = 'event no longer retained';
      await this.records.setStatus(deliveryId, DeliveryStatus.Skipped, now.toISOString(), reason);
      this.metrics.deliveries.inc({ outcome: 'skipped', status_class: 'none' });
      log.warn({ reason }, 'delivery skipped');
      return { kind: 'done' };
    }

    const body = webhookBody(event);
    const timestampSec = Math.floor(now.getTime() / 1000);
    const headers: Record<string, string> = {
      ...subscription.headers,
      'webhook-id': eventId,
      'webhook-timestamp': String(timestampSec),
      'webhook-signature': this.signer.sign({
        msgId: eventId,
        timestampSec,
        body,
        secrets: this.subscriptions.activeSecrets(subscription, now),
      }),
    };
    const attemptKey = this.nextAttemptKey++;
    let starts = this.inflight.get(subscriptionId);
    if (!starts) {
      starts = new Map();
      this.inflight.set(subscriptionId, starts);
    }
    starts.set(attemptKey, Date.now());
    let result: HttpAttemptResult;
    try {
      result = await this.http.post(subscription.url, headers, body);
    } finally {
      starts.delete(attemptKey);
    }
    const outcome = classifyAttempt(result, new Date(), {
      retryAfterMaxMs: this.config.delivery.retryAfterMaxMs,
    });
    this.failedLast.set(subscriptionId, outcome.kind !== 'success');
    const cls = statusClass(result.statusCode);
    this.metrics.attemptDuration.observe({ status_class: cls }, result.durationMs / 1000);

    const attempt: DeliveryAttempt = {
      attempt: attemptNumber,
      at: now.toISOString(),
      durationMs: Math.round(result.durationMs),
      statusCode: result.statusCode,
      error: result.error ? `${result.error.kind}: ${result.error.message}` : undefined,
      responseBody: result.body === '' ? undefined : result.body,
      responseTruncated: result.bodyTruncated || undefined,
    };
    const logFields = {
      attempt: attemptNumber,
      statusCode: result.statusCode,
      durationMs: attempt.durationMs,
    };

    if (outcome.kind === 'success') {
      await Promise.all([
        this.records.recordAttempt(deliveryId, attempt, { status: DeliveryStatus.Succeeded }),
        this.noteSuccess(subscriptionId, now),
      ]);
      this.metrics.deliveries.inc({ outcome: 'success', status_class: cls });
      if (attemptNumber === 1 && !data.manual) {
        this.metrics.endToEndLatency.observe((Date.now() - data.receivedAtMs) / 1000);
      }
      log.debug(logFields, 'delivered');
      return { kind: 'done' };
    }

    if (outcome.kind === 'disable') {
      await this.records.recordAttempt(
        deliveryId,
        { ...attempt, error: outcome.reason },
        { status: DeliveryStatus.Dead },
      );
      await this.subscriptionsRepo.disable(subscriptionId, outcome.reason, now);
      this.metrics.deliveries.inc({ outcome: 'disabled', status_class: cls });
      this.metrics.subscriptionsDisabled.inc({ reason: 'gone' });
      log.warn({ ...logFields, reason: outcome.reason }, 'subscription disabled: endpoint is gone');
      return { kind: 'dead', reason: outcome.reason };
    }

    return this.retryOrDie(data, outcome, attempt, subscription, log, options);
  }

  /**
   * From the registry's in-memory snapshot (no Redis round trip on the hot path); a subscription
   * the snapshot does not hold (just created, disabled, deleted) is read from Redis.
   */
  private async loadSubscription(id: string): Promise<Subscription | undefined> {
    const compiled = await this.registry.findEnabled(id);
    return compiled ? compiled.subscription : this.subscriptionsRepo.get(id);
  }

  /** Reads only the job's data field: the event, without BullMQ's whole-job decoding. */
  private async loadEvent(eventId: string): Promise<EventJobData | undefined> {
    const data = await this.redis.hget(this.events.toKey(eventJobId(eventId)), 'data');
    return data === null ? undefined : (JSON.parse(data) as EventJobData);
  }

  /**
   * Ends a failure run. Another worker may have started one, so this cannot rely on the local
   * snapshot; it is written at most once a second per subscription, which keeps a busy healthy
   * endpoint from costing a Redis write per delivery while clearing any run within a second.
   */
  private async noteSuccess(subscriptionId: string, now: Date): Promise<void> {
    const last = this.lastSuccessWrite.get(subscriptionId) ?? 0;
    if (now.getTime() - last < SUCCESS_WRITE_INTERVAL_MS) {
      return;
    }
    this.lastSuccessWrite.set(subscriptionId, now.getTime());
    await this.subscriptionsRepo.recordSuccess(subscriptionId, now);
  }

  private async retryOrDie(
    data: DeliveryJobData,
    outcome: Extract<DeliveryOutcome, { kind: 'retry' }>,
    attempt: DeliveryAttempt,
    subscription: Subscription,
    log: Logger,
    options: AttemptOptions,
  ): Promise<AttemptResolution> {
    const { deliveryId, subscriptionId } = data;
    const cls = statusClass(attempt.statusCode);
    const reason = attempt.error ?? outcome.reason;
    const scheduled = nextDelayMs(
      attempt.attempt,
      this.config.delivery.retryScheduleMs,
      this.config.delivery.retryJitter,
    );
    const last = scheduled === undefined || attempt.attempt >= this.maxAttempts;

    if (!data.manual) {
      await this.checkAutoDisable(subscription, log);
    }
    if (last) {
      await this.records.recordAttempt(
        deliveryId,
        { ...attempt, error: reason },
        { status: DeliveryStatus.Dead },
      );
      this.metrics.deliveries.inc({ outcome: 'dead', status_class: cls });
      log.warn(
        { attempt: attempt.attempt, statusCode: attempt.statusCode, reason },
        'delivery dead: every attempt failed',
      );
      return { kind: 'dead', reason: `every attempt failed; last: ${reason}` };
    }
    const delay = applyRetryAfter(
      scheduled,
      outcome.retryAfterMs,
      this.config.delivery.retryAfterMaxMs,
    );
    const nextAttemptAt = new Date(Date.now() + delay).toISOString();
    await options.beforeRetryRecorded?.(delay);
    await this.records.recordAttempt(
      deliveryId,
      { ...attempt, error: reason, nextAttemptAt },
      { status: DeliveryStatus.Failing, nextAttemptAt },
    );
    this.metrics.deliveries.inc({ outcome: 'retry', status_class: cls });
    log.info(
      {
        attempt: attempt.attempt,
        statusCode: attempt.statusCode,
        reason,
        nextAttemptAt,
        subscriptionId,
      },
      'delivery failed; retry scheduled',
    );
    return { kind: 'retry', reason, delayMs: delay, nextAttemptAt };
  }

  /** Disables a subscription that has failed without a single success for DELIVERY_DISABLE_AFTER. */
  private async checkAutoDisable(subscription: Subscription, log: Logger): Promise<void> {
    const now = new Date();
    const { failingSince } = await this.subscriptionsRepo.recordFailure(subscription.id, now);
    if (
      failingSince === null ||
      now.getTime() - Date.parse(failingSince) < this.config.delivery.disableAfterMs
    ) {
      return;
    }
    const reason = `failing without a success since ${failingSince}`;
    await this.subscriptionsRepo.disable(subscription.id, reason, now);
    this.metrics.subscriptionsDisabled.inc({ reason: 'failing' });
    log.warn({ failingSince }, 'subscription disabled: failing for too long');
  }
}
