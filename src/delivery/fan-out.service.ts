import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import type { LoggedEvent } from '../events/event-log';
import type { NormalizedEvent } from '../events/normalized-event';
import { parseWebhookBody, readWebhookEnvelope } from '../events/webhook-body';
import { InjectLogger } from '../logging/logging.module';
import { DeliveryQueue } from '../queue/delivery-queue';
import { type DeliveryJobData, deliveryIdOf } from '../queue/queue.constants';
import type { CompiledSubscription } from '../subscriptions/subscription-matcher';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.service';
import { DeliveryAttempt } from './delivery-attempt.service';
import { DeliveryLanes, type LaneEntry } from './delivery-lanes';
import { type DeliveryIdentity, DeliveryRecordRepository } from './delivery-record.repository';
import { DeliveryTurns, PARKED_RECHECK_MS } from './delivery-turns';
import { DeliveryStatus } from './delivery.model';
import { EndpointHealth } from './endpoint-health';
import { SubscriptionLimiter } from './subscription-limiter';

interface Planned {
  identity: DeliveryIdentity;
  subscription: CompiledSubscription;
  /** Set when the subscription orders by key and the event has one. */
  ordering?: { key: string; seq: number };
}

/** How a planned delivery starts. */
type Start =
  | { kind: 'inline' }
  | { kind: 'queue'; delayMs?: number }
  /** Behind an earlier delivery of its key: waits until its turn. */
  | { kind: 'park' };

const REGISTER_RETRY_MS = 5;

/**
 * Matches one logged event against the enabled subscriptions and starts one delivery per match.
 * Delivery ids are derived from (event, subscription), so when an event is fanned out again (a
 * crashed worker's entry claimed by another) the deliveries it already made are recognised and
 * nothing is delivered twice; an entry read for the first time cannot have any, and skips that
 * check. The first attempt is made here, without a job; endpoints that are failing, slow, paused
 * or at their limit go through the deliveries queue instead, and deliveries of an ordered
 * subscription wait for their turn in their key's lane.
 */
@Injectable()
export class FanOut {
  private readonly logger: Logger;
  private readonly registerWaitMs: number;

  constructor(
    config: AppConfig,
    private readonly registry: SubscriptionRegistry,
    private readonly records: DeliveryRecordRepository,
    private readonly attempts: DeliveryAttempt,
    private readonly health: EndpointHealth,
    private readonly limiter: SubscriptionLimiter,
    private readonly lanes: DeliveryLanes,
    private readonly turns: DeliveryTurns,
    private readonly queue: DeliveryQueue,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'fan-out' });
    // The event before this one in its key is being fanned out by someone; if that worker died,
    // its event is claimed again within the lock. Waiting longer means it never will be.
    this.registerWaitMs = config.delivery.lockMs + 5_000;
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
    const createdAtMs = Date.now();
    let planned: Planned[] = matches.map((subscription) => ({
      subscription,
      identity: {
        deliveryId: deliveryIdOf(event.id, subscription.id),
        eventId: event.id,
        eventType: event.type,
        subscriptionId: subscription.id,
        createdAtMs,
        entryId: logged.entryId,
      },
      ordering: subscription.subscription.ordering === 'per-key' ? logged.ordering : undefined,
    }));
    // Deliveries with a pending record may have a job already: only the queue may run them.
    let requeue = new Set<string>();
    if (logged.deliveries !== 1 && planned.length > 0) {
      ({ planned, requeue } = await this.notYetAttempted(planned));
    }
    const firstInLane = await this.takePlaces(logged, planned);
    if (planned.length === 0) {
      return 0;
    }
    const receivedAtMs = Date.parse(event.receivedAt);
    const jobOf = (p: Planned): DeliveryJobData => ({
      deliveryId: p.identity.deliveryId,
      eventId: event.id,
      entryId: logged.entryId,
      eventType: event.type,
      subscriptionId: p.identity.subscriptionId,
      receivedAtMs,
      ...(p.ordering === undefined ? {} : { ordering: p.ordering }),
    });
    const starts = planned.map((p) => this.startOf(p, requeue, firstInLane));
    const queued: Promise<unknown>[] = [];
    const inline: Promise<unknown>[] = [];
    planned.forEach((p, i) => {
      const start = starts[i];
      if (start.kind === 'inline') {
        inline.push(this.attemptInline(p, logged.body, receivedAtMs, jobOf(p)));
      } else {
        queued.push(this.enqueue(p, jobOf(p), start));
      }
    });
    await Promise.all([...queued, ...inline]);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug(
        { eventId: event.id, inline: inline.length, queued: queued.length },
        'event fanned out',
      );
    }
    return planned.length;
  }

  /**
   * Registers a keyed event in its key's order, with the lanes of the ordered subscriptions it
   * goes to, and returns the deliveries that are first in their lane. Every keyed event is
   * registered in order, ordered subscriptions or not, so that the next one of its key never
   * waits for an event that will not come; without ordered deliveries nothing waits for it.
   */
  private async takePlaces(logged: LoggedEvent, planned: Planned[]): Promise<Set<string>> {
    const first = new Set<string>();
    if (logged.ordering === undefined) {
      return first;
    }
    const { key, seq } = logged.ordering;
    const entries = planned
      .filter((p) => p.ordering !== undefined)
      .map((p) => ({
        subscriptionId: p.identity.subscriptionId,
        deliveryId: p.identity.deliveryId,
      }));
    const registered = this.registerInOrder(key, seq, entries);
    if (entries.length === 0) {
      registered.catch((err: unknown) => {
        this.logger.warn({ err, key }, 'could not register an event in its key order');
      });
      return first;
    }
    const heads = await registered;
    heads.forEach((head, i) => {
      if (head) {
        first.add(entries[i].deliveryId);
      }
    });
    return first;
  }

  /**
   * Waits until the previous event of the key is registered, then registers this one. Past the
   * lock (plus a margin) the previous event is taken never to come, and this one goes ahead.
   */
  private async registerInOrder(
    key: string,
    seq: number,
    entries: LaneEntry[],
  ): Promise<boolean[]> {
    const deadline = Date.now() + this.registerWaitMs;
    for (let wait = REGISTER_RETRY_MS; ; wait = Math.min(wait * 2, 500)) {
      const force = Date.now() >= deadline;
      const registration = await this.lanes.register(key, seq, entries, force);
      if (registration.kind === 'registered') {
        if (force) {
          this.logger.warn({ key, seq }, 'the previous event of this key never came; going on');
        }
        return registration.heads;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private startOf(
    p: Planned,
    requeue: ReadonlySet<string>,
    firstInLane: ReadonlySet<string>,
  ): Start {
    if (p.ordering !== undefined && !firstInLane.has(p.identity.deliveryId)) {
      return { kind: 'park' };
    }
    if (requeue.has(p.identity.deliveryId)) {
      return { kind: 'queue' };
    }
    const pausedMs = this.limiter.pausedForMs(p.identity.subscriptionId);
    if (pausedMs > 0) {
      return { kind: 'queue', delayMs: pausedMs };
    }
    if (!this.health.canAttemptInline(p.identity.subscriptionId)) {
      return { kind: 'queue' };
    }
    return { kind: 'inline' };
  }

  private async attemptInline(
    p: Planned,
    body: string,
    receivedAtMs: number,
    job: DeliveryJobData,
  ): Promise<void> {
    const acquired = await this.limiter.acquire(p.subscription.subscription);
    if (acquired.kind === 'wait') {
      await this.enqueue(p, job, { kind: 'queue', delayMs: acquired.delayMs });
      return;
    }
    try {
      const resolution = await this.attempts.run(
        {
          identity: p.identity,
          subscription: p.subscription.subscription,
          body,
          attemptNumber: 1,
          manual: false,
          receivedAtMs,
        },
        { beforeRetryRecorded: (delayMs) => this.queue.add(job, { delayMs, attemptsUsed: 1 }) },
      );
      if (resolution.kind !== 'retry') {
        await this.turns.end(p.identity.subscriptionId, p.ordering, p.identity.deliveryId);
      }
    } finally {
      await this.limiter.release(acquired.slot);
    }
  }

  /**
   * The record first: a crash before the job is added leaves a pending record, which the next
   * fan-out of this entry sees and queues again (the add is idempotent).
   */
  private async enqueue(p: Planned, job: DeliveryJobData, start: Start): Promise<void> {
    await this.records.createPending(p.identity);
    if (start.kind === 'park') {
      await this.queue.add(job, { delayMs: PARKED_RECHECK_MS });
      // The delivery before it may have ended while this one was being parked.
      await this.turns.wakeIfFirst(
        p.identity.subscriptionId,
        p.ordering!.key,
        p.identity.deliveryId,
      );
      return;
    }
    await this.queue.add(job, { delayMs: start.kind === 'queue' ? start.delayMs : undefined });
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
