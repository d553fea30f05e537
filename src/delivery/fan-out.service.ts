import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import {
  type DeliveryJobData,
  deliveryJobId,
  type EventJobData,
  JobName,
  QueueName,
} from '../queue/queue.constants';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.service';
import { DeliveryRecordRepository } from './delivery-record.repository';
import { type DeliveryRecord, DeliveryStatus } from './delivery.model';
import { WEBHOOK_BACKOFF } from './delivery-errors';
import { WebhookDelivery } from './webhook-delivery.service';

/**
 * Matches one event against the enabled subscriptions and creates one delivery per match. Job and
 * record ids are derived from (event, subscription), so when this step runs again (a crash, a
 * retried job) the deliveries it already made are recognised and nothing is delivered twice.
 */
@Injectable()
export class FanOut {
  private readonly logger: Logger;
  private readonly jobOptions: JobsOptions;
  private readonly maxAttempts: number;

  constructor(
    config: AppConfig,
    private readonly registry: SubscriptionRegistry,
    private readonly records: DeliveryRecordRepository,
    private readonly delivery: WebhookDelivery,
    @InjectQueue(QueueName.Deliveries) private readonly deliveries: Queue<DeliveryJobData>,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'fan-out' });
    const retention = { age: config.eventRetentionSeconds, count: config.eventRetentionMaxCount };
    this.maxAttempts = config.delivery.retryScheduleMs.length + 1;
    this.jobOptions = {
      attempts: config.delivery.retryScheduleMs.length + 1,
      backoff: { type: WEBHOOK_BACKOFF },
      // The delivery record holds the history and guards against a second fan-out (see
      // shouldAddJob), so a succeeded job need not stay in Redis. Dead ones stay for retry.
      removeOnComplete: { count: Math.min(1_000, config.eventRetentionMaxCount) },
      removeOnFail: retention,
    };
  }

  /** Returns the number of deliveries created for the event. */
  async fanOut(event: EventJobData, receivedAtMs: number): Promise<number> {
    // A change to the subscriptions is picked up before the next event (pub/sub, or a 1 s check).
    // A test event goes to the one subscription it names, whatever its event types.
    const enabled = await this.registry.getEnabled();
    const matches =
      event.targetSubscriptionId === undefined
        ? enabled.filter((sub) => sub.matches(event))
        : enabled.filter((sub) => sub.id === event.targetSubscriptionId);
    if (matches.length === 0) {
      this.logger.debug({ eventId: event.id, eventType: event.type }, 'no subscription matches');
      return 0;
    }
    const createdAt = new Date().toISOString();
    const matched = matches.map((sub) => {
      const deliveryId = deliveryJobId(event.id, sub.id);
      return { deliveryId, subscriptionId: sub.id };
    });
    const addJob = await Promise.all(
      matched.map(({ deliveryId, subscriptionId }) =>
        this.shouldAddJob({
          id: deliveryId,
          eventId: event.id,
          eventType: event.type,
          subscriptionId,
          status: DeliveryStatus.Pending,
          createdAt,
          updatedAt: createdAt,
          attemptCount: 0,
        }),
      ),
    );
    const toStart = matched.filter((_, i) => addJob[i]);
    if (toStart.length === 0) {
      this.logger.debug({ eventId: event.id }, 'event already fanned out');
      return 0;
    }
    // The first attempt is made here, without a second job: half the queue work per delivery.
    // Endpoints that failed last time or hold many slots already go through the deliveries queue.
    const inline = toStart.filter((d) => this.delivery.canAttemptInline(d.subscriptionId));
    const queued = toStart.filter((d) => !inline.includes(d));
    const data = (d: { deliveryId: string; subscriptionId: string }): DeliveryJobData => ({
      deliveryId: d.deliveryId,
      eventId: event.id,
      eventType: event.type,
      subscriptionId: d.subscriptionId,
      receivedAtMs,
    });
    if (queued.length > 0) {
      await this.deliveries.addBulk(
        queued.map((d) => ({
          name: JobName.Deliver,
          data: data(d),
          opts: { ...this.jobOptions, jobId: d.deliveryId },
        })),
      );
    }
    await Promise.all(
      inline.map((d) =>
        this.delivery.attempt(data(d), 1, {
          event,
          beforeRetryRecorded: async (delayMs) => {
            await this.deliveries.add(
              JobName.Deliver,
              { ...data(d), attemptOffset: 1 },
              {
                ...this.jobOptions,
                attempts: this.maxAttempts - 1,
                delay: delayMs,
                jobId: d.deliveryId,
              },
            );
          },
        }),
      ),
    );
    this.logger.debug(
      { eventId: event.id, eventType: event.type, inline: inline.length, queued: queued.length },
      'event fanned out',
    );
    return toStart.length;
  }

  /**
   * Whether this fan-out should add the delivery's job. The job id alone does not dedupe a fan-out
   * that runs again later: the deliveries queue holds one job per (event, subscription) under the
   * same retention count as the events queue, so it trims a delivery's job while its event is
   * still retained. The record lives for the whole retention window, so it decides: a delivery
   * still pending may have lost its add (a crash in between) and is added again, idempotently;
   * one that was attempted already is left alone.
   */
  private async shouldAddJob(record: Omit<DeliveryRecord, 'attempts'>): Promise<boolean> {
    if (await this.records.create(record)) {
      return true;
    }
    const existing = await this.records.get(record.id, false);
    return existing === undefined || existing.status === DeliveryStatus.Pending;
  }

  /** A delivery outside the fan-out (manual retry of a removed job, replay, test event). */
  async addDelivery(data: DeliveryJobData): Promise<void> {
    await this.deliveries.add(JobName.Deliver, data, {
      ...this.jobOptions,
      jobId: data.deliveryId,
    });
  }
}
