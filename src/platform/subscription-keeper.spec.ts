import pino from 'pino';
import { ConnectionListeners } from './connection-listeners';
import { OpentactRequestError } from './opentact-errors';
import type { EnsuredSubscriptions } from './opentact-subscriptions.client';
import { SubscriptionKeeper } from './subscription-keeper';

describe('SubscriptionKeeper', () => {
  const START = Date.parse('2026-01-01T00:00:00.000Z');
  const config = { subscribe: ['sms', 'call'], reconnectBaseMs: 1_000, reconnectMaxMs: 30_000 };
  const clock = { now: () => new Date(Date.now()) };

  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  function make(answers: (EnsuredSubscriptions | Error)[], types = config.subscribe) {
    const calls: string[] = [];
    const rest = {
      ensureSubscriptions: (token: string): Promise<EnsuredSubscriptions> => {
        calls.push(token);
        const answer = answers.shift() ?? { created: [] };
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    };
    const errors: string[] = [];
    const listeners = new ConnectionListeners(pino({ level: 'silent' }));
    listeners.add({ onSubscriptionError: (reason) => errors.push(reason) });
    const keeper = new SubscriptionKeeper(
      { ...config, subscribe: types },
      rest,
      listeners,
      pino({ level: 'silent' }),
      clock,
      () => 0.5,
    );
    return { keeper, calls, errors };
  }
  const flush = (): Promise<void> => jest.advanceTimersByTimeAsync(0);

  it('is disabled and calls nothing when no types are configured', async () => {
    const h = make([], []);
    h.keeper.linkUp('t');
    await flush();
    expect(h.calls).toEqual([]);
    expect(h.keeper.status()).toEqual({ state: 'disabled', failures: 0 });
  });

  it('ensures on linkUp and renews before the first entry lapses (not sooner than a minute)', async () => {
    const h = make([{ created: [], expiresAtMs: START + 3_600_000 }]);
    expect(h.keeper.status().state).toBe('pending');
    h.keeper.linkUp('t1');
    await flush();
    expect(h.calls).toEqual(['t1']);
    expect(h.keeper.status()).toEqual({
      state: 'ok',
      failures: 0,
      lastEnsuredAt: new Date(START).toISOString(),
      nextAttemptAt: new Date(START + 3_600_000 - 5 * 60_000).toISOString(),
    });
    h.keeper.useToken('t2');
    await jest.advanceTimersByTimeAsync(3_600_000 - 5 * 60_000);
    expect(h.calls).toEqual(['t1', 't2']);
  });

  it('counts a refusal (success: false), reports it and retries with backoff while the link is open', async () => {
    const refused = new OpentactRequestError('OPENTACT_REFUSED', 'answered success: false');
    const h = make([refused, refused]);
    h.keeper.linkUp('t');
    await flush();
    expect(h.keeper.status()).toMatchObject({
      state: 'failing',
      failures: 1,
      lastError: 'answered success: false',
      nextAttemptAt: new Date(START + 750).toISOString(),
    });
    expect(h.errors).toEqual(['answered success: false']);
    await jest.advanceTimersByTimeAsync(750);
    expect(h.calls).toHaveLength(2);
    expect(h.keeper.status()).toMatchObject({ failures: 2 });
    // Down: the retry comes due but does nothing; the next linkUp ensures.
    h.keeper.linkDown();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(h.calls).toHaveLength(2);
    h.keeper.linkUp('t');
    await flush();
    expect(h.calls).toHaveLength(3);
    expect(h.keeper.status()).toMatchObject({ state: 'ok', failures: 0 });
  });

  it('drops the result of an attempt started before stop', async () => {
    let answer!: (value: EnsuredSubscriptions) => void;
    const rest = {
      ensureSubscriptions: (): Promise<EnsuredSubscriptions> =>
        new Promise((resolve) => (answer = resolve)),
    };
    const keeper = new SubscriptionKeeper(
      config,
      rest,
      new ConnectionListeners(pino({ level: 'silent' })),
      pino({ level: 'silent' }),
      clock,
      () => 0.5,
    );
    keeper.linkUp('t');
    expect(keeper.inFlight()).toHaveLength(1);
    keeper.stop();
    answer({ created: [] });
    await flush();
    expect(keeper.status().state).toBe('pending');
    expect(keeper.inFlight()).toEqual([]);
  });
});
