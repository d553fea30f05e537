import { type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { AdminApiKeyGuard, keyFingerprint, TooManyAuthFailuresError } from './admin-api-key.guard';
import type { AuthFailureLimiter } from './auth-failure-limiter';

const KEY = 'k'.repeat(40);

function contextWith(authorization?: string, ip = '192.0.2.1') {
  const headers: Record<string, string> = {};
  const request: Record<string, unknown> = {
    headers: authorization === undefined ? {} : { authorization },
    ip,
  };
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name] = value;
    },
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ExecutionContext;
  return { context, headers, request };
}

/** The limiter's rule in memory: `max` failures per address, then refused for `blockMs`. */
class MemoryLimiter {
  readonly failures = new Map<string, number>();
  constructor(
    private readonly max = 3,
    private readonly blockMs = 4_500,
  ) {}
  blockedForMs(address: string): Promise<number> {
    return Promise.resolve((this.failures.get(address) ?? 0) >= this.max ? this.blockMs : 0);
  }
  recordFailure(address: string): Promise<void> {
    this.failures.set(address, (this.failures.get(address) ?? 0) + 1);
    return Promise.resolve();
  }
}

function guard(adminApiKey: string | null = KEY, limiter = new MemoryLimiter()): AdminApiKeyGuard {
  const config = loadConfig({ OPENTACT_TOKEN: 'a.b.c', ADMIN_API_KEY: KEY });
  config.adminApiKey = adminApiKey ?? undefined;
  return new AdminApiKeyGuard(config, limiter as unknown as AuthFailureLimiter);
}

async function refusal(g: AdminApiKeyGuard, authorization?: string) {
  const { context, headers } = contextWith(authorization);
  try {
    await g.canActivate(context);
  } catch (error) {
    if (error instanceof UnauthorizedException || error instanceof TooManyAuthFailuresError) {
      return {
        status: error.getStatus(),
        body: error.getResponse() as { message: string },
        headers,
      };
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('AdminApiKeyGuard', () => {
  it.each([`Bearer ${KEY}`, `bearer ${KEY}`, `Bearer  ${KEY} `])('accepts %j', async (header) => {
    const { context, request } = contextWith(header);
    await expect(guard().canActivate(context)).resolves.toBe(true);
    expect(request.adminKeyFingerprint).toBe(keyFingerprint(KEY));
    expect(request.adminKeyFingerprint).toMatch(/^[0-9a-f]{8}$/);
  });

  it.each<[string | undefined, RegExp]>([
    [undefined, /missing admin API key/],
    ['Basic abc', /missing admin API key/],
    [`Bearer ${KEY}x`, /invalid admin API key/],
    ['Bearer short', /invalid admin API key/],
    [KEY, /missing admin API key/],
  ])('refuses %j with 401 and WWW-Authenticate', async (header, message) => {
    const { body, headers } = await refusal(guard(), header);
    expect(body.message).toMatch(message);
    expect(JSON.stringify(body)).not.toContain(KEY);
    expect(headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });

  it('refuses everything when no key is configured', async () => {
    expect((await refusal(guard(null), `Bearer ${KEY}`)).body.message).toMatch(
      /ADMIN_API_KEY is not set/,
    );
  });

  it('counts failures per address and then answers 429 with Retry-After, even to the right key', async () => {
    const limiter = new MemoryLimiter(3, 4_500);
    const g = guard(KEY, limiter);
    for (let i = 0; i < 3; i++) {
      expect((await refusal(g, 'Bearer wrong')).status).toBe(401);
    }
    const blocked = await refusal(g, `Bearer ${KEY}`);
    expect(blocked.status).toBe(429);
    expect(blocked.headers['Retry-After']).toBe('5');
    expect(blocked.body.message).toMatch(/too many failed admin API authentications/);
    // Another address is not affected.
    const other = contextWith(`Bearer ${KEY}`, '192.0.2.2');
    await expect(g.canActivate(other.context)).resolves.toBe(true);
  });
});
