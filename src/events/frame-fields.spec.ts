import {
  asRecord,
  compact,
  isRecord,
  MAX_ID_LENGTH,
  readBoolean,
  readDirection,
  readId,
  readIsoTime,
  readNumber,
  readPhone,
  readString,
  readText,
  readTn,
  uuidOf,
} from './frame-fields';

describe('frame fields', () => {
  it('tells records from arrays, null and scalars', () => {
    const record = { a: 1 };
    expect(isRecord(record)).toBe(true);
    expect(isRecord([])).toBe(false);
    expect(isRecord(null)).toBe(false);
    expect(isRecord('x')).toBe(false);
    expect(asRecord(record)).toBe(record);
    expect(asRecord([1])).toBeUndefined();
  });

  it('reads strings, and text from finite numbers', () => {
    expect(readString('a')).toBe('a');
    expect(readString(1)).toBeUndefined();
    expect(readText('sip:alice')).toBe('sip:alice');
    expect(readText(18382049000)).toBe('18382049000');
    expect(readText(Number.NaN)).toBeUndefined();
    expect(readText(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(readText(true)).toBeUndefined();
  });

  it.each([
    // A leading + is an international number.
    ['+18389999168', '+18389999168'],
    ['+14158531285', '+14158531285'],
    ['+33612345678', '+33612345678'],
    // 11 digits starting with 1 that form a valid NANP number carry the country code.
    ['18389999168', '+18389999168'],
    ['18382050008', '+18382050008'],
    [' 18389999168 ', '+18389999168'],
    [18389999168, '+18389999168'],
    // 10 digits are a NANP national number: no country code, not +41 58...
    ['4158531285', '4158531285'],
    ['9038479977', '9038479977'],
    [9038479977, '9038479977'],
    // More than 10 digits without + that form a valid number elsewhere.
    ['33612345678', '+33612345678'],
    // Digits that form no valid number stay as received, + or not.
    ['+4158531285', '+4158531285'],
    ['15550001111', '15550001111'],
    ['+15550001111', '+15550001111'],
    ['1234567890123456', '1234567890123456'],
    ['+1234567890123456', '+1234567890123456'],
    ['0418145145585', '0418145145585'],
    ['+0123456789', '+0123456789'],
    ['12345', '12345'], // a short code
    ['1234567', '1234567'],
    // Anything but digits (a SIP user id, a URI, text around the digits) is left as sent.
    [
      'soupra_cool_743_gmail_com_97176442681235292623',
      'soupra_cool_743_gmail_com_97176442681235292623',
    ],
    ['sip:alice@example.net', 'sip:alice@example.net'],
    ['x18389999168', 'x18389999168'],
    ['18389999168x', '18389999168x'],
    ['+1 838 999 9168', '+1 838 999 9168'],
  ])('reads the party %p as %p', (value, expected) => {
    expect(readPhone(value)).toBe(expected);
  });

  it('reads no party from what is not text', () => {
    expect(readPhone({ number: '18389999168' })).toBeUndefined();
    expect(readPhone(Number.NaN)).toBeUndefined();
  });

  it('takes ids of 1 to MAX_ID_LENGTH characters, and only strings', () => {
    expect(readId('a')).toBe('a');
    expect(readId('a'.repeat(MAX_ID_LENGTH))).toBe('a'.repeat(MAX_ID_LENGTH));
    expect(readId('a'.repeat(MAX_ID_LENGTH + 1))).toBeUndefined();
    expect(readId('')).toBeUndefined();
    expect(readId(5)).toBeUndefined();
    expect(uuidOf({ uuid: 'u-1' })).toBe('u-1');
    expect(uuidOf({ uuid: '' })).toBeUndefined();
    expect(uuidOf('u-1')).toBeUndefined();
    expect(uuidOf(null)).toBeUndefined();
  });

  it('reads finite numbers and booleans only', () => {
    expect(readNumber(0)).toBe(0);
    expect(readNumber(-2.5)).toBe(-2.5);
    expect(readNumber(Number.NaN)).toBeUndefined();
    expect(readNumber(Number.NEGATIVE_INFINITY)).toBeUndefined();
    expect(readNumber('1')).toBeUndefined();
    expect(readBoolean(false)).toBe(false);
    expect(readBoolean(true)).toBe(true);
    expect(readBoolean('true')).toBeUndefined();
  });

  it('reads times as ISO-8601 from strings in any offset and from epoch milliseconds', () => {
    expect(readIsoTime('2026-11-30T05:48:49.558Z')).toBe('2026-11-30T05:48:49.558Z');
    expect(readIsoTime('2026-11-30T07:48:49.558+02:00')).toBe('2026-11-30T05:48:49.558Z');
    expect(readIsoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(readIsoTime(8.64e15)).toBe('+275760-09-13T00:00:00.000Z');
    expect(readIsoTime(-8.64e15)).toBe('-271821-04-20T00:00:00.000Z');
  });

  it('leaves out times that cannot be formatted, instead of throwing', () => {
    expect(readIsoTime(8.64e15 + 1)).toBeUndefined();
    expect(readIsoTime(-8.64e15 - 1)).toBeUndefined();
    expect(readIsoTime('not a time')).toBeUndefined();
    expect(readIsoTime(Number.NaN)).toBeUndefined();
    expect(readIsoTime(true)).toBeUndefined();
    expect(readIsoTime({ at: 0 })).toBeUndefined();
  });

  it.each([
    // The same rule as for parties, so one event spells a number one way.
    [18382049000, '+18382049000'],
    [{ tn: 18382049000 }, '+18382049000'],
    ['18382049000', '+18382049000'],
    ['+18382049000', '+18382049000'],
    [4158531285, '4158531285'],
    [' 4158531285 ', '4158531285'],
    [0, '0'],
    [' 123 ', '123'],
    [{ tn: '+1' }, '+1'],
    ['1'.repeat(20), '1'.repeat(20)],
  ])('reads the number %p as %p', (value, expected) => {
    expect(readTn(value)).toBe(expected);
  });

  it.each([[-1], [1.5], [2 ** 53], ['1'.repeat(21)], ['12a'], ['a12'], [''], [true], [{ tn: {} }]])(
    'reads no number from %p',
    (value) => {
      expect(readTn(value)).toBeUndefined();
    },
  );

  it('reads both spellings of a direction, in any case and padding', () => {
    expect(readDirection('in')).toBe('inbound');
    expect(readDirection(' INBOUND ')).toBe('inbound');
    expect(readDirection('Out')).toBe('outbound');
    expect(readDirection('outbound')).toBe('outbound');
    expect(readDirection('sideways')).toBeUndefined();
    expect(readDirection(1)).toBeUndefined();
  });

  it('removes keys whose value is undefined, and only those, in place', () => {
    const value = { a: undefined, b: null, c: 0, d: false, e: '' };
    const result = compact(value);
    expect(result).toBe(value);
    expect(Object.keys(result)).toEqual(['b', 'c', 'd', 'e']);
  });
});
