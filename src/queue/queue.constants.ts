import { encodeIdForKey } from '../events/event-id-encoding';

/** One source of truth for queue and job names. */
export enum QueueName {
  /**
   * Delivery attempts that do not happen in the fan-out: retries, and first attempts to endpoints
   * that are failing or slow. One job per delivery.
   */
  Deliveries = 'deliveries',
}

export enum JobName {
  Deliver = 'deliver',
}

export interface DeliveryJobData {
  deliveryId: string;
  eventId: string;
  /** The event's entry in the event log, so the attempt reads it without a lookup. */
  entryId?: string;
  eventType: string;
  subscriptionId: string;
  /** Epoch ms when the bridge read the frame: the start of the end-to-end latency. */
  receivedAtMs: number;
  /** True when created by a manual retry or replay: it does not count toward auto-disable. */
  manual?: boolean;
  /** Attempts made before this job existed (the fan-out's inline first attempt). */
  attemptOffset?: number;
  /** Set for a delivery of an ordered subscription: its lane (ordering key) and place in it. */
  ordering?: { key: string; seq: number };
}

/** Joins encoded parts; the encoding never produces two `~` in a row. */
const SEPARATOR = '~~';

/**
 * The delivery of one event to one subscription. Deterministic, so a fan-out that runs again
 * finds the delivery it made; injective (each part encoded, see event-id-encoding.ts), so two
 * events never share a delivery, and free of ':' as BullMQ job ids must be. `suffix` makes the
 * extra deliveries of a replay distinct from the original.
 */
export function deliveryIdOf(eventId: string, subscriptionId: string, suffix?: string): string {
  const base = `d_${encodeIdForKey(eventId)}${SEPARATOR}${encodeIdForKey(subscriptionId)}`;
  return suffix === undefined ? base : `${base}${SEPARATOR}${encodeIdForKey(suffix)}`;
}
