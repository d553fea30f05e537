import { randomUUID } from 'node:crypto';
import { issueJwt, JwtClaims, verifyJwt } from './jwt';

export type SimulatorUser = Record<string, unknown> & { uuid: string; email: string };

/**
 * The one user the simulator knows: the login it accepts, its profile as the REST and WSS answers
 * show it, and the JWTs it issues and checks.
 */
/** Tests read the issued tokens to search logs for them; the list is bounded. */
const MAX_ISSUED_TOKENS = 1_000;

export class SimulatorIdentity {
  private readonly issued: string[] = [];

  readonly user: SimulatorUser;

  constructor(
    private readonly login: { email: string; password: string },
    private readonly jwtSecret: string,
    private readonly tokenTtlSeconds: number,
  ) {
    const createdOn = new Date(Date.now() - 30 * 86_400_000).toISOString();
    this.user = {
      created_on: createdOn,
      modified_on: createdOn,
      uuid: randomUUID(),
      email: login.email,
      phone_number: '+15550100',
      first_name: 'Demo',
      wss_online: false,
      last_name: 'User',
      avatar: null,
      dob: null,
      role: 'User',
      gender: null,
      deleted_on: null,
    };
  }

  /** Whether an `Authorization: Basic` header carries the accepted login. */
  acceptsBasicAuth(header: string): boolean {
    const match = /^Basic\s+(.+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const separator = decoded.indexOf(':');
    const email = separator >= 0 ? decoded.slice(0, separator) : '';
    const password = separator >= 0 ? decoded.slice(separator + 1) : '';
    return email === this.login.email && password === this.login.password;
  }

  issueToken(ttlSeconds: number = this.tokenTtlSeconds): string {
    const token = issueJwt({ uuid: this.user.uuid, role: 'User' }, this.jwtSecret, ttlSeconds);
    if (this.issued.length >= MAX_ISSUED_TOKENS) {
      this.issued.shift();
    }
    this.issued.push(token);
    return token;
  }

  /** The tokens issued so far (logins and issueToken calls), the newest last. */
  get issuedTokens(): readonly string[] {
    return this.issued;
  }

  /** The claims of a valid, unexpired token of this user; undefined for any other. */
  verifyToken(token: string): JwtClaims | undefined {
    try {
      const claims = verifyJwt(token, this.jwtSecret);
      return claims.uuid === this.user.uuid ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}
