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
import { DeliveryStatus } from './delivery.model';
import { WEBHOOK_BACKOFF } from './delivery-errors';

/**
 * Matches one event against the enabled subscriptions and creates one delivery per match. Job and
 * record ids are derived from (event, subscription), so when this step is retried after a crash
 * the adds it already made are ignored by BullMQ and nothing is delivered twice.
 */
@Injectable()
export class FanOut {
  private readonly logger: Logger;
  private readonly jobOptions: JobsOptions;

  constructor(
    config: AppConfig,
    private readonly registry: SubscriptionRegistry,
    private readonly records: DeliveryRecordRepository,
    @InjectQueue(QueueName.Deliveries) private readonly deliveries: Queue<DeliveryJobData>,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'fan-out' });
    const retention = { age: config.eventRetentionSeconds, count: config.eventRetentionMaxCount };
    this.jobOptions = {
      attempts: config.delivery.retryScheduleMs.length + 1,
      backoff: { type: WEBHOOK_BACKOFF },
      removeOnComplete: retention,
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
    const jobs = matches.map((sub) => {
      const deliveryId = deliveryJobId(event.id, sub.id);
      return { deliveryId, subscriptionId: sub.id };
    });
    await Promise.all(
      jobs.map(({ deliveryId, subscriptionId }) =>
        this.records.create({
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
    await this.deliveries.addBulk(
      jobs.map(({ deliveryId, subscriptionId }) => ({
        name: JobName.Deliver,
        data: {
          deliveryId,
          eventId: event.id,
          eventType: event.type,
          subscriptionId,
          receivedAtMs,
        },
        opts: { ...this.jobOptions, jobId: deliveryId },
      })),
    );
    this.logger.debug(
      { eventId: event.id, eventType: event.type, deliveries: jobs.length },
      'event fanned out',
    );
    return jobs.length;
  }

  /** A delivery outside the fan-out (manual retry of a removed job, replay, test event). */
  async addDelivery(data: DeliveryJobData): Promise<void> {
    await this.deliveries.add(JobName.Deliver, data, {
      ...this.jobOptions,
      jobId: data.deliveryId,
    });
  }
}
