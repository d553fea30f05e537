import { Inject, Injectable } from '@nestjs/common';
import { EventLog, type LoggedEvent } from '../events/event-log';
import type { DeliveryJobData } from '../queue/queue.constants';
import type { Subscription } from '../subscriptions/subscription.model';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { type AttemptResolution, DeliveryAttempt } from './delivery-attempt.service';
import { DeliveryLanes } from './delivery-lanes';
import { DeliveryTurns, PARKED_RECHECK_MS } from './delivery-turns';
import { SubscriptionLimiter } from './subscription-limiter';
import { PermanentDeliveryError, RetryableDeliveryError } from './delivery-errors';
import { type DeliveryIdentity, DeliveryRecordRepository } from './delivery-record.repository';
import { DeliveryStatus } from './delivery.model';

/** The part of a BullMQ job the processor reads. */
export interface DeliveryJob {
  data: DeliveryJobData;
  /** Attempts BullMQ has made of this job before this one. */
  attemptsMade: number;
}

/** Not now, and not an attempt: try again after this long (its turn, a limit, a pause). */
export interface Postponement {
  postponeMs: number;
  reason: 'turn' | 'limit';
}

/** Statuses after which a job has nothing left to do (a duplicate job from a crash window). */
const FINISHED: ReadonlySet<DeliveryStatus | undefined> = new Set([
  DeliveryStatus.Succeeded,
  DeliveryStatus.Dead,
  DeliveryStatus.Skipped,
]);

/**
 * Runs one job of the deliveries queue: a retry, or the first attempt to an endpoint that was
 * failing or slow. Reads what the fan-out's inline attempt had in hand (the subscription, fresh
 * from Redis so a disable or delete is seen at once; the event; the record's state), makes the
 * attempt, and maps the outcome onto BullMQ: a retry throws so BullMQ counts the attempt and
 * waits the delay the attempt decided, a dead delivery fails the job for good.
 */
@Injectable()
export class DeliveryProcessor {
  constructor(
    private readonly log: EventLog,
    private readonly records: DeliveryRecordRepository,
    @Inject(SubscriptionsRepository)
    private readonly subscriptions: Pick<SubscriptionsRepository, 'get'>,
    private readonly attempts: DeliveryAttempt,
    private readonly limiter: SubscriptionLimiter,
    private readonly lanes: DeliveryLanes,
    private readonly turns: DeliveryTurns,
  ) {}

  async process(job: DeliveryJob): Promise<Postponement | undefined> {
    const { data } = job;
    const identity: DeliveryIdentity = {
      deliveryId: data.deliveryId,
      eventId: data.eventId,
      eventType: data.eventType,
      subscriptionId: data.subscriptionId,
      createdAtMs: Date.now(),
      ...(data.entryId === undefined ? {} : { entryId: data.entryId }),
    };
    const [subscription, [status], event] = await Promise.all([
      this.subscriptions.get(data.subscriptionId),
      this.records.statuses([data.deliveryId]),
      this.loadEvent(data),
    ]);
    if (FINISHED.has(status)) {
      // A duplicate job from a crash window; if it held a lane, the lane moves on.
      await this.turns.end(data.subscriptionId, data.ordering, data.deliveryId);
      return undefined;
    }
    const skip = skipReason(subscription, event);
    if (skip !== undefined || !subscription || !event) {
      await this.attempts.skip(identity, skip ?? 'nothing to send');
      await this.turns.end(data.subscriptionId, data.ordering, data.deliveryId);
      return undefined;
    }
    // A delivery of an ordered subscription goes when it is first of its key. One that is no longer
    // in its lane (it died and is retried or replayed by hand: the later events of its key have
    // gone on without it) goes at once; waiting for a turn that will never come would hold it
    // for ever.
    if (
      data.ordering !== undefined &&
      (await this.lanes.place(subscription.id, data.ordering.key, data.deliveryId)) === 'waiting'
    ) {
      return { postponeMs: PARKED_RECHECK_MS, reason: 'turn' };
    }
    const acquired = await this.limiter.acquire(subscription);
    if (acquired.kind === 'wait') {
      return { postponeMs: acquired.delayMs, reason: 'limit' };
    }
    let resolution: AttemptResolution;
    try {
      resolution = await this.attempts.run({
        identity,
        subscription,
        body: event.body,
        attemptNumber: job.attemptsMade + 1 + (data.attemptOffset ?? 0),
        manual: data.manual === true,
        receivedAtMs: data.receivedAtMs,
      });
    } finally {
      await this.limiter.release(acquired.slot);
    }
    if (resolution.kind !== 'retry') {
      await this.turns.end(subscription.id, data.ordering, data.deliveryId);
    }
    if (resolution.kind === 'retry') {
      // The backoff strategy reads the delay back from the error, so the job waits exactly this long.
      throw new RetryableDeliveryError(resolution.reason, resolution.delayMs);
    }
    if (resolution.kind === 'dead') {
      throw new PermanentDeliveryError(resolution.reason);
    }
    return undefined;
  }

  private async loadEvent(data: DeliveryJobData): Promise<LoggedEvent | undefined> {
    if (data.entryId !== undefined) {
      const entry = await this.log.getEntry(data.entryId);
      if (entry) {
        return entry;
      }
    }
    return this.log.get(data.eventId);
  }
}

function skipReason(
  subscription: Subscription | undefined,
  event: LoggedEvent | undefined,
): string | undefined {
  if (!subscription) {
    return 'subscription deleted';
  }
  if (!subscription.enabled) {
    return 'subscription disabled';
  }
  if (!event) {
    return 'event no longer retained';
  }
  if (event.unreadable !== undefined) {
    return `stored event cannot be read: ${event.unreadable}`;
  }
  return undefined;
}
