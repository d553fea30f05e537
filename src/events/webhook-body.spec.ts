import { EventType } from './event-type.enum';
import type { NormalizedEvent } from './normalized-event';
import {
  parseWebhookBody,
  readWebhookEnvelope,
  webhookBody,
  webhookBodyWithRawText,
} from './webhook-body';

const RAW_TEXT = '{"uuid":"u-1", "type":"call_state","n":1.50,"t":"caf\\u00e9"}';

function event(id: string): NormalizedEvent {
  return {
    id,
    type: EventType.CallLive,
    occurredAt: '2026-11-30T05:48:49.558Z',
    receivedAt: '2026-11-30T05:48:49.560Z',
    data: { callId: 'c-1', message: 'x,"data":y' },
    raw: JSON.parse(RAW_TEXT) as Record<string, unknown>,
  };
}

describe('webhook body', () => {
  it('splices the frame text in as raw: the same event, and raw byte for byte as sent', () => {
    const e = event('u-1');
    const body = webhookBodyWithRawText(e, RAW_TEXT);
    expect(parseWebhookBody(body)).toEqual(JSON.parse(webhookBody(e)));
    expect(Object.keys(parseWebhookBody(body))).toEqual([
      'id',
      'type',
      'occurredAt',
      'receivedAt',
      'data',
      'raw',
    ]);
    expect(body.endsWith(`"raw":${RAW_TEXT}}`)).toBe(true);
  });

  it('reads the envelope without the rest, whatever the id holds', () => {
    for (const id of ['u-1', 'a,"data":b', 'quote " and \\ backslash', 'ünïcödé']) {
      const e = event(id);
      for (const body of [webhookBody(e), webhookBodyWithRawText(e, RAW_TEXT)]) {
        expect(readWebhookEnvelope(body)).toEqual({
          id,
          type: e.type,
          occurredAt: e.occurredAt,
          receivedAt: e.receivedAt,
        });
      }
    }
  });

  it('falls back to a whole parse for a body in another layout', () => {
    const reordered = JSON.stringify({ data: { x: 1 }, receivedAt: 'r', type: 't', id: 'i' });
    expect(readWebhookEnvelope(reordered)).toMatchObject({ id: 'i', type: 't', receivedAt: 'r' });
  });

  it.each([
    ['{"id":"i","data":{},"type":"t","occurredAt":"o","receivedAt":"r"}'],
    ['{"id":"i","occurredAt":"o","receivedAt":"r","data":{},"type":"t"}'],
    ['{"id":"i","type":"t","data":{},"occurredAt":"o","receivedAt":"r"}'],
    ['{"type":"t","occurredAt":"o","receivedAt":"r","data":{},"id":"i"}'],
    ['{"id":1,"type":"t","occurredAt":"o","receivedAt":"r","data":{},"id":"i"}'],
    ['{"x":{"a":0,"data":1},"id":"i","type":"t","occurredAt":"o","receivedAt":"r","data":{}}'],
  ])('parses the whole body when its head lacks a field or is not JSON: %s', (body) => {
    expect(readWebhookEnvelope(body)).toEqual({
      id: 'i',
      type: 't',
      occurredAt: 'o',
      receivedAt: 'r',
    });
  });

  it('reads the head alone: the rest of the body is not parsed', () => {
    // A tail that is not JSON shows the rest was never parsed.
    const head = '{"id":"i","type":"t","occurredAt":"o","receivedAt":"r"';
    expect(readWebhookEnvelope(`${head},"data":{not json`)).toEqual({
      id: 'i',
      type: 't',
      occurredAt: 'o',
      receivedAt: 'r',
    });
    // A head past 2 KB is not looked for: the body is parsed whole.
    const long = `{"id":"${'i'.repeat(2100)}","type":"t","occurredAt":"o","receivedAt":"r"`;
    expect(() => readWebhookEnvelope(`${long},"data":{not json`)).toThrow(SyntaxError);
    expect(readWebhookEnvelope(`${long},"data":{}}`).id).toHaveLength(2100);
  });
});
