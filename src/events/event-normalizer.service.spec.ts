import type { AppConfig } from '../config/app-config';
import {
  ALL_FRAMES,
  AUTH_RESPONSE,
  BALANCE_CALL_ASR_OLDER,
  BALANCE_NEWER,
  BALANCE_VOICE_CHARGE_OLDER,
  CALL_ANSWERED_NEWER,
  CALL_ANSWERED_OLDER,
  CALL_ASR_NEWER,
  CALL_FLOW_DIAL_FAILED_OLDER,
  CALL_FLOW_DIAL_NEWER,
  CALL_FLOW_PLAY_OLDER,
  CALL_HANGUP_NEWER,
  CALL_INITIATED_NEWER,
  CALL_INITIATED_NULL_SLOTS_NEWER,
  CALL_INITIATED_OLDER,
  CALL_LIVE_OLDER,
  CALL_RECORD_NEWER,
  CALL_RECORD_OLDER,
  PASSTHROUGH_CALL_BRIDGED_OLDER,
  REFERENCE_FRAMES,
  SMS_INBOUND_OLDER,
  SMS_OUTBOUND_NEWER,
  SMS_OUTBOUND_OLDER,
  SMS_OUTBOUND_REFERENCE_NEWER,
  SMS_RECEIPT_NEWER,
  SMS_UPDATED_NEWER,
  SMS_UPDATED_OLDER,
  TN_ORDER_FAILED_NEWER,
  TN_ORDER_NEWER,
  TN_ORDER_OLDER,
  TRANSCRIPT_CALL_ASR_OLDER,
  TRANSCRIPT_NEWER,
  TRANSCRIPT_READY_NEWER,
} from '../../test/fixtures/opentact-frames';
import { EventNormalizer, MAX_FRAME_DEPTH } from './event-normalizer.service';
import { BRIDGE_PREFIX, EventType, isNormalizedEventType } from './event-type.enum';
import { type NormalizedEvent, type NormalizeOutcome, QuarantineReason } from './normalized-event';

const MAX_FRAME_BYTES = 1024 * 1024;
const RECEIVED_AT = new Date('2024-03-01T12:00:00.000Z');

function makeNormalizer(maxFrameBytes = MAX_FRAME_BYTES): EventNormalizer {
  return new EventNormalizer({ opentact: { maxFrameBytes } } as AppConfig);
}

const normalizer = makeNormalizer();

function outcomeOf(frame: unknown, receivedAt = RECEIVED_AT): NormalizeOutcome {
  return normalizer.normalize(JSON.stringify(frame), false, receivedAt);
}

function eventOf(frame: unknown, receivedAt = RECEIVED_AT): NormalizedEvent {
  const outcome = outcomeOf(frame, receivedAt);
  if (outcome.kind !== 'event') {
    throw new Error(`expected an event, got ${JSON.stringify(outcome)}`);
  }
  return outcome.event;
}

function quarantineOf(frame: unknown): { reason: QuarantineReason; detail: string } {
  const outcome = outcomeOf(frame);
  if (outcome.kind !== 'quarantine') {
    throw new Error(`expected quarantine, got ${JSON.stringify(outcome)}`);
  }
  return { reason: outcome.reason, detail: outcome.detail };
}

function withoutKey(frame: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...frame };
  delete copy[key];
  return copy;
}

/** toStrictEqual fails on a key whose value is `undefined`, which JSON would silently drop. */
function expectJsonClean(value: unknown): void {
  expect(JSON.parse(JSON.stringify(value))).toStrictEqual(value);
}

describe('EventNormalizer', () => {
  describe('mapping table, both envelope generations', () => {
    it('covers every row in both generations', () => {
      const rows = new Map<string, Set<string>>();
      for (const { expectedType, generation } of ALL_FRAMES) {
        rows.set(expectedType, (rows.get(expectedType) ?? new Set()).add(generation));
      }
      // Types the bridge makes itself (a test event, operational events) come from no frame.
      const expectedRows = [
        ...Object.values(EventType).filter(
          (type) => type !== EventType.WebhookTest && !type.startsWith(BRIDGE_PREFIX),
        ),
      ];
      for (const row of expectedRows) {
        expect([row, [...(rows.get(row) ?? [])].sort()]).toEqual([row, ['newer', 'older']]);
      }
      const passthrough = ALL_FRAMES.filter((f) => f.expectedType.startsWith('opentact.'));
      expect(new Set(passthrough.map((f) => f.generation))).toEqual(new Set(['newer', 'older']));
    });

    it.each(ALL_FRAMES.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
      const event = eventOf(fixture.frame);
      expect(event.type).toBe(fixture.expectedType);
      expect(isNormalizedEventType(event.type)).toBe(true);
      expect(event.raw).toEqual(fixture.frame);
      expect(event.receivedAt).toBe(RECEIVED_AT.toISOString());
      const stamp = fixture.frame.created_on ?? fixture.frame.timestamp;
      expect(event.occurredAt).toBe(new Date(stamp as string).toISOString());
      if (fixture.generation === 'newer') {
        expect(event.id).toBe(fixture.frame.uuid);
      } else {
        expect(event.id).toMatch(/^h_[0-9a-f]{32}$/);
      }
      expectJsonClean(event);
    });

    it('gives every fixture a distinct id', () => {
      const ids = ALL_FRAMES.map((f) => eventOf(f.frame).id);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('reference examples', () => {
    it.each(REFERENCE_FRAMES.map((f) => [f.name, f] as const))(
      '%s',
      (_name, { frame, expected }) => {
        const outcome = outcomeOf(frame);
        if (expected === 'control') {
          expect(outcome).toEqual({ kind: 'control', frameType: 'auth', frame });
        } else {
          expect(outcome.kind === 'event' && outcome.event.type).toBe(expected);
        }
      },
    );
  });

  describe('call data', () => {
    it('maps a newer child-leg hangup, taking state and duration from the small payload', () => {
      expect(eventOf(CALL_HANGUP_NEWER).data).toStrictEqual({
        callId: '1c7091a5-ba1f-46a2-bf06-b1137cb6b683',
        direction: 'outbound',
        from: '+18389999168',
        to: 'soupra_cool_743_gmail_com_97176442681235292623',
        state: 'hangup',
        duration: 1,
        parentCallId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
        q850Cause: 18,
        q850CauseString: 'NO_USER_RESPONSE',
        sipControlAppId: '03302770-4a53-438e-adb6-7a3062d61547',
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
        tn: '+18382049000',
        thread: 'f2fc43433c39837ba33497b10910cf76',
        refId: '1c7091a5-ba1f-46a2-bf06-b1137cb6b683',
        message:
          'CallSCA out 18389999168 > soupra_cool_743_gmail_com_97176442681235292623 - hangup',
        hangupOn: '2024-02-20T16:41:37.088Z',
      });
    });

    it('maps a newer init with per-state timestamps', () => {
      const event = eventOf(CALL_INITIATED_NEWER);
      expect(event.id).toBe('1ccf8c99-a5f2-41d4-8183-f56d2035f3fd');
      expect(event.occurredAt).toBe('2024-02-19T16:24:46.183Z');
      expect(event.data).toMatchObject({
        callId: '3b206fb6-a5b7-4d62-8a3a-02d9e188ad38',
        direction: 'inbound',
        from: '+18389999168',
        state: 'init',
        initOn: '2024-02-19T16:24:45.982Z',
      });
      expect(event.data).not.toHaveProperty('answerOn');
    });

    it('prefers payload.state over a stale call.state in newer frames', () => {
      const frame = {
        ...CALL_INITIATED_NEWER,
        payload: { state: 'ringing', duration: 3 },
      };
      const event = eventOf(frame);
      expect(event.type).toBe(EventType.CallRinging);
      expect(event.data).toMatchObject({ state: 'ringing', duration: 3 });
    });

    it('falls back to call.state when the newer payload has none', () => {
      const event = eventOf({ ...CALL_INITIATED_NEWER, payload: {} });
      expect(event.type).toBe(EventType.CallInitiated);
    });

    it('maps an older call_state whose payload is the call, leaving null fields out', () => {
      expect(eventOf(CALL_INITIATED_OLDER).data).toStrictEqual({
        callId: '6a1ffcf8-abaf-422a-9bfc-ec1349a2b81c',
        direction: 'inbound',
        from: '+14158531285',
        to: '+18382050010',
        state: 'init',
        duration: 18,
        sipControlAppId: '3b533be6-4dde-4a28-aad2-45347e53334a',
        accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
        tn: '+18382050010',
        message: 'CallSCA in +14158531285 > 18382050010 - init',
        initOn: '2022-07-04T16:44:49.887Z',
      });
    });

    it('maps the documented Answer result with command, success and reason', () => {
      const event = eventOf(CALL_ANSWERED_OLDER);
      expect(event.type).toBe(EventType.CallAnswered);
      expect(event.occurredAt).toBe('2022-07-04T16:44:53.554Z');
      expect(event.data).toStrictEqual({
        callId: '6a1ffcf8-abaf-422a-9bfc-ec1349a2b81c',
        direction: 'inbound',
        from: '+14158531285',
        to: '+18382050010',
        state: 'ringing',
        duration: 2681,
        sipControlAppId: '3b533be6-4dde-4a28-aad2-45347e53334a',
        accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
        tn: '+18382050010',
        thread: '3e1d9c8b7a6f5e4d3c2b1a0f9e8d7c6b',
        message: '[success] command Answer[0], reason: Call answered',
        initOn: '2022-07-04T16:44:49.887Z',
        ringOn: '2022-07-04T16:44:49.889Z',
        command: 'Answer',
        success: true,
        reason: 'Call answered',
      });
    });

    it('reads command, success and reason from a newer call_flow record', () => {
      expect(eventOf(CALL_ANSWERED_NEWER).data).toMatchObject({
        callId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
        command: 'Answer',
        success: true,
        reason: 'Call answered',
      });
      expect(eventOf(CALL_FLOW_DIAL_NEWER).data).toMatchObject({
        command: 'Dial',
        success: false,
        reason: '[originate] ERR NO_USER_RESPONSE. no any destinations are accept the call 1/1.',
      });
    });

    it('treats Answer case-insensitively and any other command as call.flow', () => {
      expect(eventOf({ ...CALL_ANSWERED_OLDER, command: 'ANSWER' }).type).toBe(
        EventType.CallAnswered,
      );
      expect(eventOf(CALL_FLOW_PLAY_OLDER).type).toBe(EventType.CallFlow);
      expect(eventOf({ type: 'call flow', command: 'Hangup' }).type).toBe(EventType.CallFlow);
    });

    it('accepts inbound/outbound spelled out and a tn sent as a string', () => {
      const payload = CALL_INITIATED_OLDER.payload as Record<string, unknown>;
      const data = eventOf({
        ...CALL_INITIATED_OLDER,
        payload: { ...payload, direction: 'Outbound', tn: '+18382050010' },
      }).data;
      expect(data).toMatchObject({ direction: 'outbound', tn: '+18382050010' });
    });

    it('takes the account from the envelope when the call has none', () => {
      const call = { ...(CALL_INITIATED_NEWER.call as Record<string, unknown>) };
      delete call.account;
      const data = eventOf({ ...CALL_INITIATED_NEWER, call }).data;
      expect(data).toMatchObject({ accountId: '58699aff-b3dd-46b6-b428-029cde3368a4' });
    });
  });

  describe('sms data', () => {
    it('maps the documented outbound SMS', () => {
      expect(eventOf(SMS_OUTBOUND_OLDER).data).toStrictEqual({
        messageId: '11ad513b-4017-4592-a8e1-0f47b6817973',
        direction: 'outbound',
        smsType: 'smso',
        from: '+18382050008',
        to: '+14158531285',
        text: 'Hello world',
        state: 'success',
        delivered: true,
        tn: '+18382050008',
        thread: '6c7229a4d21945d0cfabe334803064a5',
        accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
        reason:
          '[SMSO][11ad513b-4017-4592-a8e1-0f47b6817973]: tn: 18382050008, sms_campaign: CL2CERQ, sending...',
      });
    });

    it('reads a newer `sms` slot, leaving a null reason out', () => {
      expect(eventOf(SMS_OUTBOUND_NEWER).data).toStrictEqual({
        messageId: '2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091',
        direction: 'outbound',
        smsType: 'smso',
        from: '+18382049000',
        to: '+18389999168',
        text: 'Your code is 4711',
        state: 'created',
        delivered: false,
        tn: '+18382049000',
        thread: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      });
    });

    it('maps smsi to inbound with a string tn', () => {
      expect(eventOf(SMS_INBOUND_OLDER).data).toMatchObject({
        direction: 'inbound',
        smsType: 'smsi',
        text: 'Hi back',
        tn: '+18382050008',
      });
    });

    it('takes the direction from the SMS when there is no known sub-type', () => {
      const data = eventOf(SMS_UPDATED_NEWER).data;
      expect(data).toMatchObject({ direction: 'outbound', delivered: true, state: 'success' });
      expect(data).not.toHaveProperty('smsType');
    });
  });

  describe('balance data', () => {
    it('maps a bare-number payload', () => {
      expect(eventOf(BALANCE_VOICE_CHARGE_OLDER).data).toStrictEqual({
        amount: 873.0604,
        sourceAction: 'voice_charge_in',
        message: 'New balance is 873.0604',
      });
      expect(eventOf(BALANCE_CALL_ASR_OLDER).data).toMatchObject({ sourceAction: 'call_asr' });
    });

    it('maps an object payload and the envelope account', () => {
      expect(eventOf(BALANCE_NEWER).data).toStrictEqual({
        amount: 814.65626,
        sourceAction: 'voice_charge_in',
        message: 'New balance is 814.65626',
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      });
      expect(eventOf({ type: 'balance', payload: { amount: 0 } }).data).toStrictEqual({
        amount: 0,
      });
    });
  });

  describe('tn_order, recording and transcript data', () => {
    it('maps tn_order from payload in both generations', () => {
      expect(eventOf(TN_ORDER_OLDER).data).toStrictEqual({
        orderId: '8192a3b4-c5d6-4e78-a9f0-1a2b3c4d5e6f',
        state: 'success',
        tns: ['+18382050011'],
        accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
      });
      expect(eventOf(TN_ORDER_NEWER).data).toStrictEqual({
        orderId: 'a3b4c5d6-e7f8-4091-9b1c-3d4e5f6a7b8c',
        state: 'processing',
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      });
    });

    it('accepts a tn_order slot beside a small payload', () => {
      const event = eventOf({
        type: 'tn_order',
        payload: { state: 'failed' },
        tn_order: { uuid: 'order-1', state: 'processing' },
      });
      expect(event.data).toStrictEqual({ orderId: 'order-1', state: 'failed' });
    });

    it('maps recordings from payload or the call_record slot', () => {
      expect(eventOf(CALL_RECORD_OLDER).data).toStrictEqual({
        callId: '6a1ffcf8-abaf-422a-9bfc-ec1349a2b81c',
        recordingId: 'b4c5d6e7-f809-4a1b-8c2d-4e5f6a7b8c9d',
        url: 'https://api.opentact.org/records/b4c5d6e7-f809-4a1b-8c2d-4e5f6a7b8c9d.wav',
        accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
      });
      expect(eventOf(CALL_RECORD_NEWER).data).toStrictEqual({
        callId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
        recordingId: 'd6e7f809-1a2b-4c3d-8e4f-6a7b8c9d0e1f',
        url: 'https://api.opentact.org/records/d6e7f809-1a2b-4c3d-8e4f-6a7b8c9d0e1f.mp3',
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      });
    });

    it('maps transcript text under its several names', () => {
      expect(eventOf(TRANSCRIPT_NEWER).data).toStrictEqual({
        callId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
        text: 'Hello, this is a test voicemail.',
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      });
      expect(eventOf(TRANSCRIPT_CALL_ASR_OLDER).data).toStrictEqual({
        callId: '6a1ffcf8-abaf-422a-9bfc-ec1349a2b81c',
        text: 'yes please',
      });
      expect(eventOf(TRANSCRIPT_READY_NEWER).data).toMatchObject({
        callId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
        text: 'Thanks for calling.',
      });
    });
  });

  describe('what the docs give beyond their examples', () => {
    it('writes telephone numbers in E.164 and leaves SIP ids and short codes as sent', () => {
      const call = CALL_INITIATED_NEWER.call as Record<string, unknown>;
      const parties = (from: unknown, to: unknown): Record<string, unknown> =>
        eventOf({ ...CALL_INITIATED_NEWER, call: { ...call, from, to } }).data as Record<
          string,
          unknown
        >;
      expect(parties('+18389999168', '18382049000')).toMatchObject({
        from: '+18389999168',
        to: '+18382049000',
      });
      expect(parties(18389999168, ' 18382049000 ')).toMatchObject({
        from: '+18389999168',
        to: '+18382049000',
      });
      expect(parties('soupra_cool_743', '12345')).toMatchObject({
        from: 'soupra_cool_743',
        to: '12345',
      });
      expect(parties('0418145145585', '+1234567890123456')).toMatchObject({
        from: '0418145145585',
        to: '+1234567890123456',
      });
    });

    it('spells tn like from and to, and keeps a 10-digit national number as received', () => {
      const call = CALL_INITIATED_NEWER.call as Record<string, unknown>;
      const data = (from: unknown, to: unknown, tn: unknown): Record<string, unknown> =>
        eventOf({ ...CALL_INITIATED_NEWER, call: { ...call, from, to, tn: { tn } } })
          .data as Record<string, unknown>;
      expect(data('+18389999168', '18382049000', 18382049000)).toMatchObject({
        from: '+18389999168',
        to: '+18382049000',
        tn: '+18382049000',
      });
      expect(data('4158531285', '9038479977', 4158531285)).toMatchObject({
        from: '4158531285',
        to: '9038479977',
        tn: '4158531285',
      });
    });

    it('gives every number of every documented frame one spelling: E.164, or as received', () => {
      for (const fixture of ALL_FRAMES) {
        const outcome = outcomeOf(fixture.frame);
        if (outcome.kind !== 'event') {
          continue;
        }
        const data = outcome.event.data as Record<string, unknown>;
        for (const key of ['from', 'to', 'tn']) {
          const value = data[key];
          if (typeof value === 'string' && /^\+?\d+$/.test(value)) {
            // The reference's numbers are 10-digit national ones or 11 digits with the 1 of NANP.
            expect([`${key} ${value}`, /^(\+1\d{10}|\d{10})$/.test(value)]).toEqual([
              `${key} ${value}`,
              true,
            ]);
          }
        }
      }
    });

    it('reads a newer envelope whose other entity slots are all null', () => {
      const event = eventOf(CALL_INITIATED_NULL_SLOTS_NEWER);
      expect(event.type).toBe(EventType.CallInitiated);
      expect(event.data).toMatchObject({
        callId: '4c3172a8-0b1e-4d5f-9a60-7b8c9d0e1f21',
        from: '+18389999168',
        to: '+18382049000',
        tn: '+18382049000',
        state: 'init',
      });
      for (const fixture of [SMS_RECEIPT_NEWER, CALL_ASR_NEWER, TN_ORDER_FAILED_NEWER]) {
        expect(outcomeOf(fixture).kind).toBe('event');
      }
    });

    it('keeps the reference_id of a sent SMS as referenceId', () => {
      expect(eventOf(SMS_OUTBOUND_REFERENCE_NEWER).data).toMatchObject({
        smsType: 'smso',
        direction: 'outbound',
        referenceId: 'order-4711-notice',
        from: '+18382049000',
        to: '+18389999168',
      });
      const small = { type: 'sms', payload: { type: 'smso', uuid: 's1', reference_id: 42 } };
      expect(eventOf(small).data).toMatchObject({ referenceId: '42' });
    });

    it('reads an smsr receipt as an update of an outbound message', () => {
      const event = eventOf(SMS_RECEIPT_NEWER);
      expect(event.type).toBe(EventType.SmsUpdated);
      expect(event.data).toMatchObject({
        smsType: 'smsr',
        direction: 'outbound',
        state: 'success',
        delivered: true,
        referenceId: 'order-4711-notice',
      });
      expect(eventOf(SMS_UPDATED_OLDER).data).toMatchObject({
        smsType: 'smsr',
        direction: 'outbound',
      });
    });

    it('keeps why a call-flow command failed: success, reason, error and its state', () => {
      const reason =
        '[originate] ERR NO_USER_RESPONSE. no any destinations are accept the call 1/1.';
      expect(eventOf(CALL_FLOW_DIAL_NEWER).data).toMatchObject({
        command: 'Dial',
        success: false,
        reason,
        commandState: 'failed',
      });
      expect(eventOf(CALL_FLOW_DIAL_FAILED_OLDER).data).toMatchObject({
        command: 'Dial',
        success: false,
        reason,
        error: 'NO_USER_RESPONSE; no any destinations are accept the call 1/1',
      });
      const flow = CALL_FLOW_DIAL_NEWER.call_flow as Record<string, unknown>;
      const withError = {
        ...CALL_FLOW_DIAL_NEWER,
        call_flow: { ...flow, state: undefined, element: { state: 'failed' }, error: 'timeout' },
      };
      expect(eventOf(withError).data).toMatchObject({ error: 'timeout', commandState: 'failed' });
      // An empty error list says nothing went wrong.
      expect(eventOf(CALL_ANSWERED_OLDER).data).not.toHaveProperty('error');
    });

    it('keeps the text of a call_asr frame, from its slot or its payload', () => {
      expect(eventOf(CALL_ASR_NEWER).data).toStrictEqual({
        callId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
        text: 'Please call me back after five.',
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      });
      expect(
        eventOf({ type: 'call_asr', payload: { call_uuid: 'c1', asr_text: 'yes' } }).data,
      ).toStrictEqual({ callId: 'c1', text: 'yes' });
      expect(
        eventOf({ type: 'call_asr', payload: { result: 'no' }, call_asr: { uuid: 'a1' } }).data,
      ).toStrictEqual({ text: 'no' });
      expect(quarantineOf({ type: 'call_asr', call_asr: 'text' }).detail).toMatch(/^call_asr: /);
    });

    it('keeps the numbers and errors of a tn order', () => {
      expect(eventOf(TN_ORDER_FAILED_NEWER).data).toStrictEqual({
        orderId: '74859607-b8c9-4dae-9fb0-213243546576',
        state: 'failed',
        tns: ['+18382049001', '+18382049002'],
        errors: ['+18382049002: number no longer available', 'carrier timeout'],
        accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      });
      const many = {
        type: 'tn_order',
        payload: {
          uuid: 'o1',
          tns: ['+15550001111', { tn: '15550002222' }, null, 'not a number'],
          errors: [...Array.from({ length: 300 }, () => 'x'.repeat(1_000)), { code: 7 }],
        },
      };
      const data = eventOf(many).data as { tns: string[]; errors: string[] };
      expect(data.tns).toEqual(['+15550001111', '15550002222']);
      expect(data.errors).toHaveLength(100);
      expect(data.errors.every((line) => line.length === 500)).toBe(true);
      const objectError = eventOf({
        type: 'tn_order',
        payload: { uuid: 'o2', errors: { code: 7 } },
      }).data as { errors: string[] };
      expect(objectError.errors).toEqual(['{"code":7}']);
    });
  });

  describe('ids', () => {
    it('gives the same older frame the same id twice', () => {
      const first = eventOf(CALL_LIVE_OLDER, new Date('2024-01-01T00:00:00Z'));
      const second = eventOf(CALL_LIVE_OLDER, new Date('2024-01-02T00:00:00Z'));
      expect(second.id).toBe(first.id);
    });

    it('changes the id when the state changes', () => {
      const payload = CALL_LIVE_OLDER.payload as Record<string, unknown>;
      const other = { ...CALL_LIVE_OLDER, payload: { ...payload, state: 'hangup' } };
      expect(eventOf(other).id).not.toBe(eventOf(CALL_LIVE_OLDER).id);
    });

    it('uses the envelope uuid when present', () => {
      expect(eventOf(CALL_LIVE_OLDER).id).toMatch(/^h_[0-9a-f]{32}$/);
      expect(eventOf({ ...CALL_LIVE_OLDER, uuid: 'event-uuid-1' }).id).toBe('event-uuid-1');
    });

    it.each([
      ['a leading space', ' event-uuid-1'],
      ['a trailing tab', 'event-uuid-1\t'],
      ['CR/LF', 'event-uuid-1\r\nX-Injected: 1'],
      ['a NUL', 'event\u0000uuid'],
      ['non-ASCII', 'évènement-事件'],
      ['an over-long uuid', 'x'.repeat(1000)],
    ])(
      'publishes a frame whose uuid has %s under a header-safe id, the same on every reception',
      (_, uuid) => {
        const first = eventOf({ ...BALANCE_NEWER, uuid }, new Date('2024-01-01T00:00:00Z'));
        const second = eventOf({ ...BALANCE_NEWER, uuid }, new Date('2024-01-02T00:00:00Z'));
        expect(first.id).toMatch(/^u_[0-9a-f]{32}$/);
        expect(second.id).toBe(first.id);
        expect(first.raw.uuid).toBe(uuid);
      },
    );

    it('still quarantines a uuid that is empty or not a string', () => {
      expect(quarantineOf({ ...BALANCE_NEWER, uuid: '' }).detail).toMatch(/^uuid: /);
      expect(quarantineOf({ ...BALANCE_NEWER, uuid: 7 }).detail).toMatch(/^uuid: /);
    });

    it('tells balance frames apart by amount, source and timestamp', () => {
      const base = eventOf(BALANCE_VOICE_CHARGE_OLDER).id;
      expect(eventOf({ ...BALANCE_VOICE_CHARGE_OLDER }).id).toBe(base);
      expect(eventOf({ ...BALANCE_VOICE_CHARGE_OLDER, payload: 873.06 }).id).not.toBe(base);
      expect(eventOf({ ...BALANCE_VOICE_CHARGE_OLDER, source_action: 'payment' }).id).not.toBe(
        base,
      );
      expect(
        eventOf({ ...BALANCE_VOICE_CHARGE_OLDER, timestamp: '2022-07-04T16:47:40.000Z' }).id,
      ).not.toBe(base);
    });

    it('reads timestamps as epoch milliseconds, whether sent as numbers or in any ISO spelling', () => {
      const payload = CALL_LIVE_OLDER.payload as Record<string, unknown>;
      const at = (modifiedOn: unknown): string =>
        eventOf({ type: 'call_state', payload: { ...payload, modified_on: modifiedOn } }).id;
      // Told apart only by a numeric modified_on: before, both hashed a missing value.
      expect(at(1_656_953_093_554)).not.toBe(at(1_656_953_093_555));
      // One instant, three spellings: one event.
      expect(at('2022-07-04T16:44:53.554Z')).toBe(at(1_656_953_093_554));
      expect(at('2022-07-04T16:44:53.554+00:00')).toBe(at(1_656_953_093_554));
      expect(at('2022-07-04T16:44:53.554000Z')).toBe(at(1_656_953_093_554));
      // Digits below the millisecond still tell events apart.
      expect(at('2022-07-04T16:44:53.554001Z')).not.toBe(at('2022-07-04T16:44:53.554002Z'));
      expect(at('not a time')).not.toBe(at('not a time either'));

      const balance = (timestamp: unknown, message: string): string =>
        eventOf({ type: 'balance', payload: 5, source_action: 'payment', timestamp, message }).id;
      expect(balance(1_656_953_093_554, 'a')).not.toBe(balance(1_656_953_093_555, 'a'));
      // A numeric timestamp anchors the event: the wording of the message does not change its id.
      expect(balance(1_656_953_093_554, 'a')).toBe(balance(1_656_953_093_554, 'b'));
      expect(balance('2022-07-04T16:44:53.554Z', 'a')).toBe(balance(1_656_953_093_554, 'a'));
    });

    it('tells call_flow commands on one call apart', () => {
      const play = eventOf(CALL_FLOW_PLAY_OLDER).id;
      const say = eventOf({ ...CALL_FLOW_PLAY_OLDER, command: 'Say' }).id;
      expect(say).not.toBe(play);
    });

    it('hashes the whole frame, regardless of key order, when nothing identifies it', () => {
      const frame = { type: 'balance', payload: 5, message: 'New balance is 5' };
      const reordered = { message: 'New balance is 5', payload: 5, type: 'balance' };
      expect(eventOf(reordered).id).toBe(eventOf(frame).id);
      expect(eventOf({ ...frame, message: 'other' }).id).not.toBe(eventOf(frame).id);

      const bridged = eventOf(PASSTHROUGH_CALL_BRIDGED_OLDER).id;
      const reversed = Object.fromEntries(Object.entries(PASSTHROUGH_CALL_BRIDGED_OLDER).reverse());
      expect(eventOf(reversed).id).toBe(bridged);
    });
  });

  describe('times', () => {
    it('normalises created_on / timestamp to ISO and falls back to receivedAt', () => {
      const base = { type: 'balance', payload: 1 };
      expect(eventOf({ ...base, created_on: '2024-02-19T17:24:46+01:00' }).occurredAt).toBe(
        '2024-02-19T16:24:46.000Z',
      );
      expect(eventOf({ ...base, timestamp: 'not a date' }).occurredAt).toBe(
        RECEIVED_AT.toISOString(),
      );
      expect(eventOf(base).occurredAt).toBe(RECEIVED_AT.toISOString());
    });
  });

  describe('control frames', () => {
    it('returns auth as a control frame, not an event', () => {
      expect(outcomeOf(AUTH_RESPONSE)).toEqual({
        kind: 'control',
        frameType: 'auth',
        frame: AUTH_RESPONSE,
      });
    });
  });

  describe('passthrough', () => {
    it('publishes unknown kinds under a sanitised name with the raw frame', () => {
      const frame = { type: 'Conference State/Changed!', payload: { uuid: 'c1' }, ref_id: 'r1' };
      const event = eventOf(frame);
      expect(event.type).toBe('opentact.conference_state_changed_');
      expect(isNormalizedEventType(event.type)).toBe(true);
      expect(event.raw).toEqual(frame);
      expect(event.data).toStrictEqual({
        opentactType: 'Conference State/Changed!',
        refId: 'r1',
      });
    });

    it('reads the account of an unknown kind from the envelope or its payload', () => {
      expect(eventOf(PASSTHROUGH_CALL_BRIDGED_OLDER).data).toStrictEqual({
        opentactType: 'call_bridged',
        message: 'Call bridged',
        accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
      });
    });
  });

  describe('quarantine', () => {
    it('rejects binary frames', () => {
      const outcome = normalizer.normalize(Buffer.from('{"type":"balance"}'), true, RECEIVED_AT);
      expect(outcome).toMatchObject({ kind: 'quarantine', reason: QuarantineReason.Binary });
    });

    it('rejects a frame one byte over the limit and accepts one at it', () => {
      const small = makeNormalizer(64);
      const frame = JSON.stringify({ type: 'balance', payload: 1, message: '' });
      const atLimit = frame.replace('""', `"${'x'.repeat(64 - frame.length)}"`);
      expect(Buffer.byteLength(atLimit)).toBe(64);
      expect(small.normalize(atLimit, false, RECEIVED_AT).kind).toBe('event');
      expect(small.normalize(Buffer.from(atLimit), false, RECEIVED_AT).kind).toBe('event');
      const overLimit = atLimit.replace('"x', '"xx');
      expect(small.normalize(overLimit, false, RECEIVED_AT)).toMatchObject({
        kind: 'quarantine',
        reason: QuarantineReason.TooLarge,
      });
      // Multi-byte characters count as bytes, not as string length.
      const multiByte = atLimit.replace('"x', '"é');
      expect(multiByte.length).toBe(atLimit.length);
      expect(small.normalize(multiByte, false, RECEIVED_AT)).toMatchObject({
        reason: QuarantineReason.TooLarge,
      });
    });

    it('rejects text that is not JSON', () => {
      expect(normalizer.normalize('{"type": "balance",', false, RECEIVED_AT)).toMatchObject({
        kind: 'quarantine',
        reason: QuarantineReason.NotJson,
      });
      expect(normalizer.normalize('', false, RECEIVED_AT)).toMatchObject({
        reason: QuarantineReason.NotJson,
      });
    });

    /** A balance frame whose message holds `bytes`: valid JSON around them, whatever they are. */
    function balanceWithMessageBytes(bytes: number[]): Buffer {
      return Buffer.concat([
        Buffer.from('{"type":"balance","payload":1,"message":"a'),
        Buffer.from(bytes),
        Buffer.from('b"}'),
      ]);
    }

    it.each([
      ['a truncated two-byte sequence (0xC3 0x28)', [0xc3, 0x28]],
      ['a lone 0xFF', [0xff]],
      ['a lone continuation byte', [0x80]],
      ['an overlong encoding of "/"', [0xc0, 0xaf]],
      ['an encoded surrogate', [0xed, 0xa0, 0x80]],
      ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ])('rejects text that is not UTF-8, %s inside a JSON string, as invalid_utf8', (_, bytes) => {
      const outcome = normalizer.normalize(balanceWithMessageBytes(bytes), false, RECEIVED_AT);
      expect(outcome).toMatchObject({
        kind: 'quarantine',
        reason: QuarantineReason.InvalidUtf8,
      });
      expect(outcome.kind === 'quarantine' && outcome.detail).toMatch(
        /^text frame is not valid UTF-8 \(first bad byte at offset 42\)$/,
      );
    });

    it('still reads valid multi-byte UTF-8, up to four bytes a character', () => {
      const text = 'é€😀';
      const outcome = normalizer.normalize(
        balanceWithMessageBytes([...Buffer.from(text)]),
        false,
        RECEIVED_AT,
      );
      expect(outcome.kind === 'event' && (outcome.event.data as { message?: string }).message).toBe(
        `a${text}b`,
      );
    });

    it.each([['[1,2]'], ['42'], ['null'], ['"call_state"'], ['true']])(
      'rejects JSON that is not an object: %s',
      (text) => {
        expect(normalizer.normalize(text, false, RECEIVED_AT)).toMatchObject({
          kind: 'quarantine',
          reason: QuarantineReason.NotObject,
        });
      },
    );

    it.each([[{}], [{ type: 5 }], [{ type: '' }], [{ type: '   ' }], [{ type: null }]])(
      'rejects a frame without a string type: %j',
      (frame) => {
        expect(quarantineOf(frame).reason).toBe(QuarantineReason.MissingType);
      },
    );

    it('rejects a balance whose payload is not a number, naming the field', () => {
      const { reason, detail } = quarantineOf({ ...BALANCE_VOICE_CHARGE_OLDER, payload: '873.06' });
      expect(reason).toBe(QuarantineReason.Invalid);
      expect(detail).toContain('payload: balance payload must be a number');
      expect(quarantineOf(withoutKey(BALANCE_VOICE_CHARGE_OLDER, 'payload')).detail).toContain(
        'payload: ',
      );
    });

    it('rejects a call_state with no call data', () => {
      for (const frame of [
        { type: 'call_state', message: 'x' },
        { type: 'call_state', payload: 5 },
        { type: 'call_state', payload: { duration: 3 } },
        { type: 'call_state', call: 'c1', payload: { state: 'live' } },
      ]) {
        const { reason, detail } = quarantineOf(frame);
        expect(reason).toBe(QuarantineReason.Invalid);
        expect(detail).toMatch(/^(payload|call): /);
      }
    });

    it('rejects ill-typed identifying fields per kind', () => {
      expect(quarantineOf({ ...CALL_INITIATED_NEWER, uuid: 42 }).detail).toMatch(/^uuid: /);
      const call = { ...(CALL_INITIATED_NEWER.call as Record<string, unknown>), uuid: '' };
      expect(quarantineOf({ ...CALL_INITIATED_NEWER, call }).detail).toMatch(/^call\.uuid: /);
      expect(quarantineOf({ type: 'sms' }).detail).toMatch(/^payload: sms needs/);
      expect(quarantineOf({ ...SMS_OUTBOUND_NEWER, sms: [] }).detail).toMatch(/^sms: /);
      expect(quarantineOf({ type: 'tn_order', payload: 'x' }).detail).toMatch(/^payload: /);
      expect(quarantineOf({ type: 'call_flow' }).detail).toMatch(/^payload: call_flow needs/);
      expect(quarantineOf({ type: 'call_record' }).reason).toBe(QuarantineReason.Invalid);
      expect(quarantineOf({ type: 'transcript', payload: 1 }).reason).toBe(
        QuarantineReason.Invalid,
      );
    });

    it('rejects frames nested deeper than the limit', () => {
      let nested: unknown = 1;
      for (let i = 0; i < MAX_FRAME_DEPTH; i++) {
        nested = [nested];
      }
      expect(quarantineOf({ type: 'x', deep: nested }).detail).toContain('nests deeper');
      const hostile = `{"type":"x","a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
      expect(
        makeNormalizer(10 * MAX_FRAME_BYTES).normalize(hostile, false, RECEIVED_AT),
      ).toMatchObject({ reason: QuarantineReason.Invalid });
    });
  });

  describe('quarantine details', () => {
    const detailOf = (data: unknown, isBinary = false, normalizer_ = normalizer): string => {
      const outcome = normalizer_.normalize(data as string, isBinary, RECEIVED_AT);
      if (outcome.kind !== 'quarantine') {
        throw new Error(`expected quarantine, got ${JSON.stringify(outcome)}`);
      }
      return outcome.detail;
    };

    it('says what was wrong with the bytes', () => {
      expect(detailOf('{"type":"balance"}', true)).toBe(
        'binary frames are not part of the protocol',
      );
      expect(detailOf('x'.repeat(65), false, makeNormalizer(64))).toBe(
        'frame is 65 bytes, over the 64 byte limit',
      );
      expect(detailOf(42)).toBe('frame data is a number, not text');
      expect(detailOf([Buffer.from('{}')])).toBe('frame data is an array, not text');
      expect(detailOf('{"type":x')).toMatch(/JSON/);
    });

    it.each([
      ['[1,2]', 'frame is an array, not an object'],
      ['42', 'frame is a number, not an object'],
      ['null', 'frame is null, not an object'],
      ['"call_state"', 'frame is a string, not an object'],
      ['{}', 'frame has no type'],
      ['{"type":5}', 'type is a number, not a non-empty string'],
      ['{"type":null}', 'type is null, not a non-empty string'],
      ['{"type":[]}', 'type is an array, not a non-empty string'],
      ['{"type":" "}', 'type is a string, not a non-empty string'],
    ])('names the shape of %s', (text, detail) => {
      expect(detailOf(text)).toBe(detail);
    });

    it('takes a frame nested exactly to the limit, and names the limit one level past it', () => {
      const nestedTo = (levels: number): unknown => {
        let nested: unknown = 1;
        for (let i = 0; i < levels; i++) {
          nested = [nested];
        }
        return nested;
      };
      // The frame object is the first level.
      expect(outcomeOf({ type: 'x', deep: nestedTo(MAX_FRAME_DEPTH - 1) }).kind).toBe('event');
      expect(quarantineOf({ type: 'x', deep: nestedTo(MAX_FRAME_DEPTH) }).detail).toBe(
        `frame nests deeper than ${MAX_FRAME_DEPTH} levels`,
      );
      expect(
        quarantineOf({ type: 'x', deep: { a: { b: nestedTo(MAX_FRAME_DEPTH - 2) } } }).detail,
      ).toBe(`frame nests deeper than ${MAX_FRAME_DEPTH} levels`);
    });

    it('quarantines a frame that throws while being read, with the error', () => {
      const outcome = normalizer.normalize(
        '{"type":"balance","payload":1}',
        false,
        new Date(Number.NaN),
      );
      expect(outcome).toEqual({
        kind: 'quarantine',
        reason: QuarantineReason.Invalid,
        detail: 'frame could not be normalised: Invalid time value',
      });
    });
  });

  describe('output hygiene', () => {
    it('never emits undefined keys, even for sparse frames', () => {
      const sparse = [
        { type: 'call_state', payload: { state: 'live' } },
        { type: 'call_flow', command: 'Answer' },
        { type: 'sms', payload: {} },
        { type: 'balance', payload: 1 },
        { type: 'tn_order', payload: {} },
        { type: 'call_record', payload: {} },
        { type: 'transcript', payload: {} },
        { type: 'mystery' },
      ];
      for (const frame of sparse) {
        expectJsonClean(eventOf(frame));
      }
    });
  });

  describe('fuzz', () => {
    // A small seeded PRNG keeps failures reproducible.
    function prng(seed: number): () => number {
      let state = seed >>> 0;
      return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
    const random = prng(0xc0ffee);
    const pickOne = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const TYPES = [
      'auth',
      'call_state',
      'call_flow',
      'sms',
      'balance',
      'tn_order',
      'call_record',
      'transcript',
      'call_asr',
      'Weird Type',
      '',
      '__proto__',
      'constructor',
    ];
    const KEYS = [
      'type',
      'uuid',
      'payload',
      'call',
      'call_flow',
      'sms',
      'tn_order',
      'call_record',
      'transcript',
      'call_transcript',
      'command',
      'timestamp',
      'created_on',
      'account',
      'state',
      'tn',
      '__proto__',
      'constructor',
      'toString',
    ];

    function randomValue(depth: number): unknown {
      const roll = random();
      if (depth > 3 || roll < 0.45) {
        return pickOne<unknown>([
          null,
          true,
          false,
          0,
          -1,
          1e308,
          random() * 1000,
          '',
          'live',
          'smso',
          'Answer',
          '2024-02-19T16:24:46.183Z',
          '\u0000',
          'x'.repeat(200),
        ]);
      }
      if (roll < 0.65) {
        return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
      }
      const record: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 6); i > 0; i--) {
        record[pickOne(KEYS)] = randomValue(depth + 1);
      }
      return record;
    }

    function mutate(frame: Record<string, unknown>): Record<string, unknown> {
      const copy = structuredClone(frame);
      for (let i = 1 + Math.floor(random() * 3); i > 0; i--) {
        copy[pickOne(KEYS)] = randomValue(1);
      }
      return copy;
    }

    function randomInput(): { data: Buffer | string; isBinary: boolean } {
      const roll = random();
      if (roll < 0.15) {
        const bytes = Buffer.alloc(Math.floor(random() * 64));
        for (let i = 0; i < bytes.length; i++) {
          bytes[i] = Math.floor(random() * 256);
        }
        return { data: bytes, isBinary: random() < 0.5 };
      }
      if (roll < 0.35) {
        return { data: JSON.stringify(randomValue(0)) ?? '', isBinary: false };
      }
      if (roll < 0.6) {
        const frame = randomValue(1);
        const withType = { ...(typeof frame === 'object' ? frame : {}), type: pickOne(TYPES) };
        return { data: JSON.stringify(withType), isBinary: false };
      }
      const text = JSON.stringify(mutate(pickOne(ALL_FRAMES).frame));
      // Occasionally truncate, to exercise the JSON parser's errors.
      return {
        data: random() < 0.1 ? text.slice(0, Math.floor(random() * text.length)) : text,
        isBinary: false,
      };
    }

    it('never throws, and every outcome is well formed', () => {
      const counts = { event: 0, control: 0, quarantine: 0 };
      for (let i = 0; i < 4000; i++) {
        const { data, isBinary } = randomInput();
        // A throw fails the test on the spot, with the seed-determined input that caused it.
        const outcome = normalizer.normalize(data, isBinary, RECEIVED_AT);
        counts[outcome.kind] += 1;
        if (outcome.kind === 'event') {
          expect(isNormalizedEventType(outcome.event.type)).toBe(true);
          expect(outcome.event.id.length).toBeGreaterThan(0);
          expectJsonClean(outcome.event.data);
        }
        if (outcome.kind === 'quarantine') {
          expect(Object.values(QuarantineReason)).toContain(outcome.reason);
          expect(outcome.detail.length).toBeGreaterThan(0);
        }
      }
      // The generator must reach every outcome, or the test proves little.
      expect(counts.event).toBeGreaterThan(100);
      expect(counts.quarantine).toBeGreaterThan(100);
      expect(counts.control).toBeGreaterThan(0);
    });

    it('survives inputs outside its signature', () => {
      const inputs: unknown[] = [undefined, null, 42, {}, [Buffer.from('{}')], new ArrayBuffer(4)];
      for (const data of inputs) {
        expect(normalizer.normalize(data as string, false, RECEIVED_AT)).toMatchObject({
          kind: 'quarantine',
        });
      }
      expect(() =>
        normalizer.normalize('{"type":"balance","payload":1}', false, new Date(Number.NaN)),
      ).not.toThrow();
    });
  });
});
