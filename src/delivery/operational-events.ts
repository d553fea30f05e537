import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { EventLog } from '../events/event-log';
import { EventType } from '../events/event-type.enum';
import type { NormalizedEvent } from '../events/normalized-event';
import { webhookBody } from '../events/webhook-body';
import { InjectLogger } from '../logging/logging.module';
import { RepeatedErrorLog } from '../logging/repeated-error.log';

export interface SubscriptionDisabledData {
  subscriptionId: string;
  reason: string;
  /** `gone` (the endpoint answered 410) or `failing` (no success for DELIVERY_DISABLE_AFTER). */
  cause: 'gone' | 'failing';
  disabledAt: string;
}

export interface DeliveryDeadData {
  deliveryId: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  attempts: number;
  lastStatusCode?: number;
  lastError?: string;
}

/**
 * The bridge's own events, told to the operator's endpoints through the same path as Opentact's
 * (signed, retried, delivered only to subscriptions that name them). Each id is derived from the
 * occurrence, so two processes that both see it append it once (the log deduplicates by id).
 * An append that fails is logged, not retried: an operational notice must not hold back the
 * delivery it is about.
 */
@Injectable()
export class OperationalEvents {
  private readonly errors: RepeatedErrorLog;

  constructor(
    private readonly log: EventLog,
    @InjectLogger() logger: Logger,
  ) {
    this.errors = new RepeatedErrorLog(
      logger.child({ component: 'operational-events' }),
      'could not record an operational event',
    );
  }

  async subscriptionDisabled(data: SubscriptionDisabledData): Promise<void> {
    await this.emit(
      EventType.BridgeSubscriptionDisabled,
      `bridge.subscription.disabled.${data.subscriptionId}.${Date.parse(data.disabledAt)}`,
      data.disabledAt,
      data,
    );
  }

  async deliveryDead(data: DeliveryDeadData, atIso: string): Promise<void> {
    // A bridge event that could not be delivered does not announce itself again: no loops.
    if (data.eventType.startsWith('bridge.')) {
      return;
    }
    await this.emit(
      EventType.BridgeDeliveryDead,
      `bridge.delivery.dead.${data.deliveryId}.${data.attempts}`,
      atIso,
      data,
    );
  }

  /** For events of other parts of the bridge (the Opentact connection's outages). */
  async emit(type: EventType, id: string, atIso: string, data: object): Promise<void> {
    const event: NormalizedEvent = {
      id,
      type,
      occurredAt: atIso,
      receivedAt: new Date().toISOString(),
      data: data,
      raw: {},
    };
    try {
      await this.log.append([{ id, body: webhookBody(event) }]);
    } catch (error) {
      this.errors.report(type, error);
    }
  }
}
