import { MAX_TIMER_MS, OneShotTimer, within } from './connection-support';

describe('OneShotTimer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs once after the delay, and a new set replaces the pending callback', () => {
    const timer = new OneShotTimer();
    const calls: string[] = [];
    timer.set(1_000, () => calls.push('first'));
    timer.set(2_000, () => calls.push('second'));
    expect(timer.armed).toBe(true);
    jest.advanceTimersByTime(1_999);
    expect(calls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(calls).toEqual(['second']);
    expect(timer.armed).toBe(false);
  });

  it('clamps a delay beyond what setTimeout honours instead of firing at once', () => {
    const timer = new OneShotTimer();
    const fn = jest.fn();
    timer.set(MAX_TIMER_MS * 4, fn);
    jest.advanceTimersByTime(1_000);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clear cancels the pending callback', () => {
    const timer = new OneShotTimer();
    const fn = jest.fn();
    timer.set(10, fn);
    timer.clear();
    jest.advanceTimersByTime(100);
    expect(fn).not.toHaveBeenCalled();
    expect(timer.armed).toBe(false);
  });
});

describe('within', () => {
  it('says whether the work settled in time', async () => {
    await expect(within(Promise.resolve(), 1_000)).resolves.toBe(true);
    await expect(within(new Promise(() => undefined), 10)).resolves.toBe(false);
  });
});
