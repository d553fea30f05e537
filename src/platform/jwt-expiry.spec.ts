import { jwtExpiresAtMs } from './jwt-expiry';

function jwt(claims: unknown): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2ln`;
}

describe('jwtExpiresAtMs', () => {
  it('returns exp in milliseconds', () => {
    expect(jwtExpiresAtMs(jwt({ uuid: 'u', role: 'User', iat: 1, exp: 1_700_000_000 }))).toBe(
      1_700_000_000_000,
    );
  });

  it('accepts base64url payloads that need - and _', () => {
    const token = jwt({ exp: 2_000_000_000, pad: '>>>???' });
    expect(token.split('.')[1]).toMatch(/[-_]/);
    expect(jwtExpiresAtMs(token)).toBe(2_000_000_000_000);
  });

  it.each([
    ['no exp', jwt({ uuid: 'u' })],
    ['exp is a string', jwt({ exp: '1700000000' })],
    ['exp is negative', jwt({ exp: -1 })],
    ['payload is an array', jwt([1, 2])],
    ['payload is not JSON', 'aGVhZA.bm90IGpzb24.c2ln'],
    ['two parts', 'aGVhZA.eyJleHAiOjF9'],
    ['empty', ''],
    ['invalid characters', 'a.b*c.d'],
  ])('returns undefined when %s', (_name, token) => {
    expect(jwtExpiresAtMs(token)).toBeUndefined();
  });
});

describe('jwtExpiresAtMs, unreadable tokens', () => {
  const raw = (payload: string): string => `eyJhbGciOiJIUzI1NiJ9.${payload}.c2ln`;

  it.each([
    ['an exp of 0', jwt({ exp: 0 })],
    ['a negative exp', jwt({ exp: -5 })],
    ['an exp that is text', jwt({ exp: '1700000000' })],
    ['claims that are an array', jwt([{ exp: 1_700_000_000 }])],
    ['claims that are null', jwt(null)],
    ['claims that are a number', jwt(1_700_000_000)],
    ['a payload that is not JSON', raw(Buffer.from('{"exp":').toString('base64url'))],
    ['a payload with characters outside base64url', raw('!eyJleHAiOjF9')],
    ['a payload ending in a character outside base64url', raw('eyJleHAiOjF9!')],
    ['a payload with text after the padding', raw('eyJleHAiOjF9=x')],
    ['an empty payload', raw('')],
    ['two parts', 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9'],
  ])('undefined for %s', (_what, token) => {
    expect(jwtExpiresAtMs(token)).toBeUndefined();
  });

  it('reads a payload with base64 padding', () => {
    expect(jwtExpiresAtMs(raw(`${Buffer.from('{"exp":12}').toString('base64url')}==`))).toBe(
      12_000,
    );
  });
});
