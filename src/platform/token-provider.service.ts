import { Clock, SystemClock } from '../common/clock';
import type { OpentactConfig } from '../config/app-config';
import { jwtExpiresAtMs } from './jwt-expiry';
import type { OpentactRestClient } from './opentact-rest.client';

export interface OpentactToken {
  token: string;
  /** From the JWT's `exp`; undefined when the token carries none. */
  expiresAtMs?: number;
}

export interface GetTokenOptions {
  /** Ignore the cache and log in again (after an auth failure, and for a token refresh). */
  fresh?: boolean;
}

/**
 * Supplies the JWT for the WSS `auth` frame and REST calls. With email/password it logs in and
 * caches the token until `exp - tokenRefreshMarginMs`; with a configured token it returns that.
 */
export class TokenProvider {
  private cached?: OpentactToken;
  private inFlight?: Promise<OpentactToken>;

  constructor(
    private readonly config: Pick<OpentactConfig, 'credentials' | 'tokenRefreshMarginMs'>,
    private readonly rest: Pick<OpentactRestClient, 'login'>,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  /** Whether `getToken({ fresh: true })` can produce a new token (password credentials). */
  get canRefresh(): boolean {
    return this.config.credentials.kind === 'password';
  }

  async getToken(options: GetTokenOptions = {}): Promise<OpentactToken> {
    const credentials = this.config.credentials;
    if (credentials.kind === 'token') {
      return { token: credentials.token, expiresAtMs: jwtExpiresAtMs(credentials.token) };
    }
    if (!options.fresh && this.cached && this.isUsable(this.cached)) {
      return this.cached;
    }
    // Concurrent callers share one login; a fresh request never reuses a pre-existing cache.
    this.inFlight ??= this.login(credentials.email, credentials.password).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async login(email: string, password: string): Promise<OpentactToken> {
    const token = await this.rest.login(email, password);
    const fetched: OpentactToken = { token, expiresAtMs: jwtExpiresAtMs(token) };
    this.cached = fetched;
    return fetched;
  }

  private isUsable(token: OpentactToken): boolean {
    return (
      token.expiresAtMs === undefined ||
      this.clock.now().getTime() < token.expiresAtMs - this.config.tokenRefreshMarginMs
    );
  }
}
