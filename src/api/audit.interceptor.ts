import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Logger } from 'pino';
import { type Observable, tap } from 'rxjs';
import { InjectLogger } from '../logging/logging.module';

const AUDIT_ACTION = 'otb:audit-action';

interface AuditedRequest {
  id?: string;
  params?: Record<string, string | undefined>;
  adminKeyFingerprint?: string;
}

/**
 * Every change made through the admin API leaves one `audit` log line once it has succeeded: who
 * (the key's fingerprint, never the key), what (the action), which (the id it acted on), and the
 * request id. Never the request body: it may hold a signing secret.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger: Logger;

  constructor(
    private readonly reflector: Reflector,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'audit' });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<string | undefined>(AUDIT_ACTION, context.getHandler());
    if (!action) {
      return next.handle();
    }
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    return next.handle().pipe(
      tap((result: unknown) => {
        const created =
          typeof result === 'object' && result !== null && 'id' in result ? result.id : undefined;
        this.logger.info(
          {
            audit: true,
            action,
            actor: request.adminKeyFingerprint ?? 'unknown',
            target: request.params?.id ?? (typeof created === 'string' ? created : undefined),
            requestId: request.id,
          },
          'audit',
        );
      }),
    );
  }
}

/** Marks a route as a change to audit, named `action` (such as `subscription.update`). */
export function Audit(action: string): MethodDecorator {
  return applyDecorators(SetMetadata(AUDIT_ACTION, action), UseInterceptors(AuditInterceptor));
}
