import {
  buildFrame,
  buildScenario,
  CALL_STATES,
  FRAME_KINDS,
  frameLogId,
  FrameKind,
  GENERATIONS,
  NEWER_ENTITY_SLOTS,
  newCall,
  SCENARIO_NAMES,
  SimFrame,
} from './frame-factory';
import type { AppConfig } from '../config/app-config';
import { EventNormalizer } from '../events/event-normalizer.service';
import type { NormalizedEvent } from '../events/normalized-event';

const EXPECTED_TYPE: Record<FrameKind, string> = {
  call_state: 'call_state',
  call_answered: 'call_flow',
  dial_failed: 'call_flow',
  sms_outbound: 'sms',
  sms_inbound: 'sms',
  sms_receipt: 'sms',
  balance: 'balance',
  tn_order: 'tn_order',
  call_record: 'call_record',
  transcript: 'call_transcript',
  call_asr: 'call_asr',
  unknown: 'conference_state',
};

/** What the bridge makes of each kind: the simulator and the normaliser must agree. */
const NORMALISED_TYPE: Record<FrameKind, string> = {
  call_state: 'call.initiated',
  call_answered: 'call.answered',
  dial_failed: 'call.flow',
  sms_outbound: 'sms.outbound',
  sms_inbound: 'sms.inbound',
  sms_receipt: 'sms.updated',
  balance: 'account.balance_changed',
  tn_order: 'tn.order_changed',
  call_record: 'call.recording',
  transcript: 'call.transcript',
  call_asr: 'call.transcript',
  unknown: 'opentact.conference_state',
};

const normalizer = new EventNormalizer({ opentact: { maxFrameBytes: 1024 * 1024 } } as AppConfig);

function normalised(frame: SimFrame): NormalizedEvent {
  const outcome = normalizer.normalize(JSON.stringify(frame), false, new Date());
  if (outcome.kind !== 'event') {
    throw new Error(`expected an event, got ${JSON.stringify(outcome)}`);
  }
  return outcome.event;
}

function record(value: unknown): Record<string, unknown> {
  expect(typeof value).toBe('object');
  expect(value).not.toBeNull();
  return value as Record<string, unknown>;
}

/** The bridge's documented dedupe key for older frames (opentact.md §7). */
function olderDedupeKey(frame: SimFrame): string {
  const payload = frame.payload;
  if (typeof payload !== 'object' || payload === null) {
    return `${String(frame.type)}|${String(frame.timestamp)}`;
  }
  const p = payload as Record<string, unknown>;
  return [frame.type, p.uuid, p.state, p.modified_on, frame.timestamp].map(String).join('|');
}

describe('frame factory', () => {
  describe.each(FRAME_KINDS)('%s', (kind) => {
    it('builds a newer-envelope frame with a uuid, created_on, account and delivery_report', () => {
      const frame = buildFrame(kind, 'newer');
      expect(frame.type).toBe(EXPECTED_TYPE[kind]);
      expect(frame.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(String(frame.created_on))).not.toBeNaN();
      expect(typeof frame.message).toBe('string');
      expect(record(frame.account).uuid).toBeDefined();
      expect(frame.delivery_report).toEqual([]);
      expect(frame).not.toHaveProperty('timestamp');
      expect(frameLogId(frame)).toBe(frame.uuid);
    });

    it('fills every entity slot of the newer envelope, null unless the frame is about it', () => {
      const frame = buildFrame(kind, 'newer');
      for (const slot of NEWER_ENTITY_SLOTS) {
        expect(frame).toHaveProperty(slot);
      }
      const filled = NEWER_ENTITY_SLOTS.filter((slot) => frame[slot] !== null);
      expect(filled.every((slot) => typeof frame[slot] === 'object')).toBe(true);
    });

    it.each(GENERATIONS)(
      'is normalised by the bridge as its documented type (%s)',
      (generation) => {
        const event = normalised(buildFrame(kind, generation));
        expect(event.type).toBe(NORMALISED_TYPE[kind]);
      },
    );

    it('builds an older-envelope frame with timestamp and a sim_id but no uuid', () => {
      const frame = buildFrame(kind, 'older');
      expect(frame.type).toBe(EXPECTED_TYPE[kind]);
      expect(Date.parse(String(frame.timestamp))).not.toBeNaN();
      expect(frame).not.toHaveProperty('uuid');
      expect(frame).not.toHaveProperty('created_on');
      expect(frame.sim_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(frameLogId(frame)).toBe(frame.sim_id);
    });

    it.each(GENERATIONS)('gives every %s frame a distinct id', (generation) => {
      const frames = Array.from({ length: 200 }, () => buildFrame(kind, generation));
      expect(new Set(frames.map(frameLogId)).size).toBe(frames.length);
      if (generation === 'older') {
        expect(new Set(frames.map(olderDedupeKey)).size).toBe(frames.length);
      }
    });
  });

  it('newer call_state: small payload, full call entity, ref_id = call uuid', () => {
    const call = newCall('in');
    const frame = buildFrame('call_state', 'newer', undefined, { call, state: 'live' });
    expect(frame.payload).toEqual({ state: 'live', duration: expect.any(Number) as number });
    const entity = record(frame.call);
    expect(entity).toMatchObject({
      uuid: call.uuid,
      direction: 'in',
      state: 'live',
      type: 'CallSCA',
      freeswitch_call_state: 'EARLY',
      freeswitch_channel_state: 'CS_EXECUTE',
    });
    expect(entity.answer_on).toBe(entity.modified_on);
    expect(entity).not.toHaveProperty('hangup_on');
    expect(record(entity.tn).tn).toEqual(expect.any(Number));
    expect(frame.ref_id).toBe(call.uuid);
    expect(frame.message).toBe(`CallSCA in ${call.from} > ${call.to} - live`);
  });

  it('older call_state: payload is the call, with every per-state timestamp present', () => {
    const frame = buildFrame('call_state', 'older', undefined, { state: 'ringing' });
    const payload = record(frame.payload);
    expect(payload).toMatchObject({ state: 'ringing', state_end: null, answer_on: null });
    expect(payload.ring_on).toBe(payload.modified_on);
    expect(frame).not.toHaveProperty('call');
  });

  it('call answered: older has command + payload.command/call, newer has call and call_flow', () => {
    const older = buildFrame('call_answered', 'older');
    expect(older).toMatchObject({ type: 'call_flow', success: true, command: 'Answer' });
    expect(record(record(older.payload).command)).toMatchObject({
      name: 'Answer',
      path: 'Answer[0]',
    });
    expect(record(record(older.payload).call).state).toBe('ringing');

    const newer = buildFrame('call_answered', 'newer');
    expect(record(newer.call_flow)).toMatchObject({ name: 'Answer', command: 'Answer' });
    expect(record(newer.call).uuid).toBe(newer.ref_id);
  });

  it('sms: smso and smsi sub-types in both generations', () => {
    expect(record(buildFrame('sms_outbound', 'older').payload)).toMatchObject({
      type: 'smso',
      state: 'success',
      delivered: true,
    });
    expect(record(buildFrame('sms_inbound', 'older').payload).type).toBe('smsi');
    const newer = buildFrame('sms_inbound', 'newer');
    expect(record(newer.payload).type).toBe('smsi');
    expect(record(newer.sms).uuid).toBe(newer.ref_id);
  });

  it('balance: bare number payload and a source_action in both generations', () => {
    for (const generation of GENERATIONS) {
      const frame = buildFrame('balance', generation);
      expect(typeof frame.payload).toBe('number');
      expect(frame.source_action).toBe('voice_charge_in');
      expect(frame.message).toBe(`New balance is ${String(frame.payload)}`);
    }
  });

  it('tn_order keeps uuid and state in payload in both generations', () => {
    for (const generation of GENERATIONS) {
      expect(record(buildFrame('tn_order', generation).payload)).toMatchObject({
        uuid: expect.any(String) as string,
        state: 'success',
      });
    }
  });

  it('newer call_state: payload.duration counts from the previous state, call.duration from the start', () => {
    const call = newCall('in', Date.parse('2024-02-20T16:41:34.861Z'));
    const frames = (['init', 'live', 'hangup'] as const).map((state, i) =>
      buildFrame('call_state', 'newer', undefined, {
        call,
        state,
        at: call.createdAt + [100, 1_400, 9_500][i],
      }),
    );
    const durations = frames.map((f) => [record(f.payload).duration, record(f.call).duration]);
    expect(durations).toEqual([
      [1, 1],
      [1, 1],
      [8, 10],
    ]);
  });

  it('failed Dial: success false, state failed, the reason, and the Callback and Dial in the logs', () => {
    const newer = buildFrame('dial_failed', 'newer');
    expect(newer.message).toMatch(
      /^Dial: success false, reason: \[originate\] ERR NO_USER_RESPONSE/,
    );
    expect(record(newer.call_flow)).toMatchObject({
      success: false,
      state: 'failed',
      name: 'Dial',
      reason: expect.stringContaining('NO_USER_RESPONSE') as string,
    });
    expect((record(newer.call).logs as { name: string }[]).map((l) => l.name)).toEqual([
      'Callback',
      'Dial',
    ]);
    expect(normalised(newer).data).toMatchObject({
      command: 'Dial',
      success: false,
      commandState: 'failed',
      reason: expect.stringContaining('NO_USER_RESPONSE') as string,
    });

    const older = buildFrame('dial_failed', 'older');
    expect(older).toMatchObject({ type: 'call_flow', success: false, command: 'Dial' });
    expect(normalised(older).data).toMatchObject({ success: false, error: 'NO_USER_RESPONSE' });
  });

  it('child leg: outbound to a SIP user, the A-leg as parent, unanswered with cause 18', () => {
    const [init, hangup] = buildScenario('unanswered-dial', 'newer');
    const leg = record(hangup.call);
    expect(leg).toMatchObject({
      direction: 'out',
      state: 'hangup',
      q850_cause: 18,
      q850_cause_string: 'NO_USER_RESPONSE',
      to: 'soupra_cool_743_gmail_com_97176442681235292623',
    });
    expect(leg.from).toMatch(/^\d+$/);
    const parent = record(leg.parent);
    expect(parent).toMatchObject({ direction: 'in', state: 'live', sip_user: null });
    expect(record(init.call).parent).toEqual(expect.objectContaining({ uuid: parent.uuid }));
    expect(normalised(hangup).data).toMatchObject({
      parentCallId: parent.uuid,
      q850Cause: 18,
      q850CauseString: 'NO_USER_RESPONSE',
      direction: 'outbound',
    });
    // A leg that ends normally keeps cause 16.
    expect(
      record(buildFrame('call_state', 'newer', undefined, { state: 'hangup' }).call),
    ).toMatchObject({ q850_cause: 16, q850_cause_string: 'NORMAL_CLEARING', parent: null });
  });

  it('sms: sent messages carry reference_id, receipts are smsr, received ones have none', () => {
    for (const generation of GENERATIONS) {
      const sent = buildFrame('sms_outbound', generation);
      const sms = record(generation === 'newer' ? sent.sms : sent.payload);
      expect(sms.reference_id).toMatch(/^ref-/);
      expect(normalised(sent).data).toMatchObject({ referenceId: sms.reference_id });

      const receipt = buildFrame('sms_receipt', generation);
      const entity = record(generation === 'newer' ? receipt.sms : receipt.payload);
      expect(entity).toMatchObject({ type: 'smsr', delivered: true });
      expect(normalised(receipt).data).toMatchObject({ smsType: 'smsr', direction: 'outbound' });

      const received = buildFrame('sms_inbound', generation);
      expect(record(generation === 'newer' ? received.sms : received.payload).reference_id).toBe(
        null,
      );
    }
  });

  it('call_asr: the text sits in the call_asr slot (newer) or the payload (older)', () => {
    const newer = buildFrame('call_asr', 'newer');
    expect(record(newer.call_asr).text).toEqual(expect.any(String));
    expect(normalised(newer).data).toMatchObject({
      callId: record(newer.call).uuid,
      text: record(newer.call_asr).text,
    });
    const older = buildFrame('call_asr', 'older');
    expect(normalised(older).data).toMatchObject({ text: record(older.payload).transcript });
  });

  it('applies overrides last', () => {
    const frame = buildFrame('call_state', 'newer', { uuid: 'fixed', type: 'call_state_v2' });
    expect(frame).toMatchObject({ uuid: 'fixed', type: 'call_state_v2' });
  });

  describe('scenarios', () => {
    it.each(GENERATIONS)(
      'inbound-call (%s) walks one call through every state with rising modified_on',
      (generation) => {
        const frames = buildScenario('inbound-call', generation);
        const calls = frames.map((frame) =>
          record(generation === 'newer' ? frame.call : frame.payload),
        );
        expect(calls.map((call) => call.state)).toEqual(CALL_STATES);
        expect(new Set(calls.map((call) => call.uuid)).size).toBe(1);
        const modified = calls.map((call) => Date.parse(String(call.modified_on)));
        expect(modified).toEqual([...modified].sort((a, b) => a - b));
        expect(new Set(modified).size).toBe(modified.length);
      },
    );

    it.each(GENERATIONS)(
      'outbound-sms (%s) sends the documented pair: success not delivered, then delivered',
      (generation) => {
        // Reference §4.9: sent (state success, delivered false), then delivered (true).
        const frames = buildScenario('outbound-sms', generation);
        const sms = frames.map((frame) =>
          record(generation === 'newer' ? frame.sms : frame.payload),
        );
        expect(sms.map((entity) => [entity.type, entity.state, entity.delivered])).toEqual([
          ['smso', 'success', false],
          ['smso', 'success', true],
        ]);
        expect(sms[0].uuid).toBe(sms[1].uuid);
        expect(sms[0].thread).toBe(sms[1].thread);
        expect(sms[0].created_on).toBe(sms[1].created_on);
        expect(frames.map((frame) => frame.message)).toEqual([
          'SMS: type: smso, state: success',
          'SMS: type: smso, state: success',
        ]);
        if (generation === 'newer') {
          expect(frames.map((frame) => record(frame.payload).delivered)).toEqual([false, true]);
        }
        expect(Date.parse(String(sms[0].modified_on))).toBeLessThan(
          Date.parse(String(sms[1].modified_on)),
        );
        const events = frames.map((frame) => normalised(frame));
        expect(events.map((event) => event.type)).toEqual(['sms.outbound', 'sms.outbound']);
        expect(new Set(events.map((event) => event.id)).size).toBe(2);
      },
    );

    it('a created outbound SMS is not yet delivered', () => {
      const created = record(
        buildFrame('sms_outbound', 'older', undefined, { smsCreated: true }).payload,
      );
      expect([created.state, created.delivered]).toEqual(['created', false]);
    });

    it.each(GENERATIONS)('all (%s) covers every kind with unique ids', (generation) => {
      const frames = buildScenario('all', generation);
      expect(new Set(frames.map((frame) => frame.type))).toEqual(
        new Set(Object.values(EXPECTED_TYPE)),
      );
      expect(new Set(frames.map(frameLogId)).size).toBe(frames.length);
    });

    it('every named scenario yields at least one frame', () => {
      for (const name of SCENARIO_NAMES) {
        expect(buildScenario(name, 'newer').length).toBeGreaterThan(0);
      }
    });

    it.each(GENERATIONS)('all (%s) normalises to distinct event ids', (generation) => {
      const ids = buildScenario('all', generation).map((frame) => normalised(frame).id);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
});
