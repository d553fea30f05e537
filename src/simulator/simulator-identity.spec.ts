import { issueJwt } from './jwt';
import { SimulatorIdentity } from './simulator-identity';

const LOGIN = { email: 'user@example.test', password: 'p:ss' };
const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

describe('SimulatorIdentity', () => {
  const identity = new SimulatorIdentity(LOGIN, 'secret', 60);

  it('accepts exactly the configured Basic login (a colon in the password included)', () => {
    expect(identity.acceptsBasicAuth(basic('user@example.test:p:ss'))).toBe(true);
    expect(identity.acceptsBasicAuth(`basic ${basic('user@example.test:p:ss').slice(6)}`)).toBe(
      true,
    );
    expect(identity.acceptsBasicAuth(basic('user@example.test:p'))).toBe(false);
    expect(identity.acceptsBasicAuth(basic('user@example.test'))).toBe(false);
    expect(identity.acceptsBasicAuth('Bearer x')).toBe(false);
    expect(identity.acceptsBasicAuth('')).toBe(false);
  });

  it('issues tokens of its user that it verifies, with the default or a given lifetime', () => {
    const claims = identity.verifyToken(identity.issueToken());
    expect(claims).toMatchObject({ uuid: identity.user.uuid, role: 'User' });
    expect(claims && claims.exp - claims.iat).toBe(60);
    const short = identity.verifyToken(identity.issueToken(5));
    expect(short && short.exp - short.iat).toBe(5);
  });

  it('remembers the tokens it issued, newest last, and only the last 1,000', () => {
    const fresh = new SimulatorIdentity(LOGIN, 'secret', 60);
    // Lifetimes the loop below does not use, so these two tokens differ from every later one.
    const first = fresh.issueToken(7);
    const second = fresh.issueToken(8);
    expect(fresh.issuedTokens).toEqual([first, second]);
    for (let i = 0; i < 1_000; i++) {
      fresh.issueToken();
    }
    expect(fresh.issuedTokens).toHaveLength(1_000);
    expect(fresh.issuedTokens).not.toContain(first);
    expect(fresh.issuedTokens).not.toContain(second);
  });

  it('rejects expired tokens, other secrets, other users and garbage', () => {
    expect(identity.verifyToken(identity.issueToken(-1))).toBeUndefined();
    expect(
      identity.verifyToken(issueJwt({ uuid: identity.user.uuid, role: 'User' }, 'other', 60)),
    ).toBeUndefined();
    expect(
      identity.verifyToken(issueJwt({ uuid: 'someone-else', role: 'User' }, 'secret', 60)),
    ).toBeUndefined();
    expect(identity.verifyToken('not.a.jwt')).toBeUndefined();
  });

  it('shows the login email in its user profile', () => {
    expect(identity.user).toMatchObject({ email: LOGIN.email, role: 'User', wss_online: false });
  });
});
