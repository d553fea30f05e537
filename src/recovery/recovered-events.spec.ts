import type { AppConfig } from '../config/app-config';
import { entityStateAlias } from '../events/entity-state-alias';
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
    // The identity of the same state read on the WSS (whatever dimensions it has).
    expect(recovered.aliases).toEqual([entityStateAlias('sms.inbound', recovered.event.data)]);
    expect(recovered.aliases[0]).toContain(`sms:${String(entity.uuid)}:sms.inbound:success`);
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
      entityStateAlias('sms.outbound', recovered.event.data),
      entityStateAlias('sms.updated', recovered.event.data),
    ]);
    expect(recovered.aliases[1]).toContain(`sms:${String(entity.uuid)}:sms.updated:success`);
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

const iso = (ms: number): string => new Date(ms).toISOString();

/** A call as the search returns it once it has ended (reference §3.3, §4.6, §4.7). */
function endedCall(): Record<string, unknown> {
  return {
    uuid: '7b0a1c1e-6a55-4a43-9f2e-2d3c4b5a6978',
    direction: 'in',
    from: '+14158531285',
    to: '18382050008',
    state: 'destroyed',
    state_end: null,
    duration: 42,
    type: 'CallSCA',
    created_on: iso(T0 + 1_000),
    modified_on: iso(T0 + 9_000),
    init_on: iso(T0 + 2_000),
    ring_on: iso(T0 + 3_000),
    answer_on: iso(T0 + 4_000),
    hangup_on: iso(T0 + 8_000),
    destroy_on: iso(T0 + 9_000),
    finished_on: iso(T0 + 9_000),
    q850_cause: 16,
    q850_cause_string: 'NORMAL_CLEARING',
    release_cause_from_protocol_stack: null,
    freeswitch_call_state: 'HANGUP',
    freeswitch_channel_state: 'CS_REPORTING',
    thread: '6c7229a4d21945d0cfabe334803064a5',
    tn: { tn: 18382050008 },
    account: { uuid: '9df81deb-afa6-436b-8ce9-af54b3e502e4' },
    sip_control_app: { uuid: '2f1e0d9c-8b7a-4654-9321-0fedcba98765', name: 'app' },
    logs: [{ name: 'Dial', success: true }],
    records: [{ uuid: 'r-1' }],
    children: [],
  };
}

/** An outbound SMS as `/sms/search/outbound` returns it (reference §4.9, §7.1: no `type`). */
function sentSms(
  delivered: boolean,
  createdMs: number,
  modifiedMs: number,
): Record<string, unknown> {
  return {
    uuid: '11ad513b-4017-4592-a8e1-0f47b6817973',
    created_on: iso(createdMs),
    modified_on: iso(modifiedMs),
    from: '18382050008',
    to: '14158531285',
    thread: '6c7229a4d21945d0cfabe334803064a5',
    message: 'Hello world',
    state: 'success',
    delivered,
    readed: false,
    reference_id: 'ref-11ad513b',
    tn: { tn: 18382050008 },
    account: { uuid: '9df81deb-afa6-436b-8ce9-af54b3e502e4' },
  };
}

/** The same SMS state read on the WSS (the older envelope, `payload` the entity with its type). */
function wssIdentity(
  entity: Record<string, unknown>,
  smsType: 'smso' | 'smsr',
): string | undefined {
  const outcome = normalizer.normalize(
    JSON.stringify({
      timestamp: entity.modified_on,
      message: `SMS: type: ${smsType}, state: ${String(entity.state)}`,
      type: 'sms',
      payload: { ...entity, type: smsType },
    }),
    false,
    receivedAt,
  );
  if (outcome.kind !== 'event') {
    throw new Error(`the WSS frame was not an event: ${outcome.kind}`);
  }
  return entityStateAlias(outcome.event.type, outcome.event.data);
}

describe('recovered call states carry what was true then', () => {
  const events = (entity: Record<string, unknown>) =>
    recoverCall(normalizer, entity, window, receivedAt).map((r) => r.event);

  it('gives the states before the end no duration, cause, FreeSWITCH state, logs or records', () => {
    const [init, ringing, live, hangup, destroyed] = events(endedCall());
    for (const event of [init, ringing, live]) {
      const data = event.data as Record<string, unknown>;
      expect(data.duration).toBeUndefined();
      expect(data.q850Cause).toBeUndefined();
      expect(data.q850CauseString).toBeUndefined();
      const payload = event.raw.payload as Record<string, unknown>;
      for (const key of [
        'duration',
        'finished_on',
        'q850_cause',
        'freeswitch_call_state',
        'freeswitch_channel_state',
        'logs',
        'records',
        'children',
        'state_end',
      ]) {
        expect(payload[key]).toBeUndefined();
      }
      expect(payload.modified_on).toBe(event.occurredAt);
    }
    expect((ringing.data as Record<string, unknown>).answerOn).toBeUndefined();
    expect((live.data as Record<string, unknown>).answerOn).toBe(iso(T0 + 4_000));
    // What stays true for the whole call is kept.
    expect(init.data).toMatchObject({
      callId: '7b0a1c1e-6a55-4a43-9f2e-2d3c4b5a6978',
      direction: 'inbound',
      tn: '+18382050008',
      accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
      sipControlAppId: '2f1e0d9c-8b7a-4654-9321-0fedcba98765',
      thread: '6c7229a4d21945d0cfabe334803064a5',
    });
    // An ended call keeps its duration and cause: they were settled at the hang-up.
    expect(hangup.data).toMatchObject({ duration: 42, q850Cause: 16 });
    expect((hangup.raw.payload as Record<string, unknown>).freeswitch_call_state).toBeUndefined();
    expect((hangup.data as Record<string, unknown>).destroyOn).toBeUndefined();
    expect(destroyed.data).toMatchObject({ duration: 42, q850Cause: 16 });
    // The state REST shows now is the entity as read.
    expect((destroyed.raw.payload as Record<string, unknown>).freeswitch_call_state).toBe('HANGUP');
  });

  it("leaves out a live call's duration: REST has it as of the search, not as of the answer", () => {
    const entity = {
      ...endedCall(),
      state: 'live',
      duration: 300,
      hangup_on: null,
      destroy_on: null,
      finished_on: null,
      q850_cause: null,
      q850_cause_string: null,
    };
    const recovered = events(entity);
    expect(recovered.map((e) => e.type)).toEqual(['call.initiated', 'call.ringing', 'call.live']);
    for (const event of recovered) {
      expect((event.data as Record<string, unknown>).duration).toBeUndefined();
    }
  });

  it('identifies a parent call by its id only, not by the state it is in now', () => {
    const entity = {
      ...endedCall(),
      parent: { uuid: 'a-leg', state: 'destroyed', duration: 99, hangup_on: iso(T0 + 9_500) },
    };
    const [init] = events(entity);
    expect(init.data).toMatchObject({ parentCallId: 'a-leg' });
    expect((init.raw.payload as Record<string, unknown>).parent).toEqual({ uuid: 'a-leg' });
  });
});

describe('recovered SMS states and their identities', () => {
  it('gives a recovered state the identity of the same state read on the WSS, sent and delivered', () => {
    for (const delivered of [false, true]) {
      const entity = sentSms(delivered, T0 + 1_000, T0 + 5_000);
      const recovered = recoverSms(normalizer, entity, 'outbound', window, receivedAt).at(-1);
      expect(recovered?.event.data).toMatchObject({ delivered, state: 'success', recovered: true });
      expect(recovered?.aliases).toEqual([
        wssIdentity(entity, 'smso'),
        wssIdentity(entity, 'smsr'),
      ]);
    }
  });

  it('recovers the sent state too when REST shows the message delivered (sent within the window)', () => {
    const entity = sentSms(true, T0 + 1_000, T0 + 5_000);
    const recovered = recoverSms(normalizer, entity, 'outbound', window, receivedAt);
    expect(recovered.map((r) => r.event.data)).toEqual([
      expect.objectContaining({ state: 'success', delivered: false, recovered: true }),
      expect.objectContaining({ state: 'success', delivered: true, recovered: true }),
    ]);
    const [sent, delivered] = recovered;
    // REST keeps no time for the sent state: it is given the message's creation time.
    expect(sent.event.occurredAt).toBe(iso(T0 + 1_000));
    expect(delivered.event.occurredAt).toBe(iso(T0 + 5_000));
    expect(sent.aliases[0]).toBe(wssIdentity(sentSms(false, T0 + 1_000, T0 + 2_000), 'smso'));
    expect(sent.event.id).not.toBe(delivered.event.id);
    // Recovered twice (two processes), the same two events.
    expect(
      recoverSms(normalizer, entity, 'outbound', window, new Date()).map((r) => r.event.id),
    ).toEqual([sent.event.id, delivered.event.id]);
  });

  it('recovers the sent state of a message delivered after the window, not its delivery', () => {
    const entity = sentSms(true, T0 + 1_000, T0 + 90_000);
    const recovered = recoverSms(normalizer, entity, 'outbound', window, receivedAt);
    expect(recovered.map((r) => r.event.data)).toEqual([
      expect.objectContaining({ delivered: false }),
    ]);
  });

  it('recovers only the delivery of a message created before the window (its sending was seen)', () => {
    const entity = sentSms(true, T0 - 1_000, T0 + 5_000);
    const recovered = recoverSms(normalizer, entity, 'outbound', window, receivedAt);
    expect(recovered.map((r) => r.event.data)).toEqual([
      expect.objectContaining({ delivered: true }),
    ]);
  });
});
