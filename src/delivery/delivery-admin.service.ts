import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { EventLog } from '../events/event-log';
import { EventType } from '../events/event-type.enum';
import type { NormalizedEvent } from '../events/normalized-event';
import { parseWebhookBody, webhookBody } from '../events/webhook-body';
import { InjectLogger } from '../logging/logging.module';
import { DeliveryBusyError, DeliveryQueue } from '../queue/delivery-queue';
import { type DeliveryJobData, deliveryIdOf } from '../queue/queue.constants';
import { compileSubscription } from '../subscriptions/subscription-matcher';
import type { Subscription } from '../subscriptions/subscription.model';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveryRecordRepository, type DeliveryQuery } from './delivery-record.repository';
import { type DeliveryRecord, DeliveryStatus } from './delivery.model';

export type ReplayScope = 'failed' | 'all';

/** Replays are bounded so one request cannot enqueue an unbounded amount of work. */
export const MAX_REPLAY = 100_000;
/** Overrides MAX_REPLAY in specs, so that hitting the cap costs little; nothing else provides it. */
export const MAX_REPLAY_TOKEN = Symbol('MAX_REPLAY');
const REPLAY_PAGE = 500;

/**
 * What the admin API does with deliveries: look up, retry one, replay a window, send a test
 * event. Retries and replays reuse the normal delivery path and do not count toward auto-disable.
 */
@Injectable()
export class DeliveryAdminService {
  private readonly logger: Logger;

  constructor(
    private readonly records: DeliveryRecordRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly queue: DeliveryQueue,
    private readonly log: EventLog,
    @InjectLogger() logger: Logger,
    @Optional() @Inject(MAX_REPLAY_TOKEN) private readonly maxReplay: number = MAX_REPLAY,
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
    const replayed =
      scope === 'failed'
        ? await this.replayFailed(subscriptionId, sinceMs, untilMs)
        : await this.replayEvents(subscription, sinceMs, untilMs);
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

  /** A synthetic `webhook.test` event through the event log, fanned out to this subscription only. */
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
    const event: NormalizedEvent = {
      id: `test_${randomUUID()}`,
      type: EventType.WebhookTest,
      occurredAt: now,
      receivedAt: now,
      data: { subscriptionId, message: 'This is a test event from opentact-bridge.' },
      raw: {},
    };
    await this.log.append([
      { id: event.id, body: webhookBody(event), targetSubscriptionId: subscriptionId },
    ]);
    return { eventId: event.id, deliveryId: deliveryIdOf(event.id, subscriptionId) };
  }

  private async requireSubscription(id: string): Promise<Subscription> {
    const subscription = await this.subscriptions.get(id);
    if (!subscription) {
      throw new NotFoundException(`subscription ${id} not found`);
    }
    return subscription;
  }

  private async replayFailed(
    subscriptionId: string,
    sinceMs: number,
    untilMs: number,
  ): Promise<number> {
    // A delivery requeued by the dead pass can fail again at once and be listed by the failing
    // pass, and a record whose status moves between pages can be listed twice: each is sent once.
    const seen = new Set<string>();
    for (const status of [DeliveryStatus.Dead, DeliveryStatus.Failing]) {
      let cursor: string | undefined;
      do {
        const page = await this.records.list({
          subscriptionId,
          status,
          sinceMs,
          untilMs,
          limit: REPLAY_PAGE,
          cursor,
        });
        for (const record of page.data) {
          if (seen.has(record.id)) {
            continue;
          }
          if (seen.size >= this.maxReplay) {
            return seen.size;
          }
          seen.add(record.id);
          try {
            await this.requeue(record);
          } catch (error) {
            seen.delete(record.id);
            // One delivery being attempted right now does not stop the replay of the others.
            if (!(error instanceof ConflictException)) {
              throw error;
            }
          }
        }
        cursor = page.nextCursor;
      } while (cursor);
    }
    return seen.size;
  }

  private async requeue(record: DeliveryRecord): Promise<void> {
    const data: DeliveryJobData = {
      deliveryId: record.id,
      eventId: record.eventId,
      entryId: await this.log.entryIdOf(record.eventId),
      eventType: record.eventType,
      subscriptionId: record.subscriptionId,
      receivedAtMs: Date.now(),
      manual: true,
    };
    try {
      // Marked pending before the job can run: written after, it could overwrite the outcome of
      // an attempt that finished in between.
      await this.queue.requeue(data, async () => {
        await this.records.setStatus(record.id, DeliveryStatus.Pending, Date.now());
      });
    } catch (error) {
      if (error instanceof DeliveryBusyError) {
        throw new ConflictException(error.message);
      }
      throw error;
    }
  }

  /** Every retained, matching event of the window again, as new deliveries. */
  private async replayEvents(
    subscription: Subscription,
    sinceMs: number,
    untilMs: number,
  ): Promise<number> {
    const compiled = compileSubscription(subscription);
    const suffix = `r${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
    let replayed = 0;
    // Entry ids start with the ms the event was appended, a few ms after it was received: start
    // a minute early and check receivedAt itself.
    let after: string | undefined = `${Math.max(0, sinceMs - 60_000)}-0`;
    while (replayed < this.maxReplay) {
      const page = await this.log.readAfter(after, REPLAY_PAGE, untilMs + 60_000);
      if (page.length === 0) {
        break;
      }
      after = page[page.length - 1].entryId;
      const jobs: DeliveryJobData[] = [];
      for (const logged of page) {
        if (logged.targetSubscriptionId !== undefined || logged.unreadable !== undefined) {
          continue;
        }
        const event = parseWebhookBody(logged.body);
        const receivedAtMs = Date.parse(event.receivedAt);
        if (receivedAtMs < sinceMs || receivedAtMs > untilMs || !compiled.matches(event)) {
          continue;
        }
        const deliveryId = deliveryIdOf(event.id, subscription.id, suffix);
        await this.records.createPending({
          deliveryId,
          eventId: event.id,
          eventType: event.type,
          subscriptionId: subscription.id,
          createdAtMs: Date.now(),
          entryId: logged.entryId,
        });
        jobs.push({
          deliveryId,
          eventId: event.id,
          entryId: logged.entryId,
          eventType: event.type,
          subscriptionId: subscription.id,
          receivedAtMs: Date.now(),
          manual: true,
        });
        if (replayed + jobs.length >= this.maxReplay) {
          break;
        }
      }
      await this.queue.addMany(jobs);
      replayed += jobs.length;
    }
    return replayed;
  }
}
