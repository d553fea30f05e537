import { applyRetryAfter, nextDelayMs } from './retry-schedule';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DEFAULT_SCHEDULE = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

describe('nextDelayMs', () => {
  const middle = (): number => 0.5;

  it('uses scheduleMs[0] for the first retry and walks the schedule', () => {
    expect(
      DEFAULT_SCHEDULE.map((_, i) => nextDelayMs(i + 1, DEFAULT_SCHEDULE, 0.2, middle)),
    ).toEqual(DEFAULT_SCHEDULE);
  });

  it('gives the default schedule 8 attempts in total', () => {
    let attempts = 1; // the first attempt is made immediately
    while (nextDelayMs(attempts, DEFAULT_SCHEDULE, 0.2) !== undefined && attempts < 100) {
      attempts++;
    }
    expect(attempts).toBe(8);
  });

  it('returns undefined once the schedule is exhausted', () => {
    expect(nextDelayMs(7, DEFAULT_SCHEDULE, 0.2, middle)).toBe(10 * HOUR);
    expect(nextDelayMs(8, DEFAULT_SCHEDULE, 0.2, middle)).toBeUndefined();
    expect(nextDelayMs(50, DEFAULT_SCHEDULE, 0.2, middle)).toBeUndefined();
    expect(nextDelayMs(1, [], 0.2, middle)).toBeUndefined();
  });

  it('gives no delay before the first attempt', () => {
    expect(nextDelayMs(0, DEFAULT_SCHEDULE, 0.2)).toBe(0);
  });

  it('keeps jitter within ±jitter at the extremes of random()', () => {
    expect(nextDelayMs(2, DEFAULT_SCHEDULE, 0.2, () => 0)).toBe(0.8 * 5 * MINUTE);
    expect(nextDelayMs(2, DEFAULT_SCHEDULE, 0.2, () => 0.999999)).toBeLessThanOrEqual(
      1.2 * 5 * MINUTE,
    );
    expect(nextDelayMs(2, DEFAULT_SCHEDULE, 0.2, () => 0.999999)).toBeGreaterThan(
      1.19 * 5 * MINUTE,
    );
  });

  it('stays within [0.8, 1.2] × scheduled over many real random draws', () => {
    for (let i = 0; i < 1000; i++) {
      const delay = nextDelayMs(4, DEFAULT_SCHEDULE, 0.2)!;
      expect(delay).toBeGreaterThanOrEqual(0.8 * 2 * HOUR);
      expect(delay).toBeLessThanOrEqual(1.2 * 2 * HOUR);
    }
  });

  it('is exact without jitter', () => {
    expect(nextDelayMs(1, DEFAULT_SCHEDULE, 0, () => 0)).toBe(5 * SECOND);
  });

  it('rejects nonsense arguments', () => {
    expect(() => nextDelayMs(-1, DEFAULT_SCHEDULE, 0.2)).toThrow(RangeError);
    expect(() => nextDelayMs(1.5, DEFAULT_SCHEDULE, 0.2)).toThrow(RangeError);
    expect(() => nextDelayMs(1, DEFAULT_SCHEDULE, 1)).toThrow(RangeError);
    expect(() => nextDelayMs(1, DEFAULT_SCHEDULE, -0.1)).toThrow(RangeError);
    expect(() => nextDelayMs(-1, DEFAULT_SCHEDULE, 0.2)).toThrow(
      'attemptsMade must be a whole number >= 0, got -1',
    );
    expect(() => nextDelayMs(1, DEFAULT_SCHEDULE, 1)).toThrow('jitter must be in [0, 1), got 1');
  });
});

describe('applyRetryAfter', () => {
  const max = 24 * HOUR;

  it('keeps the schedule when the receiver sent no Retry-After', () => {
    expect(applyRetryAfter(5 * SECOND, undefined, max)).toBe(5 * SECOND);
  });

  it('waits as long as the receiver asked, even past twice the schedule', () => {
    expect(applyRetryAfter(5 * SECOND, 10 * MINUTE, max)).toBe(10 * MINUTE);
  });

  it('never retries sooner than the schedule', () => {
    expect(applyRetryAfter(30 * MINUTE, 0, max)).toBe(30 * MINUTE);
    expect(applyRetryAfter(30 * MINUTE, 5 * SECOND, max)).toBe(30 * MINUTE);
  });

  it('caps the receiver value at maxMs, but not below the schedule', () => {
    expect(applyRetryAfter(5 * SECOND, 365 * 24 * HOUR, max)).toBe(max);
    expect(applyRetryAfter(10 * HOUR, 2 * HOUR, HOUR)).toBe(10 * HOUR);
  });
});
