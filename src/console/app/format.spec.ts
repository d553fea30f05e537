import {
  ago,
  describeRaw,
  formatTime,
  hexDump,
  localInputToIso,
  parseCount,
  splitList,
  summarizeData,
} from './format';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const base64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

describe('console formatting', () => {
  it('shows a time in the given zone, with the zone named', () => {
    const iso = '2026-11-30T08:05:09.000Z';
    const tokyo = formatTime(iso, 'Asia/Tokyo');
    const utc = formatTime(iso, 'UTC');
    // 17:05:09 or 5:05:09 PM, as the locale writes it.
    expect(tokyo).toMatch(/\b(17|0?5):05:09\b/);
    expect(utc).toMatch(/\b0?8:05:09\b/);
    expect(tokyo).not.toBe(utc);
    expect(formatTime(undefined)).toBe('');
  });

  it('says roughly how long ago', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(ago('2026-11-30T09:59:58Z', now)).toBe('just now');
    expect(ago('2026-11-30T09:59:18Z', now)).toBe('42 s ago');
    expect(ago('2026-11-30T09:55:00Z', now)).toBe('5 min ago');
    expect(ago('2026-11-30T07:00:00Z', now)).toBe('3 h ago');
    expect(ago('2026-11-30T10:05:00Z', now)).toBe('in 5 min');
  });

  it('reads a datetime-local value as the viewer’s wall-clock time', () => {
    const local = new Date(2026, 10, 30, 8, 15);
    expect(localInputToIso('2026-11-30T08:15')).toBe(local.toISOString());
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('not a time')).toBeUndefined();
  });

  it('splits typed lists and reads counts', () => {
    expect(splitList(' call.* , sms.inbound,, ')).toEqual(['call.*', 'sms.inbound']);
    expect(parseCount('')).toBeUndefined();
    expect(parseCount(' 12 ')).toBe(12);
    expect(parseCount('1.5')).toBeNaN();
  });

  it('shows printable UTF-8 as text and anything else as a hex dump', () => {
    const text = base64(utf8('{"type":"call_state","é":1}\n'));
    expect(describeRaw(text)).toEqual({ kind: 'text', text: '{"type":"call_state","é":1}\n' });
    const bytes = new Uint8Array([0x00, 0x41, 0xff, 0x0a]);
    expect(describeRaw(base64(bytes))).toEqual({ kind: 'hex', text: hexDump(bytes) });
    expect(describeRaw(base64(utf8('a\u0001b')))).toMatchObject({ kind: 'hex' });
    expect(hexDump(utf8('ABCDEFGHIJKLMNOPQ'))).toBe(
      '00000000  41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP\n' +
        '00000010  51                                               Q',
    );
  });

  it('summarises an event by who and what state', () => {
    expect(summarizeData({ from: '+1555', to: '+1666', state: 'live', callId: 'c1' })).toBe(
      '+1555 → +1666 · state live',
    );
    expect(summarizeData({ amount: 5, accountId: 'a' })).toBe('amount 5');
  });
});
