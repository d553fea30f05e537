import type { NormalizedEvent } from '../events/normalized-event';

/** One source of truth for queue and job names. */
export enum QueueName {
  /** Normalised events, one job per event id (the dedup key). Consumed by the fan-out. */
  Events = 'events',
  /** One job per (event, subscription). Consumed by the webhook sender. */
  Deliveries = 'deliveries',
}

export enum JobName {
  FanOut = 'fan-out',
  Deliver = 'deliver',
}

/**
 * The events job carries the normalised event; never credentials. A synthetic test event names
 * the one subscription it is for, so it goes through the normal path without reaching others.
 */
export type EventJobData = NormalizedEvent & { targetSubscriptionId?: string };

export interface DeliveryJobData {
  deliveryId: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  /** Epoch ms when the bridge read the frame: the start of the end-to-end latency. */
  receivedAtMs: number;
  /** True when created by a manual retry or replay: it does not count toward auto-disable. */
  manual?: boolean;
  /** Attempts made before this job existed (the fan-out's inline first attempt). */
  attemptOffset?: number;
}

/** BullMQ custom ids may not contain ':' nor be all digits. */
export function eventJobId(eventId: string): string {
  return `e_${eventId.replace(/:/g, '_')}`;
}

/** Deterministic, so a retried fan-out adds the same job and BullMQ ignores it. */
export function deliveryJobId(eventId: string, subscriptionId: string): string {
  return `d_${eventId.replace(/:/g, '_')}_${subscriptionId}`;
}
