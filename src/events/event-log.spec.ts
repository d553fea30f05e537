import { compareEntryIds, nextEntryId, parseEntryId } from './event-log';

describe('stream entry ids', () => {
  it('reads `<ms>-<seq>` as numbers, and a bare time as its first entry', () => {
    expect(parseEntryId('1700000000000-12')).toEqual([1700000000000, 12]);
    expect(parseEntryId('1700000000000')).toEqual([1700000000000, 0]);
    // A dash in first place still splits: no milliseconds, then the sequence.
    expect(parseEntryId('-7')).toEqual([0, 7]);
  });

  it('orders by time, then by sequence, as numbers rather than text', () => {
    expect(compareEntryIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEntryIds('10-0', '9-5')).toBeGreaterThan(0);
    expect(compareEntryIds('5-2', '5-10')).toBeLessThan(0);
    expect(compareEntryIds('5-10', '5-2')).toBeGreaterThan(0);
    expect(compareEntryIds('5-3', '5-3')).toBe(0);
  });

  it('gives the smallest id after another', () => {
    expect(nextEntryId('1700000000000-9')).toBe('1700000000000-10');
    expect(nextEntryId('0-0')).toBe('0-1');
  });
});
