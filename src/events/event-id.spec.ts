import { createHash } from 'node:crypto';
import { canonicalJson, derivedEventId, identityTime } from './event-id';

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
