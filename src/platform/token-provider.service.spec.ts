import type { OpentactConfig } from '../config/app-config';
import { TokenProvider } from './token-provider.service';

function jwt(expSeconds: number): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ uuid: 'u', exp: expSeconds })}.sig`;
}

const passwordConfig: Pick<OpentactConfig, 'credentials' | 'tokenRefreshMarginMs'> = {
  credentials: { kind: 'password', email: 'demo@opentact.local', password: 'pw' },
  tokenRefreshMarginMs: 60_000,
};

describe('TokenProvider', () => {
  let now: number;
  let logins: number;
  const rest = {
    login: jest.fn((): Promise<string> => {
      logins++;
      return Promise.resolve(jwt(Math.floor(now / 1000) + 3_600 + logins));
    }),
  };

  beforeEach(() => {
    now = 1_700_000_000_000;
    logins = 0;
    rest.login.mockClear();
  });

  it('logs in and caches the token until exp - margin', async () => {
    const provider = new TokenProvider(passwordConfig, rest, { now: () => new Date(now) });
    const first = await provider.getToken();
    expect(first.expiresAtMs).toBe(now + 3_601_000);
    expect(rest.login).toHaveBeenCalledWith('demo@opentact.local', 'pw');
    now += 3_601_000 - 60_000 - 1;
    await expect(provider.getToken()).resolves.toBe(first);
    now += 1;
    const second = await provider.getToken();
    expect(second.token).not.toBe(first.token);
    expect(rest.login).toHaveBeenCalledTimes(2);
  });

  it('logs in again when asked for a fresh token', async () => {
    const provider = new TokenProvider(passwordConfig, rest, { now: () => new Date(now) });
    const first = await provider.getToken();
    const fresh = await provider.getToken({ fresh: true });
    expect(fresh.token).not.toBe(first.token);
    await expect(provider.getToken()).resolves.toBe(fresh);
    expect(provider.canRefresh).toBe(true);
  });

  it('shares one login between concurrent callers', async () => {
    const provider = new TokenProvider(passwordConfig, rest, { now: () => new Date(now) });
    const [a, b] = await Promise.all([provider.getToken(), provider.getToken({ fresh: true })]);
    expect(a).toBe(b);
    expect(rest.login).toHaveBeenCalledTimes(1);
  });

  it('does not cache a failed login', async () => {
    const provider = new TokenProvider(passwordConfig, rest, { now: () => new Date(now) });
    rest.login.mockImplementationOnce(() => Promise.reject(new Error('down')));
    await expect(provider.getToken()).rejects.toThrow('down');
    await expect(provider.getToken()).resolves.toHaveProperty('token');
  });

  it('returns a configured token with its exp and never logs in', async () => {
    const token = jwt(1_800_000_000);
    const provider = new TokenProvider(
      { credentials: { kind: 'token', token }, tokenRefreshMarginMs: 0 },
      rest,
    );
    await expect(provider.getToken({ fresh: true })).resolves.toEqual({
      token,
      expiresAtMs: 1_800_000_000_000,
    });
    expect(provider.canRefresh).toBe(false);
    expect(rest.login).not.toHaveBeenCalled();
  });
});
