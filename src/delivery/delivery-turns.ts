import { Injectable } from '@nestjs/common';
import { DeliveryQueue } from '../queue/delivery-queue';
import { DeliveryLanes } from './delivery-lanes';

/** A delivery parked behind another is checked again after this, in case no one woke it. */
export const PARKED_RECHECK_MS = 30_000;

/**
 * Hands the turn in an ordered lane to the next delivery: when a delivery of an ordered
 * subscription ends (delivered, dead or skipped), it leaves its lane and the delivery now first
 * is started at once. Should that wake-up be lost (a crash in between), the parked delivery checks
 * again by itself after PARKED_RECHECK_MS.
 */
@Injectable()
export class DeliveryTurns {
  constructor(
    private readonly lanes: DeliveryLanes,
    private readonly queue: DeliveryQueue,
  ) {}

  async end(
    subscriptionId: string,
    ordering: { key: string } | undefined,
    deliveryId: string,
  ): Promise<void> {
    if (ordering === undefined) {
      return;
    }
    const next = await this.lanes.finish(subscriptionId, ordering.key, deliveryId);
    if (next !== undefined) {
      await this.queue.promote(next);
    }
  }

  /** After parking: if the lane moved on meanwhile, the parked delivery starts now. */
  async wakeIfFirst(subscriptionId: string, key: string, deliveryId: string): Promise<void> {
    if (await this.lanes.isFirst(subscriptionId, key, deliveryId)) {
      await this.queue.promote(deliveryId);
    }
  }
}
