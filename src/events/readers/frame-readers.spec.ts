import {
  BALANCE_NEWER,
  CALL_ANSWERED_NEWER,
  CALL_ANSWERED_OLDER,
  CALL_FLOW_DIAL_NEWER,
  CALL_HANGUP_NEWER,
  CALL_LIVE_OLDER,
  CALL_RECORD_NEWER,
  CALL_RECORD_OLDER,
  SMS_OUTBOUND_NEWER,
  SMS_OUTBOUND_OLDER,
  TN_ORDER_OLDER,
  TRANSCRIPT_NEWER,
} from '../../../test/fixtures/opentact-frames';
import { EventType } from '../event-type.enum';
import type { Frame } from '../frame-fields';
import { readBalance } from './balance-frame.reader';
import { readCallFlow, readCallState } from './call-frame.reader';
import { readCallRecord } from './call-record-frame.reader';
import {
  callIdOf,
  entitySlots,
  errorLines,
  firstString,
  type FrameReading,
  type InvalidReading,
  isInvalid,
} from './frame-reading';
import { readPassthrough } from './passthrough-frame.reader';
import { readSms } from './sms-frame.reader';
import { readTnOrder } from './tn-order-frame.reader';
import { readTranscript } from './transcript-frame.reader';

/** The reading of a frame the reader must accept. */
function read(reader: (frame: Frame) => FrameReading | InvalidReading, frame: Frame): FrameReading {
  const result = reader(frame);
  if (isInvalid(result)) {
    throw new Error(`expected a reading, got ${result.problem}`);
  }
  return result;
}

const record = (value: unknown): Record<string, unknown> => value as Record<string, unknown>;
const OLDER_CALL = record(CALL_LIVE_OLDER.payload);
const NEWER_CALL = record(CALL_HANGUP_NEWER.call);

describe('frame readers', () => {
  describe('readCallState', () => {
    it('reads every call field, in both spellings of the control app', () => {
      const call = {
        uuid: 'call-1',
        direction: 'OUT',
        from: '18005550100',
        to: 'sip-user',
        state: 'Live',
        duration: 12,
        parent: { uuid: 'parent-1' },
        q850_cause: 16,
        q850_cause_string: 'NORMAL_CLEARING',
        sipcontrol_app: { uuid: 'sca-1' },
        account: { uuid: 'account-1' },
        tn: { tn: 18005550100 },
        thread: 'thread-1',
        init_on: '2024-01-01T00:00:01Z',
        ring_on: '2024-01-01T00:00:02Z',
        answer_on: '2024-01-01T00:00:03Z',
        hangup_on: '2024-01-01T00:00:04Z',
        destroy_on: '2024-01-01T00:00:05Z',
        modified_on: '2024-01-01T00:00:05Z',
      };
      const reading = read(readCallState, {
        type: 'call_state',
        payload: call,
        ref_id: 'ref-1',
        message: 'm',
      });
      expect(reading.type).toBe(EventType.CallLive);
      expect(reading.data).toStrictEqual({
        callId: 'call-1',
        direction: 'outbound',
        from: '+18005550100',
        to: 'sip-user',
        state: 'Live',
        duration: 12,
        parentCallId: 'parent-1',
        q850Cause: 16,
        q850CauseString: 'NORMAL_CLEARING',
        sipControlAppId: 'sca-1',
        accountId: 'account-1',
        tn: '+18005550100',
        thread: 'thread-1',
        refId: 'ref-1',
        message: 'm',
        initOn: '2024-01-01T00:00:01.000Z',
        ringOn: '2024-01-01T00:00:02.000Z',
        answerOn: '2024-01-01T00:00:03.000Z',
        hangupOn: '2024-01-01T00:00:04.000Z',
        destroyOn: '2024-01-01T00:00:05.000Z',
      });
      expect(reading.identity).toEqual(['call-1', 'Live', Date.parse(call.modified_on), 12]);
    });

    it.each([
      ['init', EventType.CallInitiated],
      ['RINGING', EventType.CallRinging],
      ['live', EventType.CallLive],
      ['Hangup', EventType.CallHangup],
      ['destroyed', EventType.CallDestroyed],
      ['parked', EventType.CallStateChanged],
    ])('maps the state %s to %s', (state, type) => {
      expect(
        read(readCallState, { ...CALL_LIVE_OLDER, payload: { ...OLDER_CALL, state } }).type,
      ).toBe(type);
    });

    it('reads a call without a state as a state change', () => {
      const reading = read(readCallState, { type: 'call_state', payload: { uuid: 'c-1' } });
      expect(reading.type).toBe(EventType.CallStateChanged);
      expect(reading.data).toStrictEqual({ callId: 'c-1' });
    });

    it('takes a newer call with neither uuid nor state when the payload beside it has the state', () => {
      const reading = read(readCallState, {
        type: 'call_state',
        call: { direction: 'in' },
        payload: { state: 'ringing' },
      });
      expect(reading.type).toBe(EventType.CallRinging);
      expect(reading.identity).toBeUndefined();
    });

    it('reads the older payload when the newer call slot is null', () => {
      const reading = read(readCallState, { ...CALL_LIVE_OLDER, call: null });
      expect(reading.type).toBe(EventType.CallLive);
      expect(reading.data).toMatchObject({ callId: OLDER_CALL.uuid, state: 'live' });
    });

    it('takes the duration from the newer payload, or from the call when the payload has none', () => {
      const call = { ...NEWER_CALL, duration: 7 };
      expect(read(readCallState, { ...CALL_HANGUP_NEWER, call }).data).toMatchObject({
        state: 'hangup',
        duration: 1,
      });
      const reading = read(readCallState, {
        ...CALL_HANGUP_NEWER,
        call,
        payload: { state: 'hangup' },
      });
      expect(reading.data).toMatchObject({ state: 'hangup', duration: 7 });
    });

    it('has no identity without a call uuid, so the whole frame is hashed', () => {
      expect(read(readCallState, { type: 'call_state', payload: { state: 'live' } }).identity).toBe(
        undefined,
      );
    });
  });

  describe('readCallFlow', () => {
    const call = { uuid: 'call-9', state: 'live' };
    it.each<[string, Frame, string]>([
      ['the envelope command', { type: 'call_flow', command: 'Play', payload: { call } }, 'Play'],
      [
        'the payload command record',
        { type: 'call_flow', payload: { call, command: { name: 'Say' } } },
        'Say',
      ],
      [
        'the payload command name',
        { type: 'call_flow', call, payload: { command: 'Hangup' } },
        'Hangup',
      ],
      ['the call_flow name', { type: 'call_flow', call, call_flow: { name: 'Dial' } }, 'Dial'],
      [
        'the call_flow command record',
        { type: 'call_flow', call, call_flow: { command: { name: 'Record' } } },
        'Record',
      ],
      [
        'the call_flow command text',
        { type: 'call_flow', call, call_flow: { command: 'Gather' } },
        'Gather',
      ],
      [
        'a payload that is the command record',
        { type: 'call_flow', call, payload: { name: 'Pause' } },
        'Pause',
      ],
      [
        'a payload that is the command name',
        { type: 'call_flow', call, payload: 'Reject' },
        'Reject',
      ],
    ])('reads the command from %s', (_where, frame, command) => {
      const reading = read(readCallFlow, frame);
      expect(reading.data).toMatchObject({ callId: 'call-9', command });
      expect(reading.type).toBe(EventType.CallFlow);
    });

    it('refuses a payload whose call is not an object, when nothing else names the call', () => {
      expect(readCallFlow({ type: 'call_flow', payload: { call: 'call-9' } })).toEqual({
        problem: 'payload.call: call must be an object',
      });
    });

    it('reads success, reason, error and state from the command record first', () => {
      const reading = read(readCallFlow, {
        type: 'call_flow',
        payload: {
          call,
          command: {
            name: 'Dial',
            success: false,
            reason: 'busy',
            error: 'E1',
            state: 'failed',
            path: 'Dial[0]',
          },
        },
      });
      expect(reading.data).toStrictEqual({
        callId: 'call-9',
        state: 'live',
        command: 'Dial',
        success: false,
        reason: 'busy',
        error: 'E1',
        commandState: 'failed',
      });
      expect(reading.identity).toEqual(['call-9', 'live', undefined, 'Dial', 'Dial[0]', undefined]);
    });

    it('reads success, reason and error from a payload that is the command record itself', () => {
      const reading = read(readCallFlow, {
        type: 'call_flow',
        call,
        payload: { name: 'Dial', success: true, reason: 'ok', error: ['late'], path: 'Dial[1]' },
      });
      expect(reading.data).toMatchObject({ success: true, reason: 'ok', error: 'late' });
      expect(reading.identity).toEqual(['call-9', 'live', undefined, 'Dial', 'Dial[1]', undefined]);
    });

    it('prefers the envelope success over the records, and the flow record over the payload', () => {
      const flow = { name: 'Dial', success: true, reason: 'flow reason', error: 'flow error' };
      const payload = { success: false, reason: 'payload reason', error: 'payload error' };
      expect(
        read(readCallFlow, { type: 'call_flow', call, call_flow: flow, payload }).data,
      ).toMatchObject({
        success: true,
        reason: 'flow reason',
        error: 'flow error',
      });
      expect(
        read(readCallFlow, { type: 'call_flow', call, call_flow: flow, payload, success: false })
          .data,
      ).toMatchObject({ success: false });
    });

    it('anchors a flow without a call uuid on its call_flow record', () => {
      const frame = { type: 'call_flow', call_flow: { uuid: 'flow-1', name: 'Play' } };
      expect(read(readCallFlow, frame).identity).toEqual([
        'flow-1',
        undefined,
        undefined,
        'Play',
        undefined,
        'flow-1',
      ]);
      expect(read(readCallFlow, { type: 'call_flow', command: 'Play' }).identity).toBeUndefined();
    });

    it('reads the newer Answer fixture as call.answered, keeping the flow uuid in its identity', () => {
      const reading = read(readCallFlow, CALL_ANSWERED_NEWER);
      expect(reading.type).toBe(EventType.CallAnswered);
      expect(reading.data).toMatchObject({ commandState: 'success' });
      expect(reading.identity?.[5]).toBe(record(CALL_ANSWERED_NEWER.call_flow).uuid);
      expect(read(readCallFlow, CALL_ANSWERED_OLDER).identity?.[4]).toBe('Answer[0]');
      expect(read(readCallFlow, CALL_FLOW_DIAL_NEWER).data).toMatchObject({ command: 'Dial' });
    });
  });

  describe('readSms', () => {
    const NEWER_SMS = record(SMS_OUTBOUND_NEWER.sms);

    it('takes the sub-type, reference, direction and reason from the small payload when the slot lacks them', () => {
      const sms = { ...NEWER_SMS, type: undefined, reason: undefined, direction: undefined };
      const reading = read(readSms, {
        ...SMS_OUTBOUND_NEWER,
        sms,
        payload: { type: 'SMSI', state: 'received', reference_id: 'ref-7', reason: 'why' },
      });
      expect(reading.type).toBe(EventType.SmsInbound);
      expect(reading.data).toMatchObject({
        smsType: 'SMSI',
        direction: 'inbound',
        state: 'received',
        referenceId: 'ref-7',
        reason: 'why',
        delivered: false,
      });
      const undirected = read(readSms, {
        type: 'sms',
        sms: { uuid: 's-1' },
        payload: { direction: 'in', delivered: true },
      });
      expect(undirected.type).toBe(EventType.SmsUpdated);
      expect(undirected.data).toStrictEqual({
        messageId: 's-1',
        direction: 'inbound',
        delivered: true,
      });
    });

    it('reads the text from `text` when there is no `message`, and the account from the envelope', () => {
      const payload = {
        ...record(SMS_OUTBOUND_OLDER.payload),
        message: undefined,
        text: 'hi',
        account: undefined,
      };
      const reading = read(readSms, { ...SMS_OUTBOUND_OLDER, payload, account: { uuid: 'acc-2' } });
      expect(reading.data).toMatchObject({ text: 'hi', accountId: 'acc-2' });
    });

    it('identifies one message state by uuid, sub-type, state, delivery and modification time', () => {
      const payload = record(SMS_OUTBOUND_OLDER.payload);
      expect(read(readSms, SMS_OUTBOUND_OLDER).identity).toEqual([
        payload.uuid,
        'smso',
        'success',
        true,
        Date.parse(payload.modified_on as string),
      ]);
      expect(read(readSms, { type: 'sms', payload: { type: 'smso' } }).identity).toBeUndefined();
    });
  });

  describe('readTnOrder', () => {
    it('reads numbers and errors from the small payload beside the slot', () => {
      const reading = read(readTnOrder, {
        type: 'tn_order',
        tn_order: { uuid: 'order-3', modified_on: 5 },
        payload: { state: 'failed', tns: [15550001111], errors: ['gone'] },
      });
      expect(reading.data).toStrictEqual({
        orderId: 'order-3',
        state: 'failed',
        tns: ['15550001111'],
        errors: ['gone'],
      });
      expect(reading.identity).toEqual(['order-3', 'failed', 5]);
    });

    it('keeps at most 1000 numbers, and none when the list holds no number', () => {
      const tns = Array.from({ length: 1001 }, (_, i) => 15550000000 + i);
      const data = read(readTnOrder, { type: 'tn_order', payload: { uuid: 'o', tns } }).data as {
        tns: string[];
      };
      expect(data.tns).toHaveLength(1000);
      expect(data.tns[999]).toBe('15550000999');
      for (const none of [[], ['x', null], 'not a list']) {
        expect(
          read(readTnOrder, { type: 'tn_order', payload: { uuid: 'o', tns: none } }).data,
        ).toStrictEqual({
          orderId: 'o',
        });
      }
    });

    it('has no identity without an order uuid, and takes the envelope account', () => {
      const reading = read(readTnOrder, {
        type: 'tn_order',
        payload: { state: 'x' },
        account: { uuid: 'a' },
      });
      expect(reading.identity).toBeUndefined();
      expect(reading.data).toStrictEqual({ state: 'x', accountId: 'a' });
      expect(read(readTnOrder, TN_ORDER_OLDER).type).toBe(EventType.TnOrderChanged);
    });
  });

  describe('readCallRecord', () => {
    it('reads the link from the small payload when the slot has none', () => {
      const reading = read(readCallRecord, {
        type: 'call_record',
        call_record: { uuid: 'rec-1' },
        payload: { link: 'https://example.test/r.wav' },
        call: { uuid: 'call-1' },
        account: { uuid: 'acc-1' },
      });
      expect(reading.data).toStrictEqual({
        callId: 'call-1',
        recordingId: 'rec-1',
        url: 'https://example.test/r.wav',
        accountId: 'acc-1',
      });
      expect(reading.identity).toEqual([
        'rec-1',
        'call-1',
        'https://example.test/r.wav',
        undefined,
      ]);
    });

    it('checks the slot when there is one, and the payload otherwise', () => {
      expect(
        readCallRecord({ type: 'call_record', call_record: { uuid: 42 }, payload: { uuid: 'r' } }),
      ).toEqual({
        problem:
          'call_record.uuid: recording uuid must be a non-empty string of at most 128 characters',
      });
      expect(readCallRecord({ type: 'call_record', payload: { uuid: '' } })).toEqual({
        problem:
          'payload.uuid: recording uuid must be a non-empty string of at most 128 characters',
      });
      expect(
        read(readCallRecord, { type: 'call_record', call_record: { uuid: 'r' }, payload: 'x' })
          .data,
      ).toStrictEqual({ recordingId: 'r' });
    });

    it('anchors on the call when the recording has no uuid, and on nothing without either', () => {
      const onCall = read(readCallRecord, {
        type: 'call_record',
        payload: { call_id: 'call-2', uri: 'u' },
      });
      expect(onCall.data).toStrictEqual({ callId: 'call-2', url: 'u' });
      expect(onCall.identity).toEqual([undefined, 'call-2', 'u', undefined]);
      expect(
        read(readCallRecord, { type: 'call_record', payload: { url: 'u' } }).identity,
      ).toBeUndefined();
      expect(read(readCallRecord, CALL_RECORD_OLDER).identity?.[0]).toBe(
        record(CALL_RECORD_OLDER.payload).uuid,
      );
      expect(read(readCallRecord, CALL_RECORD_NEWER).data).toMatchObject({
        url: record(CALL_RECORD_NEWER.call_record).record_url,
      });
    });
  });

  describe('readTranscript', () => {
    it('takes the first non-null slot, and the text from the payload when the slot has none', () => {
      const reading = read(readTranscript, {
        type: 'call_transcript',
        transcript: null,
        call_transcript: { uuid: 't-1', call: { uuid: 'call-3' } },
        payload: { transcription: 'hello' },
      });
      expect(reading.data).toStrictEqual({ callId: 'call-3', text: 'hello' });
      expect(reading.identity).toEqual(['t-1', 'call-3', 'hello', undefined]);
    });

    it('is anchored by its own uuid alone, and by nothing without it or a call', () => {
      expect(
        read(readTranscript, { type: 'transcript', payload: { uuid: 't-2', speech: 's' } })
          .identity,
      ).toEqual(['t-2', undefined, 's', undefined]);
      expect(
        read(readTranscript, { type: 'transcript', payload: { text: 's' } }).identity,
      ).toBeUndefined();
      expect(read(readTranscript, TRANSCRIPT_NEWER).data).toMatchObject({
        text: 'Hello, this is a test voicemail.',
      });
    });
  });

  describe('readBalance', () => {
    it('reads the source and account from an object payload', () => {
      const reading = read(readBalance, {
        type: 'balance',
        payload: { amount: 3, source_action: 'payment', account: { uuid: 'acc-4' } },
        created_on: '2024-01-01T00:00:00Z',
      });
      expect(reading.data).toStrictEqual({
        amount: 3,
        sourceAction: 'payment',
        accountId: 'acc-4',
      });
      // Timed by created_on alone.
      expect(reading.identity).toEqual([3, 'payment', 'acc-4']);
      expect(read(readBalance, BALANCE_NEWER).identity).toEqual([
        814.65626,
        'voice_charge_in',
        record(BALANCE_NEWER.account).uuid,
      ]);
    });

    it('names the payload when the amount is not a number', () => {
      expect(readBalance({ type: 'balance', payload: { balance: 'x' } })).toEqual({
        problem: 'payload: balance payload must be a number',
      });
    });
  });

  describe('readPassthrough', () => {
    it('reads the account from the payload when the envelope has none', () => {
      expect(
        readPassthrough({ type: 'Ticket', payload: { account: { uuid: 'acc-5' } } }, 'ticket'),
      ).toEqual({
        type: 'opentact.ticket',
        data: { opentactType: 'Ticket', accountId: 'acc-5' },
        identity: undefined,
      });
    });
  });

  describe('shared reading', () => {
    it('takes the first slot present and the payload beside it, or the payload as the entity', () => {
      expect(entitySlots({ a: null, b: { x: 1 }, payload: { s: 1 } }, 'a', 'b')).toEqual({
        slot: { x: 1 },
        entity: { x: 1 },
        side: { s: 1 },
      });
      expect(entitySlots({ a: 'text', payload: 5 }, 'a')).toEqual({
        slot: 'text',
        entity: {},
        side: undefined,
      });
      expect(entitySlots({ payload: { x: 2 } }, 'a')).toEqual({
        slot: undefined,
        entity: { x: 2 },
        side: undefined,
      });
      expect(entitySlots({ payload: 'x' }, 'a').entity).toEqual({});
    });

    it('takes the first non-empty string', () => {
      expect(firstString({ a: '', b: 5, c: 'yes', d: 'no' }, ['a', 'b', 'c', 'd'])).toBe('yes');
      expect(firstString({ a: '' }, ['a'])).toBeUndefined();
    });

    it('finds the call of a frame in a call slot, on the entity, or by a bare id', () => {
      expect(callIdOf({ call: { uuid: 'a' } }, { call: { uuid: 'b' } })).toBe('a');
      expect(callIdOf({}, { call: { uuid: 'b' }, call_uuid: 'c' })).toBe('b');
      expect(callIdOf({}, { call_uuid: 'c', call_id: 'd' })).toBe('c');
      expect(callIdOf({}, { call_id: 'd' })).toBe('d');
      expect(callIdOf({}, {})).toBeUndefined();
    });

    it('makes one line per error entry, whatever its shape', () => {
      expect(
        errorLines([
          'plain',
          '   ',
          42,
          null,
          { reason: 'busy', tn: 15550001111 },
          { number: '+15550002222', message: 'taken' },
          { error: { detail: 'nested' } },
          { error: 'flat', description: 'described' },
          { code: 7 },
        ]),
      ).toEqual([
        'plain',
        '15550001111: busy',
        '+15550002222: taken',
        'nested',
        'flat',
        '{"code":7}',
      ]);
      expect(errorLines('one')).toEqual(['one']);
      expect(errorLines([])).toBeUndefined();
      expect(errorLines(undefined)).toBeUndefined();
      expect(errorLines(['', ' '])).toBeUndefined();
    });

    it('keeps at most 100 lines of at most 500 characters', () => {
      const lines = errorLines(Array.from({ length: 150 }, (_, i) => `${i}:${'x'.repeat(600)}`))!;
      expect(lines).toHaveLength(100);
      expect(lines[99]).toBe(`99:${'x'.repeat(497)}`);
      expect(errorLines(['', ...Array.from({ length: 100 }, () => 'y'), 'z'])).toHaveLength(100);
    });
  });
});
