import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { LoggedEvent } from '../events/event-log';
import type { NormalizedEvent } from '../events/normalized-event';
import { parseWebhookBody, readWebhookEnvelope } from '../events/webhook-body';
import { InjectLogger } from '../logging/logging.module';
import { DeliveryQueue } from '../queue/delivery-queue';
import { type DeliveryJobData, deliveryIdOf } from '../queue/queue.constants';
import type { CompiledSubscription } from '../subscriptions/subscription-matcher';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.service';
import { DeliveryAttempt } from './delivery-attempt.service';
import { type DeliveryIdentity, DeliveryRecordRepository } from './delivery-record.repository';
import { DeliveryStatus } from './delivery.model';
import { EndpointHealth } from './endpoint-health';

interface Planned {
  identity: DeliveryIdentity;
  subscription: CompiledSubscription;
}

/**
 * Matches one logged event against the enabled subscriptions and starts one delivery per match.
 * Delivery ids are derived from (event, subscription), so when an event is fanned out again (a
 * crashed worker's entry claimed by another) the deliveries it already made are recognised and
 * nothing is delivered twice; an entry read for the first time cannot have any, and skips that
 * check. The first attempt is made here, without a job; endpoints that are failing or slow go
 * through the deliveries queue instead.
 */
@Injectable()
export class FanOut {
  private readonly logger: Logger;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly records: DeliveryRecordRepository,
    private readonly attempts: DeliveryAttempt,
    private readonly health: EndpointHealth,
    private readonly queue: DeliveryQueue,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'fan-out' });
  }

  /** Returns the number of deliveries started for the event. */
  async fanOut(logged: LoggedEvent): Promise<number> {
    // Matching needs the type, and the data only for subscriptions with a filter: the body is
    // parsed whole only then.
    const event = readWebhookEnvelope(logged.body);
    let data: NormalizedEvent['data'] | undefined;
    const dataOf = (): NormalizedEvent['data'] => (data ??= parseWebhookBody(logged.body).data);
    const enabled = await this.registry.getEnabled();
    // A test event goes to the one subscription it names, whatever its event types.
    const target = logged.targetSubscriptionId;
    const matches =
      target === undefined
        ? enabled.filter((sub) => sub.matchesLazily(event.type, dataOf))
        : enabled.filter((sub) => sub.id === target);
    if (matches.length === 0) {
      return 0;
    }
    const createdAtMs = Date.now();
    let planned: Planned[] = matches.map((subscription) => ({
      subscription,
      identity: {
        deliveryId: deliveryIdOf(event.id, subscription.id),
        eventId: event.id,
        eventType: event.type,
        subscriptionId: subscription.id,
        createdAtMs,
      },
    }));
    // Deliveries with a pending record may have a job already: only the queue may run them.
    let requeue = new Set<string>();
    if (logged.deliveries !== 1) {
      ({ planned, requeue } = await this.notYetAttempted(planned));
    }
    const receivedAtMs = Date.parse(event.receivedAt);
    const jobOf = (p: Planned): DeliveryJobData => ({
      deliveryId: p.identity.deliveryId,
      eventId: event.id,
      entryId: logged.entryId,
      eventType: event.type,
      subscriptionId: p.identity.subscriptionId,
      receivedAtMs,
    });
    const queued: Planned[] = [];
    const inline: Promise<unknown>[] = [];
    for (const p of planned) {
      if (
        requeue.has(p.identity.deliveryId) ||
        !this.health.canAttemptInline(p.identity.subscriptionId)
      ) {
        queued.push(p);
        continue;
      }
      inline.push(
        this.attempts.run(
          {
            identity: p.identity,
            subscription: p.subscription.subscription,
            body: logged.body,
            attemptNumber: 1,
            manual: false,
            receivedAtMs,
          },
          {
            beforeRetryRecorded: (delayMs) =>
              this.queue.add(jobOf(p), { delayMs, attemptsUsed: 1 }),
          },
        ),
      );
    }
    if (queued.length > 0) {
      // The record first: a crash before the job is added leaves a pending record, which the
      // next fan-out of this entry sees and queues again (the add is idempotent).
      await Promise.all(queued.map((p) => this.records.createPending(p.identity)));
      await this.queue.addMany(queued.map(jobOf));
    }
    await Promise.all(inline);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug(
        { eventId: event.id, inline: inline.length, queued: queued.length },
        'event fanned out',
      );
    }
    return planned.length;
  }

  /**
   * Of the planned deliveries, those this event's earlier fan-out did not get to: no record, or a
   * record still pending (its job may have been lost with the worker that was adding it; those
   * are queued again, which is idempotent).
   */
  private async notYetAttempted(
    planned: Planned[],
  ): Promise<{ planned: Planned[]; requeue: Set<string> }> {
    const statuses = await this.records.statuses(planned.map((p) => p.identity.deliveryId));
    const requeue = new Set<string>();
    const left = planned.filter((p, i) => {
      if (statuses[i] === DeliveryStatus.Pending) {
        requeue.add(p.identity.deliveryId);
      }
      return statuses[i] === undefined || statuses[i] === DeliveryStatus.Pending;
    });
    if (left.length < planned.length) {
      this.logger.info(
        { deliveries: planned.length - left.length },
        'event fanned out before; its started deliveries are left alone',
      );
    }
    return { planned: left, requeue };
  }
}
