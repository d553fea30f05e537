import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { DeliveryWorkers } from '../delivery/delivery-workers.service';
import { EventLog } from '../events/event-log';
import { OpentactConnection } from '../platform/opentact-connection.service';
import { InjectRedis } from '../redis/redis.module';
import { Lifecycle } from './lifecycle.service';

const REDIS_PING_TIMEOUT_MS = 1_000;

/** Readiness checks. Each says what is wrong in its `message`, so a failed probe explains itself. */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    @InjectRedis() private readonly redis: Redis,
    @Optional() @Inject(OpentactConnection) private readonly connection?: OpentactConnection,
    @Optional() @Inject(DeliveryWorkers) private readonly workers?: DeliveryWorkers,
    @Optional() @Inject(EventLog) private readonly log?: EventLog,
  ) {}

  lifecycleCheck(): HealthIndicatorResult {
    const check = this.health.check('lifecycle');
    return this.lifecycle.shuttingDown
      ? check.down({ message: 'shutting down: finishing in-flight work' })
      : check.up();
  }

  async redisCheck(): Promise<HealthIndicatorResult> {
    const check = this.health.check('redis');
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer to PING within ${REDIS_PING_TIMEOUT_MS} ms`)),
            REDIS_PING_TIMEOUT_MS,
          );
        }),
      ]);
      return check.up({ latencyMs: Date.now() - started });
    } catch (error) {
      return check.down({ message: error instanceof Error ? error.message : String(error) });
    } finally {
      clearTimeout(timer);
    }
  }

  opentactCheck(): HealthIndicatorResult | undefined {
    if (!this.connection) {
      return undefined;
    }
    const check = this.health.check('opentact');
    const status = this.connection.status();
    if (status.authenticated) {
      return check.up({
        state: status.state,
        connectedSince: status.connectedSince,
        lastFrameAt: status.lastFrameAt,
        paused: status.paused,
      });
    }
    const reason = status.lastError === undefined ? '' : `: ${status.lastError}`;
    return check.down({
      message: `Opentact WSS not authenticated (state: ${status.state})${reason}`,
      state: status.state,
      reconnectCount: status.reconnectCount,
      authFailures: status.authFailures,
      lastError: status.lastError,
      lastErrorAt: status.lastErrorAt,
    });
  }

  /**
   * Events of a kind nobody subscribed to never arrive, so a subscription that cannot be ensured
   * makes ingest unready until a retry succeeds. Absent when OPENTACT_SUBSCRIBE is empty.
   */
  opentactSubscriptionsCheck(): HealthIndicatorResult | undefined {
    const subscriptions = this.connection?.status().subscriptions;
    if (!subscriptions || subscriptions.state === 'disabled') {
      return undefined;
    }
    const check = this.health.check('opentact_subscriptions');
    const { state, failures, lastError, lastEnsuredAt, nextAttemptAt } = subscriptions;
    if (state === 'failing') {
      return check.down({
        message: `could not ensure the Opentact event subscriptions (${failures} failed attempts): ${lastError ?? 'unknown error'}`,
        state,
        failures,
        lastEnsuredAt,
        nextAttemptAt,
      });
    }
    return check.up({ state, lastEnsuredAt, nextAttemptAt });
  }

  /**
   * The event log against its byte budget. Stays up when events deliveries wait for exceeded it
   * (an unready pod would hide the admin API an operator needs then) but says so in its message
   * and `overBudget`; Redis being away is the redis check's to report.
   */
  async eventLogCheck(): Promise<HealthIndicatorResult> {
    const check = this.health.check('event_log');
    if (!this.log) {
      return check.up();
    }
    let retention: Awaited<ReturnType<EventLog['retention']>>;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Redis away must not hold the probe up: the redis check says so within its second.
      retention = await Promise.race([
        this.log.retention(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${REDIS_PING_TIMEOUT_MS} ms`)),
            REDIS_PING_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      return check.up({
        message: `could not read: ${error instanceof Error ? error.message : String(error)}`,
      });
    } finally {
      clearTimeout(timer);
    }
    const { bytes, budgetBytes, heldDeliveries, overBudget } = retention;
    if (overBudget) {
      return check.up({
        message: `over its byte budget (EVENT_RETENTION_MAX_BYTES=${budgetBytes}) since ${overBudget.since}: ${overBudget.evicted} events evicted while deliveries waited for them; those deliveries are skipped`,
        bytes,
        budgetBytes,
        heldDeliveries,
        overBudget,
      });
    }
    return check.up({ bytes, budgetBytes, heldDeliveries });
  }

  workersCheck(): HealthIndicatorResult | undefined {
    if (!this.workers) {
      return undefined;
    }
    const check = this.health.check('workers');
    return this.workers.running
      ? check.up()
      : check.down({ message: 'workers are not consuming (waiting for Redis, or stopping)' });
  }
}
