import { TimeFormatter } from './time.formatter';

describe('TimeFormatter', () => {
  const instant = '2026-11-30T23:30:05.123Z';

  it('shows times in the given zone', () => {
    expect(new TimeFormatter('UTC').short(instant)).toBe('2026-11-30 23:30:05');
    expect(new TimeFormatter('Asia/Kolkata').short(instant)).toBe('2026-12-01 05:00:05');
    expect(new TimeFormatter('Asia/Kolkata').long(instant)).toBe('2026-12-01 05:00:05 GMT+5:30');
    expect(new TimeFormatter('America/New_York').long(instant)).toBe('2026-11-30 18:30:05 GMT-5');
  });

  it('shows an unreadable time as it came, and nothing for none', () => {
    const time = new TimeFormatter('UTC');
    expect(time.short('soon')).toBe('soon');
    expect(time.short(undefined)).toBe('');
  });

  it('says durations in ms, s, or min and s', () => {
    const time = new TimeFormatter('UTC');
    expect(time.duration(850)).toBe('850 ms');
    expect(time.duration(12_345)).toBe('12.3 s');
    expect(time.duration(245_000)).toBe('4 min 5 s');
    expect(time.duration(undefined)).toBe('');
  });
});
