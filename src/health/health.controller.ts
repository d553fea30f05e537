import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { ReadinessIndicators } from './health.indicators';

/**
 * Liveness never looks at dependencies: restarting the pod does not bring Redis back. Readiness
 * does, per role: Redis for everyone, the authenticated WSS for ingest, running workers for worker.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: ReadinessIndicators,
  ) {}

  @Get('live')
  live(): { status: 'ok'; uptimeSeconds: number } {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const checks: (() => HealthIndicatorResult | Promise<HealthIndicatorResult>)[] = [
      () => this.indicators.lifecycleCheck(),
      () => this.indicators.redisCheck(),
    ];
    const opentact = this.indicators.opentactCheck();
    if (opentact) {
      checks.push(() => this.indicators.opentactCheck()!);
    }
    if (this.indicators.opentactSubscriptionsCheck()) {
      checks.push(() => this.indicators.opentactSubscriptionsCheck()!);
    }
    checks.push(() => this.indicators.eventLogCheck());
    const workers = this.indicators.workersCheck();
    if (workers) {
      checks.push(() => this.indicators.workersCheck()!);
    }
    return this.health.check(checks);
  }
}
