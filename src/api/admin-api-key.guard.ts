import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { bearerToken, digestKey, matchesAnyKey } from './api-keys';

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
}

interface HttpResponseLike {
  setHeader(name: string, value: string): unknown;
}

/**
 * `Authorization: Bearer <ADMIN_API_KEY>` on every /v1 route. Both sides are hashed first so the
 * comparison is constant-time whatever the lengths. The key itself is never logged nor echoed.
 */
@Injectable()
export class AdminApiKeyGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(config: AppConfig) {
    this.expected = config.adminApiKey ? digestKey(config.adminApiKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const presented = bearerToken(request.headers.authorization);
    if (this.expected && presented !== undefined && matchesAnyKey(presented, [this.expected])) {
      return true;
    }
    http
      .getResponse<HttpResponseLike>()
      .setHeader('WWW-Authenticate', 'Bearer realm="opentact-bridge"');
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
