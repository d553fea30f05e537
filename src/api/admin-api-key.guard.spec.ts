import { type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { AdminApiKeyGuard } from './admin-api-key.guard';

const KEY = 'k'.repeat(40);

function contextWith(authorization?: string) {
  const headers: Record<string, string> = {};
  const request = { headers: authorization === undefined ? {} : { authorization } };
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name] = value;
    },
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

function guard(adminApiKey: string | null = KEY): AdminApiKeyGuard {
  const config = loadConfig({ OPENTACT_TOKEN: 'a.b.c', ADMIN_API_KEY: KEY });
  config.adminApiKey = adminApiKey ?? undefined;
  return new AdminApiKeyGuard(config);
}

function refusal(g: AdminApiKeyGuard, authorization?: string) {
  const { context, headers } = contextWith(authorization);
  try {
    g.canActivate(context);
  } catch (error) {
    if (error instanceof UnauthorizedException) {
      return { body: error.getResponse() as { message: string }, headers };
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('AdminApiKeyGuard', () => {
  it.each([`Bearer ${KEY}`, `bearer ${KEY}`, `Bearer  ${KEY} `])('accepts %j', (header) => {
    expect(guard().canActivate(contextWith(header).context)).toBe(true);
  });

  it.each<[string | undefined, RegExp]>([
    [undefined, /missing admin API key/],
    ['Basic abc', /missing admin API key/],
    [`Bearer ${KEY}x`, /invalid admin API key/],
    ['Bearer short', /invalid admin API key/],
    [KEY, /missing admin API key/],
  ])('refuses %j with 401 and WWW-Authenticate', (header, message) => {
    const { body, headers } = refusal(guard(), header);
    expect(body.message).toMatch(message);
    expect(JSON.stringify(body)).not.toContain(KEY);
    expect(headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });

  it('refuses everything when no key is configured', () => {
    expect(refusal(guard(null), `Bearer ${KEY}`).body.message).toMatch(/ADMIN_API_KEY is not set/);
  });
});
