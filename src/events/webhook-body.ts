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

/**
 * The same body with `raw` spliced in as the frame's own text (already parsed and checked by the
 * normaliser, so it is a JSON object): raw stays byte for byte what Opentact sent, and the 1-2 KB
 * frame is not serialised a second time.
 */
export function webhookBodyWithRawText(event: NormalizedEvent, rawText: string): string {
  return (
    `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},` +
    `"occurredAt":${JSON.stringify(event.occurredAt)},"receivedAt":${JSON.stringify(event.receivedAt)},` +
    `"data":${JSON.stringify(event.data)},"raw":${rawText}}`
  );
}

/** The event a stored body describes; the body is the service's own output, so it is trusted. */
export function parseWebhookBody(body: string): NormalizedEvent {
  return JSON.parse(body) as NormalizedEvent;
}

export type WebhookEnvelope = Pick<NormalizedEvent, 'id' | 'type' | 'occurredAt' | 'receivedAt'>;

const DATA_MARK = ',"data":';

/**
 * The leading fields of a stored body, without parsing the rest: every body the service writes
 * starts `{"id":…,"type":…,"occurredAt":…,"receivedAt":…,"data":`, and `,"data":` cannot occur
 * inside those escaped strings. Anything else is parsed whole.
 */
export function readWebhookEnvelope(body: string): WebhookEnvelope {
  const end = body.indexOf(DATA_MARK);
  if (end > 0 && end < 2048) {
    try {
      const head = JSON.parse(`${body.slice(0, end)}}`) as Partial<WebhookEnvelope>;
      if (
        typeof head.id === 'string' &&
        typeof head.type === 'string' &&
        typeof head.receivedAt === 'string'
      ) {
        return head as WebhookEnvelope;
      }
    } catch {
      // not the service's own layout: parse it whole below
    }
  }
  const { id, type, occurredAt, receivedAt } = parseWebhookBody(body);
  return { id, type, occurredAt, receivedAt };
}
