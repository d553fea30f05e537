import type { NormalizedEvent } from './normalized-event';

/**
 * The webhook body: the normalised event, field for field. Built once at ingest and stored as is,
 * so every attempt, replay and stream reader sends the same bytes the signature was made over.
 */
export function webhookBody(event: NormalizedEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    data: event.data,
    raw: event.raw,
  });
}

/** The event a stored body describes; the body is the service's own output, so it is trusted. */
export function parseWebhookBody(body: string): NormalizedEvent {
  return JSON.parse(body) as NormalizedEvent;
}
