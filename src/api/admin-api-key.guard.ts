import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { bearerToken, digestKey, matchesAnyKey } from './api-keys';
import { AuthFailureLimiter } from './auth-failure-limiter';

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  socket?: { remoteAddress?: string };
  /** Set when the key is accepted, for the audit log: a fingerprint, never the key. */
  adminKeyFingerprint?: string;
}

interface HttpResponseLike {
  setHeader(name: string, value: string): unknown;
}

/** The first 8 hex digits of the key's SHA-256: names which key acted, and cannot be reversed. */
export function keyFingerprint(key: string): string {
  return digestKey(key).toString('hex').slice(0, 8);
}

/** 429 for an address that failed to authenticate too often. */
export class TooManyAuthFailuresError extends HttpException {
  readonly code = 'TOO_MANY_AUTH_FAILURES';
  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: `too many failed admin API authentications from this address; retry after ${retryAfterSeconds} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/**
 * `Authorization: Bearer <ADMIN_API_KEY>` on every /v1 route. Both sides are hashed first so the
 * comparison is constant-time whatever the lengths. The key itself is never logged nor echoed.
 * An address with too many recent failures is refused with 429 before its key is even looked at
 * (the address is the TCP peer, or behind proxies listed in TRUST_PROXY the client they name).
 */
@Injectable()
export class AdminApiKeyGuard implements CanActivate {
  private readonly expected?: Buffer;
  private readonly fingerprint?: string;

  constructor(
    config: AppConfig,
    private readonly failures: AuthFailureLimiter,
  ) {
    this.expected = config.adminApiKey ? digestKey(config.adminApiKey) : undefined;
    this.fingerprint = config.adminApiKey ? keyFingerprint(config.adminApiKey) : undefined;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse<HttpResponseLike>();
    const address = request.ip ?? request.socket?.remoteAddress ?? 'unknown';
    const blockedMs = await this.failures.blockedForMs(address);
    if (blockedMs > 0) {
      const seconds = Math.max(1, Math.ceil(blockedMs / 1000));
      response.setHeader('Retry-After', String(seconds));
      throw new TooManyAuthFailuresError(seconds);
    }
    const presented = bearerToken(request.headers.authorization);
    if (this.expected && presented !== undefined && matchesAnyKey(presented, [this.expected])) {
      request.adminKeyFingerprint = this.fingerprint;
      return true;
    }
    await this.failures.recordFailure(address);
    response.setHeader('WWW-Authenticate', 'Bearer realm="opentact-bridge"');
    throw new UnauthorizedException({
      statusCode: 401,
      error: 'Unauthorized',
      message: !this.expected
        ? 'the admin API is disabled: ADMIN_API_KEY is not set for this process'
        : presented === undefined
          ? 'missing admin API key: send "Authorization: Bearer <ADMIN_API_KEY>"'
          : 'invalid admin API key',
    });
  }
}
