import { InvalidArgumentError } from 'commander';
import { TimeFormatter } from './format/time.formatter';
import { commaList, filterEntry, headerEntry, integerIn, pointInTime } from './option-parsers';

describe('option parsers', () => {
  it('integerIn takes whole numbers in range only', () => {
    const limit = integerIn(1, 100);
    expect(limit('1')).toBe(1);
    expect(limit('100')).toBe(100);
    for (const bad of ['0', '101', '-1', '1.5', 'ten', '']) {
      expect(() => limit(bad)).toThrow(InvalidArgumentError);
    }
  });

  describe('pointInTime', () => {
    const now = Date.parse('2026-11-30T12:00:00.000Z');
    const at = pointInTime(new TimeFormatter('UTC'), () => now);

    it('keeps an instant with a zone, and reads durations as that long ago', () => {
      expect(at('2026-11-30T10:15:00Z')).toBe('2026-11-30T10:15:00.000Z');
      expect(at('2026-11-30T10:15:00+02:00')).toBe('2026-11-30T08:15:00.000Z');
      expect(at('30m')).toBe('2026-11-30T11:30:00.000Z');
      expect(at('2h')).toBe('2026-11-30T10:00:00.000Z');
      expect(at('7d')).toBe('2026-11-23T12:00:00.000Z');
    });

    it('reads a time without a zone, or a bare date, in the local zone like the tables', () => {
      const tokyo = pointInTime(new TimeFormatter('Asia/Tokyo'), () => now);
      expect(tokyo('2026-11-30T09:00')).toBe('2026-11-30T00:00:00.000Z');
      expect(tokyo('2026-11-30')).toBe('2026-11-29T15:00:00.000Z');
      expect(tokyo('2026-11-30T09:00:01.5')).toBe('2026-11-30T00:00:01.500Z');
      // Either side of a daylight-saving change: winter +1, summer +2.
      const paris = pointInTime(new TimeFormatter('Europe/Paris'), () => now);
      expect(paris('2026-03-29T01:30')).toBe('2026-03-29T00:30:00.000Z');
      expect(paris('2026-03-29T04:30')).toBe('2026-03-29T02:30:00.000Z');
      expect(at('2026-11-30T09:00')).toBe('2026-11-30T09:00:00.000Z');
    });

    it('refuses anything else with the forms it takes', () => {
      for (const bad of [
        'yesterday',
        '2026-13-01',
        '2026-02-30',
        '2026-11-30T24:00',
        '2026-11-30 10:00',
        '1y',
        '',
      ]) {
        expect(() => at(bad)).toThrow(/ISO-8601 time .* or a duration ago/);
      }
    });
  });

  it('commaList splits and trims, refusing empty items', () => {
    expect(commaList('call.*, sms.inbound')).toEqual(['call.*', 'sms.inbound']);
    expect(() => commaList('call.*,,sms.inbound')).toThrow(InvalidArgumentError);
  });

  it('headerEntry collects Name=value pairs, refusing bad names and repeats', () => {
    const one = headerEntry('X-Tenant=acme');
    expect(headerEntry('X-Trace=a=b', one)).toEqual({ 'X-Tenant': 'acme', 'X-Trace': 'a=b' });
    expect(() => headerEntry('x-tenant=other', one)).toThrow(/given twice/);
    expect(() => headerEntry('X Tenant=acme')).toThrow(/not a valid header name/);
    expect(() => headerEntry('=acme')).toThrow(/Name=value/);
    expect(() => headerEntry('X-Tenant')).toThrow(/Name=value/);
  });

  it('filterEntry makes one value a string and several a list', () => {
    const one = filterEntry('direction=inbound');
    expect(filterEntry('tn=15550001111,15550002222', one)).toEqual({
      direction: 'inbound',
      tn: ['15550001111', '15550002222'],
    });
    expect(() => filterEntry('direction=outbound', one)).toThrow(/given twice/);
    expect(() => filterEntry('direction=')).toThrow(InvalidArgumentError);
  });
});
