import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { EVENT_BODY_DICTIONARY_V1 } from './event-body.dictionary';
import {
  BODY_FIELD_PLAIN,
  BODY_FIELD_V1,
  decodeBody,
  DICTIONARY_V1_SHA256,
  encodeBody,
  EventBodyDecodeError,
} from './event-body.codec';

const DICTIONARY = Buffer.from(EVENT_BODY_DICTIONARY_V1, 'utf8');

const CALL_BODY = JSON.stringify({
  id: '128dff9e-5f28-4a3c-9221-ee2593f71289',
  type: 'call.ringing',
  occurredAt: '2026-11-30T05:48:49.558Z',
  receivedAt: '2026-11-30T05:48:49.560Z',
  data: {
    callId: '110f771f-fc85-492c-8ff8-7b947c0dd865',
    direction: 'inbound',
    from: '+18389999168',
    to: '18382049000',
    state: 'ringing',
  },
  raw: {
    uuid: '128dff9e-5f28-4a3c-9221-ee2593f71289',
    created_on: '2026-11-30T05:48:49.558Z',
    type: 'call_state',
    payload: { state: 'ringing', duration: 1 },
    call: { uuid: '110f771f-fc85-492c-8ff8-7b947c0dd865', direction: 'in', state: 'ringing' },
  },
});

describe('event body codec', () => {
  it('is frozen: format 1 reads only with exactly the dictionary it was written with', () => {
    // Changing the dictionary would make every stored entry unreadable: add a format instead.
    expect(DICTIONARY_V1_SHA256).toBe(
      '17517a32827739cbd0fefa42f0d7002634e8d13a34df5db51d6f60d4418fbbed',
    );
  });

  it('round-trips any text, byte for byte, including non-ASCII and empty bodies', () => {
    const samples = [
      CALL_BODY,
      '',
      '{"text":"héllo – 你好 – \u{1F600}"}',
      randomBytes(3000).toString('base64'),
    ];
    for (const body of samples) {
      expect(decodeBody(BODY_FIELD_V1, encodeBody(body))).toBe(body);
    }
  });

  it('stores an Opentact-shaped body in well under half its size', () => {
    expect(encodeBody(CALL_BODY).length).toBeLessThan(CALL_BODY.length / 2);
  });

  it('reads plain bodies, ignores unknown fields, and names a corrupt body instead of guessing', () => {
    expect(decodeBody(BODY_FIELD_PLAIN, Buffer.from(CALL_BODY))).toBe(CALL_BODY);
    expect(decodeBody('zz', encodeBody(CALL_BODY))).toBeUndefined();
    const corrupt = Buffer.from([0xff, 0xff, 0xff, 0x00, 0x13]);
    expect(() => decodeBody(BODY_FIELD_V1, corrupt)).toThrow(EventBodyDecodeError);
  });

  it('says which field failed and why, under a stable code, keeping the inflate error as cause', () => {
    let thrown: unknown;
    try {
      decodeBody(BODY_FIELD_V1, Buffer.from([0xff, 0xff, 0xff, 0x00, 0x13]));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EventBodyDecodeError);
    const error = thrown as EventBodyDecodeError;
    expect(error.message).toBe('event body in field z1 cannot be decoded');
    expect(error.name).toBe('EventBodyDecodeError');
    expect(error.code).toBe('EVENT_BODY_UNREADABLE');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('Z_DATA_ERROR');
  });

  it('deflates at level 1, the speed the event log was measured with', () => {
    // The stored bytes are what zlib gives at level 1 with the dictionary; level 6 differs.
    const level1 = deflateRawSync(CALL_BODY, { level: 1, dictionary: DICTIONARY });
    const level6 = deflateRawSync(CALL_BODY, { level: 6, dictionary: DICTIONARY });
    expect(level1.equals(level6)).toBe(false);
    expect(encodeBody(CALL_BODY).equals(level1)).toBe(true);
  });
});
