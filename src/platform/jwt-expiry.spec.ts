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
