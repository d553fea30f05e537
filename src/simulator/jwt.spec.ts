import { issueJwt, JwtError, signJwt, verifyJwt } from './jwt';

const SECRET = 'unit-test-secret';
const SUBJECT = { uuid: '0116f6d1-1280-44b2-9134-da48509ec575', role: 'User' };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof JwtError ? error.code : 'not-a-jwt-error';
  }
  return undefined;
}

describe('jwt', () => {
  it('signs HS256 tokens that verify and carry uuid, role, iat and exp = iat + ttl', () => {
    const token = issueJwt(SUBJECT, SECRET, 86_400, 1_700_000_000);
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    });
    expect(verifyJwt(token, SECRET, 1_700_000_001)).toEqual({
      uuid: SUBJECT.uuid,
      role: 'User',
      iat: 1_700_000_000,
      exp: 1_700_086_400,
    });
  });

  it('refuses a token at or after exp', () => {
    const token = issueJwt(SUBJECT, SECRET, 60, 1_000);
    expect(verifyJwt(token, SECRET, 1_059).exp).toBe(1_060);
    expect(codeOf(() => verifyJwt(token, SECRET, 1_060))).toBe('expired');
  });

  it('refuses a token signed with another secret', () => {
    const token = issueJwt(SUBJECT, 'other-secret', 60);
    expect(codeOf(() => verifyJwt(token, SECRET))).toBe('bad_signature');
  });

  it('refuses a token whose claims were altered after signing', () => {
    const [header, , signature] = issueJwt(SUBJECT, SECRET, 60).split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...SUBJECT, role: 'Admin', iat: 1, exp: 9_999_999_999 }),
    ).toString('base64url');
    expect(codeOf(() => verifyJwt(`${header}.${forged}.${signature}`, SECRET))).toBe(
      'bad_signature',
    );
  });

  it('refuses alg "none" and other algorithms', () => {
    const body = Buffer.from(JSON.stringify({ ...SUBJECT, iat: 1, exp: 9_999_999_999 })).toString(
      'base64url',
    );
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(codeOf(() => verifyJwt(`${none}.${body}.c2ln`, SECRET))).toBe('unsupported_alg');
  });

  it.each(['', 'abc', 'a.b', 'a..c', '%%%.%%%.%%%'])('refuses malformed token %p', (token) => {
    expect(codeOf(() => verifyJwt(token, SECRET))).toMatch(/malformed|unsupported_alg/);
  });

  it('refuses a correctly signed token without the required claims', () => {
    const token = signJwt({ sub: 'someone' }, SECRET);
    expect(codeOf(() => verifyJwt(token, SECRET))).toBe('malformed');
  });
});
