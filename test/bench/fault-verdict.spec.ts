import { verdict } from '../../bench/faults/run-faults';

/** The fault suite is a gate: each way a scenario can go wrong fails it, and only those. */
describe('fault suite verdict', () => {
  const clean = { lost: 0, badSignatures: 0, duplicated: 3, duplicatesAllowed: 3 };

  it('passes a scenario with nothing lost, good signatures and explained duplicates', () => {
    expect(verdict(clean)).toEqual([]);
  });

  it('fails a lost delivery', () => {
    expect(verdict({ ...clean, lost: 1 })).toEqual(['1 deliveries lost']);
  });

  it('fails a request whose signature does not verify', () => {
    expect(verdict({ ...clean, badSignatures: 1 })).toEqual([
      '1 requests with a signature that does not verify',
    ]);
  });

  it('fails duplicates beyond what the fault explains', () => {
    expect(verdict({ ...clean, duplicated: 4 })).toEqual([
      '4 duplicates, more than the 3 the fault explains',
    ]);
    expect(verdict({ ...clean, duplicated: 1, duplicatesAllowed: 0 })).toHaveLength(1);
  });
});
