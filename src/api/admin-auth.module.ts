import { Module } from '@nestjs/common';
import { AdminApiKeyGuard } from './admin-api-key.guard';
import { AuthFailureLimiter } from './auth-failure-limiter';

/**
 * The admin key guard and what it needs. Every module with routes behind the admin key imports
 * this (guards resolve their dependencies in the controller's module). Needs the global
 * ConfigModule and RedisModule.
 */
@Module({
  providers: [AuthFailureLimiter, AdminApiKeyGuard],
  exports: [AuthFailureLimiter, AdminApiKeyGuard],
})
export class AdminAuthModule {}
