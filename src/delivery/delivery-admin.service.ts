import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { EventType } from '../events/event-type.enum';
import type { NormalizedEvent } from '../events/normalized-event';
import { InjectLogger } from '../logging/logging.module';
import {
  type DeliveryJobData,
  deliveryJobId,
  type EventJobData,
  eventJobId,
  JobName,
  QueueName,
} from '../queue/queue.constants';
import { InjectRedis } from '../redis/redis.module';
import { compileSubscription } from '../subscriptions/subscription-matcher';
import type { Subscription } from '../subscriptions/subscription.model';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveryRecordRepository, type DeliveryQuery } from './delivery-record.repository';
import { type DeliveryRecord, DeliveryStatus } from './delivery.model';
import { FanOut } from './fan-out.service';

export type ReplayScope = 'failed' | 'all';

/** Replays are bounded so one request cannot enqueue an unbounded amount of work. */
export const MAX_REPLAY = 100_000;

/**
 * What the admin API does with deliveries: look up, retry one, replay a window, send a test
 * event. Retries and replays reuse the normal delivery path and do not count toward auto-disable.
 */
@Injectable()
export class DeliveryAdminService {
  private readonly logger: Logger;

  constructor(
    private readonly config: AppConfig,
    private readonly records: DeliveryRecordRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly fanOut: FanOut,
    @InjectQueue(QueueName.Deliveries) private readonly deliveries: Queue<DeliveryJobData>,
    @InjectQueue(QueueName.Events) private readonly events: Queue<EventJobData>,
    @InjectRedis() private readonly redis: Redis,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'delivery-admin' });
  }

  async get(id: string): Promise<DeliveryRecord> {
    const record = await this.records.get(id);
    if (!record) {
      throw new NotFoundException(
        `delivery ${id} not found (unknown, or older than the retention window)`,
      );
    }
    return record;
  }

  list(query: DeliveryQuery): Promise<{ data: DeliveryRecord[]; nextCursor?: string }> {
    return this.records.list(query);
  }

  async getEvent(id: string): Promise<NormalizedEvent> {
    const job = await this.events.getJob(eventJobId(id));
    if (!job) {
      throw new NotFoundException(
        `event ${id} not found (unknown, or older than the retention window)`,
      );
    }
    const { targetSubscriptionId: _target, ...event } = job.data;
    return event;
  }

  /** Sends one delivery again now, with a fresh retry schedule. */
  async retry(id: string): Promise<DeliveryRecord> {
    const record = await this.get(id);
    await this.requeue(record);
    this.logger.info(
      { deliveryId: id, subscriptionId: record.subscriptionId, eventId: record.eventId },
      'delivery retried by request',
    );
    return { ...record, status: DeliveryStatus.Pending, nextAttemptAt: undefined };
  }

  /**
   * `failed`: every failing or dead delivery of the subscription created in the window is sent
   * again. `all`: every retained event received in the window that matches the subscription is
   * delivered again as a new delivery (the webhook-id stays the event id, so receivers dedupe).
   */
  async replay(
    subscriptionId: string,
    sinceMs: number,
    untilMs: number,
    scope: ReplayScope,
  ): Promise<{ replayed: number }> {
    const subscription = await this.requireSubscription(subscriptionId);
    let replayed = 0;
    if (scope === 'failed') {
      for (const status of [DeliveryStatus.Dead, DeliveryStatus.Failing]) {
        let cursor: string | undefined;
        do {
          const page = await this.records.list({
            subscriptionId,
            status,
            sinceMs,
            untilMs,
            limit: 500,
            cursor,
          });
          for (const record of page.data) {
            if (replayed >= MAX_REPLAY) {
              return { replayed };
            }
            await this.requeue(record);
            replayed++;
          }
          cursor = page.nextCursor;
        } while (cursor);
      }
    } else {
      replayed = await this.replayEvents(subscription, sinceMs, untilMs);
    }
    this.logger.info(
      {
        subscriptionId,
        scope,
        replayed,
        since: new Date(sinceMs).toISOString(),
        until: new Date(untilMs).toISOString(),
      },
      'replay requested',
    );
    return { replayed };
  }

  /** A synthetic `webhook.test` event through the events queue, fanned out to this subscription only. */
  async sendTest(subscriptionId: string): Promise<{ eventId: string; deliveryId: string }> {
    const subscription = await this.requireSubscription(subscriptionId);
    if (!subscription.enabled) {
      // The fan-out only sees enabled subscriptions: a 202 here would name a delivery that never
      // comes to exist.
      throw new ConflictException(
        `subscription ${subscriptionId} is disabled; enable it before sending a test event`,
      );
    }
    const now = new Date().toISOString();
    const event: EventJobData = {
      id: `test_${randomUUID()}`,
      type: EventType.WebhookTest,
      occurredAt: now,
      receivedAt: now,
      data: { subscriptionId, message: 'This is a test event from opentact-bridge.' },
      raw: {},
      targetSubscriptionId: subscriptionId,
    };
    const retention = {
      age: this.config.eventRetentionSeconds,
      count: this.config.eventRetentionMaxCount,
    };
    await this.events.add(JobName.FanOut, event, {
      jobId: eventJobId(event.id),
      attempts: 10,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: retention,
      removeOnFail: retention,
    });
    return { eventId: event.id, deliveryId: deliveryJobId(event.id, subscriptionId) };
  }

  private async requireSubscription(id: string): Promise<Subscription> {
    const subscription = await this.subscriptions.get(id);
    if (!subscription) {
      throw new NotFoundException(`subscription ${id} not found`);
    }
    return subscription;
  }

  private async requeue(record: DeliveryRecord): Promise<void> {
    const job = await this.deliveries.getJob(record.id);
    const state = job ? await job.getState() : undefined;
    if (state === 'active') {
      throw new ConflictException(`delivery ${record.id} is being attempted right now`);
    }
    // Marked pending before the job can run: written after, it could overwrite the outcome of an
    // attempt that finished in between.
    await this.records.setStatus(record.id, DeliveryStatus.Pending, new Date().toISOString());
    if (job) {
      if (state === 'delayed') {
        await job.promote();
      } else if (state === 'failed' || state === 'completed') {
        await job.updateData({ ...job.data, manual: true, attemptOffset: 0 });
        await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
      }
      // waiting / prioritized: it is about to run anyway
    } else {
      await this.fanOut.addDelivery({
        deliveryId: record.id,
        eventId: record.eventId,
        eventType: record.eventType,
        subscriptionId: record.subscriptionId,
        receivedAtMs: Date.now(),
        manual: true,
      });
    }
  }

  private async replayEvents(
    subscription: Subscription,
    sinceMs: number,
    untilMs: number,
  ): Promise<number> {
    const compiled = compileSubscription(subscription);
    // Completed event jobs are scored by when the fan-out finished, which follows receipt by
    // milliseconds; the window is checked again on receivedAt below.
    const ids = await this.redis.zrangebyscore(
      this.events.toKey('completed'),
      sinceMs,
      untilMs + 60_000,
      'LIMIT',
      0,
      MAX_REPLAY,
    );
    let replayed = 0;
    const suffix = Date.now().toString(36);
    for (const jobId of ids) {
      const job = await this.events.getJob(jobId);
      if (!job || job.data.targetSubscriptionId !== undefined) {
        continue;
      }
      const receivedAtMs = Date.parse(job.data.receivedAt);
      if (receivedAtMs < sinceMs || receivedAtMs > untilMs || !compiled.matches(job.data)) {
        continue;
      }
      const deliveryId = `${deliveryJobId(job.data.id, subscription.id)}_r${suffix}`;
      const now = new Date().toISOString();
      await this.records.create({
        id: deliveryId,
        eventId: job.data.id,
        eventType: job.data.type,
        subscriptionId: subscription.id,
        status: DeliveryStatus.Pending,
        createdAt: now,
        updatedAt: now,
        attemptCount: 0,
      });
      await this.fanOut.addDelivery({
        deliveryId,
        eventId: job.data.id,
        eventType: job.data.type,
        subscriptionId: subscription.id,
        receivedAtMs: Date.now(),
        manual: true,
      });
      replayed++;
    }
    return replayed;
  }
}
