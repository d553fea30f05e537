import { createHash } from 'node:crypto';
import { canonicalJson, derivedEventId, eventIdOfUuid, identityTime } from './event-id';
import { MAX_ID_LENGTH } from './frame-fields';

const MS = Date.parse('2026-11-30T05:48:49.558Z');

describe('identityTime', () => {
  it('reads every spelling of one instant as the same epoch milliseconds', () => {
    expect(identityTime('2026-11-30T05:48:49.558Z')).toBe(MS);
    expect(identityTime('2026-11-30T05:48:49.558+00:00')).toBe(MS);
    expect(identityTime('2026-11-30T05:48:49.558000Z')).toBe(MS);
    expect(identityTime(MS)).toBe(MS);
  });

  it('keeps the digits below the millisecond, without trailing zeros', () => {
    expect(identityTime('2026-11-30T05:48:49.558123Z')).toBe(`${MS}.123`);
    expect(identityTime('2026-11-30T05:48:49.558120+00:00')).toBe(`${MS}.12`);
    expect(identityTime('2026-11-30T05:48:49.5581Z')).toBe(`${MS}.1`);
    // Only the zeros at the end go.
    expect(identityTime('2026-11-30T05:48:49.55810200Z')).toBe(`${MS}.102`);
  });

  it('keeps a string that is no date as it is, and drops what is neither', () => {
    expect(identityTime('yesterday')).toBe('yesterday');
    expect(identityTime(Number.NaN)).toBeUndefined();
    expect(identityTime(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(identityTime(null)).toBeUndefined();
    expect(identityTime({ at: MS })).toBeUndefined();
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level, keeps array order, and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ 'a"b': 'x' })).toBe('{"a\\"b":"x"}');
  });

  it('writes scalars as JSON, and null for what JSON has no form of', () => {
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson([undefined])).toBe('[null]');
  });
});

describe('derivedEventId', () => {
  const frame = { timestamp: '2026-11-30T05:48:49.600Z', created_on: 1_700_000_000_000 };

  it('is h_ and the first 32 hex characters of sha256 over the documented array', () => {
    const canonical = JSON.stringify([
      'call_state',
      'call-1',
      'ringing',
      null,
      Date.parse(frame.timestamp),
      frame.created_on,
    ]);
    const hex = createHash('sha256').update(canonical).digest('hex');
    expect(derivedEventId('call_state', frame, ['call-1', 'ringing', undefined])).toBe(
      `h_${hex.slice(0, 32)}`,
    );
  });

  it('tells apart events that differ only by the envelope timestamp, created_on or kind', () => {
    const id = derivedEventId('call_state', frame, ['call-1']);
    expect(derivedEventId('call_state', { ...frame, timestamp: MS }, ['call-1'])).not.toBe(id);
    expect(derivedEventId('call_state', { ...frame, created_on: MS }, ['call-1'])).not.toBe(id);
    expect(derivedEventId('call_flow', frame, ['call-1'])).not.toBe(id);
    expect(derivedEventId('call_state', frame, ['call-1'])).toBe(id);
  });

  it('writes missing timestamps as null', () => {
    const canonical = JSON.stringify(['balance', 'x', null, null]);
    const hex = createHash('sha256').update(canonical).digest('hex');
    expect(derivedEventId('balance', {}, ['x'])).toBe(`h_${hex.slice(0, 32)}`);
  });

  it('hashes the whole frame, in any key order, when nothing anchors the event', () => {
    const a = derivedEventId('balance', { b: 1, a: 2 }, undefined);
    expect(a).toBe(derivedEventId('balance', { a: 2, b: 1 }, undefined));
    const hex = createHash('sha256').update('{"a":2,"b":1}').digest('hex');
    expect(a).toBe(`h_${hex.slice(0, 32)}`);
  });
});

describe('eventIdOfUuid', () => {
  const UUID = '6f708192-a3b4-4c56-97e8-f90a1b2c3d4e';
  const hashed = (uuid: string): string =>
    `u_${createHash('sha256').update(JSON.stringify(uuid)).digest('hex').slice(0, 32)}`;

  it('keeps a uuid that a header and the signed content carry as they are', () => {
    expect(eventIdOfUuid(UUID)).toBe(UUID);
    expect(eventIdOfUuid('event-uuid-1')).toBe('event-uuid-1');
    // Every visible ASCII character is kept, up to the length limit.
    const visible = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i));
    expect(eventIdOfUuid(visible.join(''))).toBe(visible.join(''));
    expect(eventIdOfUuid('x'.repeat(MAX_ID_LENGTH))).toBe('x'.repeat(MAX_ID_LENGTH));
  });

  it.each([
    ['a leading space', ` ${UUID}`],
    ['a trailing tab', `${UUID}\t`],
    ['a space inside', '6f708192 a3b4'],
    ['CR/LF', '6f708192\r\nX-Injected: 1'],
    ['a lone LF', '6f708192\na3b4'],
    ['a NUL', '6f708192\u0000a3b4'],
    ['DEL', '6f708192\u007f'],
    ['Latin-1 letters', 'évènement'],
    ['characters past Latin-1', '事件-6f708192'],
    ['a lone surrogate', '6f708192\ud800'],
    ['an over-long id', 'x'.repeat(MAX_ID_LENGTH + 1)],
    ['the hashed prefix', 'u_0123456789abcdef0123456789abcdef'],
    ['the derived prefix', 'h_0123456789abcdef0123456789abcdef'],
  ])('turns a uuid with %s into u_ and a hash of it, the same every time', (_, uuid) => {
    const id = eventIdOfUuid(uuid);
    expect(id).toBe(hashed(uuid));
    expect(id).toMatch(/^u_[0-9a-f]{32}$/);
    expect(eventIdOfUuid(uuid)).toBe(id);
  });

  it('keeps uuids apart that differ only in what the header would lose', () => {
    const ids = [UUID, ` ${UUID}`, `${UUID} `, `${UUID}\t`, `${UUID}\r\n`, '\ud800', '\udc00'];
    expect(new Set(ids.map(eventIdOfUuid)).size).toBe(ids.length);
  });
});
