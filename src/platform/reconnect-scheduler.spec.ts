import pino from 'pino';
import { ReconnectScheduler } from './reconnect-scheduler';

describe('ReconnectScheduler', () => {
  const config = {
    reconnectBaseMs: 1_000,
    reconnectMaxMs: 30_000,
    authFailureBackoffMs: 60_000,
    stableAfterMs: 60_000,
  };
  let dials: number;
  let scheduler: ReconnectScheduler;

  beforeEach(() => {
    jest.useFakeTimers();
    dials = 0;
    // random 0.5: full jitter gives half the window, equal jitter three quarters.
    scheduler = new ReconnectScheduler(
      config,
      () => dials++,
      pino({ level: 'silent' }),
      () => 0.5,
    );
  });
  afterEach(() => jest.useRealTimers());

  /** Ms until the scheduled dial. */
  function delayOfNextDial(): number {
    const before = dials;
    let waited = 0;
    while (dials === before) {
      jest.advanceTimersByTime(1);
      waited++;
    }
    return waited;
  }

  it('grows the backoff after each failure, and forgets it once a link stayed up', () => {
    scheduler.afterFailure();
    expect(delayOfNextDial()).toBe(500);
    scheduler.afterFailure();
    expect(delayOfNextDial()).toBe(1_000);
    scheduler.connected();
    jest.advanceTimersByTime(60_000);
    scheduler.afterFailure();
    expect(delayOfNextDial()).toBe(500);
  });

  it('keeps the backoff when the link is lost before it was stable', () => {
    scheduler.afterFailure();
    delayOfNextDial();
    scheduler.connected();
    scheduler.linkLost();
    jest.advanceTimersByTime(60_000);
    scheduler.afterFailure();
    expect(delayOfNextDial()).toBe(1_000);
  });

  it('waits long and longer after refused credentials, from the first again once connected', () => {
    expect(scheduler.authRefused()).toBe(1);
    scheduler.afterAuthFailure();
    expect(delayOfNextDial()).toBe(45_000);
    expect(scheduler.authRefused()).toBe(2);
    scheduler.afterAuthFailure();
    expect(delayOfNextDial()).toBe(90_000);
    scheduler.connected();
    expect(scheduler.authRefused()).toBe(1);
  });

  it('dials at once after an oversized frame, three in a row, then falls back to backoff', () => {
    for (let i = 1; i <= 3; i++) {
      expect(scheduler.afterOversizeFrame()).toEqual({ immediate: true, inARow: i });
      jest.advanceTimersByTime(0);
      expect(dials).toBe(i);
    }
    expect(scheduler.afterOversizeFrame()).toEqual({ immediate: false, inARow: 4 });
    scheduler.connected();
    jest.advanceTimersByTime(60_000);
    expect(scheduler.afterOversizeFrame()).toEqual({ immediate: true, inARow: 1 });
  });

  it('cancel drops a scheduled dial', () => {
    scheduler.afterFailure();
    scheduler.cancel();
    jest.advanceTimersByTime(60_000);
    expect(dials).toBe(0);
  });
});
