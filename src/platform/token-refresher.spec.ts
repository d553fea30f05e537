import pino from 'pino';
import { OpentactAuthError } from './opentact-errors';
import type { OpentactLink } from './opentact-link';
import { TokenRefresher } from './token-refresher';
import type { OpentactToken } from './token-provider.service';

describe('TokenRefresher', () => {
  const START = Date.parse('2026-01-01T00:00:00.000Z');
  const config = { tokenRefreshMarginMs: 600_000, reconnectBaseMs: 1_000, reconnectMaxMs: 30_000 };

  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  function make(tokens: (OpentactToken | Error)[], canRefresh = true) {
    const opened: string[] = [];
    const authFailures: string[] = [];
    const host = {
      running: true,
      primary: true,
      isRunning: () => host.running,
      hasPrimary: () => host.primary,
      openLink: (token: OpentactToken): OpentactLink | undefined => {
        opened.push(token.token);
        return { token: token.token } as unknown as OpentactLink;
      },
      onAuthFailure: (reason: string) => authFailures.push(reason),
    };
    const fresh: boolean[] = [];
    const provider = {
      canRefresh,
      getToken: (options?: { fresh?: boolean }): Promise<OpentactToken> => {
        fresh.push(options?.fresh === true);
        const next = tokens.shift() ?? { token: 'later' };
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      },
    };
    const refresher = new TokenRefresher(
      config,
      provider,
      host,
      pino({ level: 'silent' }),
      { now: () => new Date(Date.now()) },
      () => 0.5,
    );
    return { refresher, host, opened, authFailures, fresh };
  }

  it('opens a candidate with a fresh token the margin before expiry', async () => {
    const h = make([{ token: 'fresh' }]);
    h.refresher.schedule({ token: 'old', expiresAtMs: START + 3_600_000 });
    await jest.advanceTimersByTimeAsync(3_000_000 - 1);
    expect(h.opened).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.fresh).toEqual([true]);
    expect(h.opened).toEqual(['fresh']);
    expect(h.refresher.candidate).toBeDefined();
    h.refresher.promoted();
    expect(h.refresher.candidate).toBeUndefined();
  });

  it('refreshes at half the remaining life when that is shorter than the margin', async () => {
    const h = make([{ token: 'fresh' }]);
    h.refresher.schedule({ token: 'old', expiresAtMs: START + 60_000 });
    await jest.advanceTimersByTimeAsync(30_000);
    expect(h.opened).toEqual(['fresh']);
  });

  it('never refreshes a configured token or one without an expiry', async () => {
    const fixed = make([], false);
    fixed.refresher.schedule({ token: 'old', expiresAtMs: START + 60_000 });
    const unbounded = make([]);
    unbounded.refresher.schedule({ token: 'old' });
    await jest.advanceTimersByTimeAsync(86_400_000);
    expect([...fixed.opened, ...unbounded.opened]).toEqual([]);
  });

  it('keeps the old socket when the refresh is refused, reports it and retries with backoff', async () => {
    const refused = new OpentactAuthError('OPENTACT_AUTH_REJECTED', 'rejected', 401);
    const h = make([refused, { token: 'fresh' }]);
    h.refresher.schedule({ token: 'old', expiresAtMs: START + 60_000 });
    await jest.advanceTimersByTimeAsync(30_000);
    expect(h.authFailures).toEqual(['rejected']);
    expect(h.opened).toEqual([]);
    await jest.advanceTimersByTimeAsync(750);
    expect(h.opened).toEqual(['fresh']);
  });

  it('retries after the candidate ends before authenticating, and hands it over or stops', async () => {
    const h = make([{ token: 'a' }, { token: 'b' }]);
    h.refresher.schedule({ token: 'old', expiresAtMs: START + 60_000 });
    await jest.advanceTimersByTimeAsync(30_000);
    h.refresher.candidateEnded({ code: 1006 } as never);
    expect(h.refresher.candidate).toBeUndefined();
    await jest.advanceTimersByTimeAsync(750);
    expect(h.opened).toEqual(['a', 'b']);
    const candidate = h.refresher.stop();
    expect(candidate).toBeDefined();
    expect(h.refresher.takeCandidate()).toBeUndefined();
  });
});
