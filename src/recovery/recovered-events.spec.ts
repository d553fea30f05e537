import type { AppConfig } from '../config/app-config';
import { EventNormalizer } from '../events/event-normalizer.service';
import { buildFrame, newCall } from '../simulator/frame-factory';
import { recoverCall, recoverSms } from './recovered-events';

const normalizer = new EventNormalizer({ opentact: { maxFrameBytes: 1_048_576 } } as AppConfig);
const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const window = { fromMs: T0, toMs: T0 + 60_000 };
const receivedAt = new Date(T0 + 120_000);

/** A call entity as the REST search returns it, after every state up to `last`. */
function callEntity(last: 'live' | 'destroyed'): Record<string, unknown> {
  const call = newCall('in', T0 + 1_000);
  const states =
    last === 'live'
      ? ['init', 'ringing', 'live']
      : ['init', 'ringing', 'live', 'hangup', 'destroyed'];
  let entity: Record<string, unknown> = {};
  states.forEach((state, i) => {
    const frame = buildFrame('call_state', 'older', undefined, {
      call,
      state: state as 'init',
      at: T0 + 2_000 + i * 1_000,
    });
    const payload = frame.payload as Record<string, unknown>;
    for (const [key, value] of Object.entries(payload)) {
      if (value !== null || !(key in entity)) {
        entity[key] = value;
      }
    }
    entity = { ...entity };
  });
  return entity;
}

describe('recovered events', () => {
  it('makes an inbound SMS the sms.inbound event the WSS would have carried, marked recovered', () => {
    const frame = buildFrame('sms_inbound', 'older', undefined, { at: T0 + 5_000 });
    const entity = { ...(frame.payload as Record<string, unknown>) };
    delete entity.type;
    const [recovered, ...rest] = recoverSms(normalizer, entity, 'inbound', window, receivedAt);
    expect(rest).toEqual([]);
    expect(recovered.event.type).toBe('sms.inbound');
    expect(recovered.event.occurredAt).toBe(new Date(T0 + 5_000).toISOString());
    expect(recovered.event.data).toMatchObject({
      messageId: entity.uuid,
      direction: 'inbound',
      state: 'success',
      recovered: true,
    });
    expect(recovered.aliases).toEqual([`sms:${String(entity.uuid)}:sms.inbound:success`]);
    // The same state recovered twice (two processes) is the same event.
    expect(recoverSms(normalizer, entity, 'inbound', window, new Date())[0].event.id).toBe(
      recovered.event.id,
    );
  });

  it('lets a sent SMS stand for its receipt of the same state too', () => {
    const frame = buildFrame('sms_outbound', 'older', undefined, { at: T0 + 5_000 });
    const entity = frame.payload as Record<string, unknown>;
    const [recovered] = recoverSms(normalizer, entity, 'outbound', window, receivedAt);
    expect(recovered.event.type).toBe('sms.outbound');
    expect(recovered.aliases).toEqual([
      `sms:${String(entity.uuid)}:sms.outbound:success`,
      `sms:${String(entity.uuid)}:sms.updated:success`,
    ]);
  });

  it('leaves out an SMS modified outside the window', () => {
    const frame = buildFrame('sms_inbound', 'older', undefined, { at: T0 - 1 });
    expect(
      recoverSms(
        normalizer,
        frame.payload as Record<string, unknown>,
        'inbound',
        window,
        receivedAt,
      ),
    ).toEqual([]);
  });

  it('turns every state a call went through within the window into its call.<state> event, in order', () => {
    const entity = callEntity('destroyed');
    const events = recoverCall(normalizer, entity, window, receivedAt);
    expect(events.map((e) => e.event.type)).toEqual([
      'call.initiated',
      'call.ringing',
      'call.live',
      'call.hangup',
      'call.destroyed',
    ]);
    expect(events.map((e) => e.aliases[0])).toEqual(
      ['init', 'ringing', 'live', 'hangup', 'destroyed'].map(
        (s) => `call:${String(entity.uuid)}:${s}`,
      ),
    );
    // The call as it stood then: no hang-up time or cause on call.live.
    const live = events[2].event.data as Record<string, unknown>;
    expect(live).toMatchObject({ state: 'live', recovered: true, callId: entity.uuid });
    expect(live.hangupOn).toBeUndefined();
    expect(live.q850Cause).toBeUndefined();
    expect(events[4].event.data).toMatchObject({ q850Cause: 16 });
    expect(new Set(events.map((e) => e.event.id)).size).toBe(5);
  });

  it('recovers only the states timed within the window', () => {
    const entity = callEntity('live');
    const narrow = { fromMs: T0 + 3_500, toMs: T0 + 60_000 };
    expect(recoverCall(normalizer, entity, narrow, receivedAt).map((e) => e.event.type)).toEqual([
      'call.live',
    ]);
  });
});
