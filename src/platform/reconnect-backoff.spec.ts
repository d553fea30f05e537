import { BackoffTracker, computeBackoffMs, computeEqualJitterBackoffMs } from './reconnect-backoff';

const opts = { baseMs: 1_000, maxMs: 30_000 };

describe('computeBackoffMs', () => {
  it('stays within [0, min(max, base * 2^attempt)]', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const ceiling = Math.min(30_000, 1_000 * 2 ** attempt);
      for (const r of [0, 0.25, 0.5, 0.999_999]) {
        const delay = computeBackoffMs(attempt, opts, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('grows exponentially until the cap', () => {
    const top = (attempt: number): number => computeBackoffMs(attempt, opts, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6].map(top)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('is deterministic with an injected random', () => {
    expect(computeBackoffMs(3, opts, () => 0.5)).toBe(4_000);
    expect(computeBackoffMs(3, opts, () => 0.5)).toBe(4_000);
    expect(computeBackoffMs(0, opts, () => 0)).toBe(0);
  });

  it('never overflows to Infinity or NaN for huge or odd attempts', () => {
    for (const attempt of [1_023, 1_024, 5_000, Number.MAX_SAFE_INTEGER, Infinity]) {
      const delay = computeBackoffMs(attempt, opts, () => 1);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBe(30_000);
    }
    expect(computeBackoffMs(NaN, opts, () => 1)).toBe(1_000);
    expect(computeBackoffMs(-3, opts, () => 1)).toBe(1_000);
  });

  it('clamps a misbehaving random into [0, 1]', () => {
    expect(computeBackoffMs(2, opts, () => 7)).toBe(4_000);
    expect(computeBackoffMs(2, opts, () => -1)).toBe(0);
    expect(computeBackoffMs(2, opts, () => NaN)).toBe(0);
  });
});

describe('computeEqualJitterBackoffMs', () => {
  it('keeps at least half the window', () => {
    const long = { baseMs: 60_000, maxMs: 600_000 };
    expect(computeEqualJitterBackoffMs(0, long, () => 0)).toBe(30_000);
    expect(computeEqualJitterBackoffMs(0, long, () => 1)).toBe(60_000);
    expect(computeEqualJitterBackoffMs(1, long, () => 0.5)).toBe(90_000);
    expect(computeEqualJitterBackoffMs(50, long, () => 1)).toBe(600_000);
  });
});

describe('BackoffTracker', () => {
  it('advances one attempt per next() and starts over after reset()', () => {
    const tracker = new BackoffTracker(opts, () => 1);
    expect([tracker.next(), tracker.next(), tracker.next()]).toEqual([1_000, 2_000, 4_000]);
    expect(tracker.attempts).toBe(3);
    tracker.reset();
    expect(tracker.attempts).toBe(0);
    expect(tracker.next()).toBe(1_000);
  });

  it('stays finite after very many attempts', () => {
    const tracker = new BackoffTracker(opts, () => 1);
    for (let i = 0; i < 2_000; i++) {
      tracker.next();
    }
    expect(tracker.next()).toBe(30_000);
  });
});
