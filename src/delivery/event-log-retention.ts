import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { EventLog, type ReleasedHold, type TrimResult } from '../events/event-log';
import { EventType } from '../events/event-type.enum';
import { InjectLogger } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { OperationalStatsRepository } from '../metrics/operational-stats.repository';
import { DeliveryRecordRepository } from './delivery-record.repository';
import { DeliveryStatus } from './delivery.model';
import { OperationalEvents } from './operational-events';

/** Data of `bridge.event_log.over_budget`. */
export interface EventLogOverBudgetData {
  /** When held events alone first exceeded the budget, in this episode. */
  since: string;
  bytes: number;
  budgetBytes: number;
  /** Events evicted by this trim, and deliveries recorded as skipped with them. */
  evictedEvents: number;
  skippedDeliveries: number;
}

export const OVER_BUDGET_REASON =
  'event evicted from the log: held events exceeded EVENT_RETENTION_MAX_BYTES';
export const GONE_REASON = 'event no longer retained';

/** Every this many trims, the oldest holds are checked against their records. */
const AUDIT_EVERY = 12;
const AUDIT_HOLDS = 100;
const OPEN: ReadonlySet<DeliveryStatus | undefined> = new Set([
  DeliveryStatus.Pending,
  DeliveryStatus.Failing,
]);

/**
 * Trims the event log and answers for what trimming could not keep. The log keeps every event a
 * delivery can still be attempted for; only when those events alone exceed the byte budget are
 * the oldest evicted. Then every delivery that loses its event is recorded as skipped with the
 * reason (listed by GET /v1/deliveries?status=skipped, counted in /v1/status), and the bridge
 * says so: an error log, otb_event_log_evicted_total, the over-budget mark readiness and
 * /v1/status read, and one `bridge.event_log.over_budget` event per episode.
 */
@Injectable()
export class EventLogRetention {
  private readonly logger: Logger;
  private trims = 0;

  constructor(
    private readonly log: EventLog,
    private readonly records: DeliveryRecordRepository,
    private readonly metrics: MetricsService,
    private readonly stats: OperationalStatsRepository,
    private readonly operational: OperationalEvents,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'event-log-retention' });
  }

  async enforce(nowMs = Date.now()): Promise<TrimResult> {
    if (this.trims++ % AUDIT_EVERY === 0) {
      await this.releaseStaleHolds();
    }
    const result = await this.log.trim(nowMs);
    const skipped = await this.skipReleased(result.released, nowMs);
    if (result.overBudget || result.evicted > 0) {
      this.metrics.eventLogEvicted.inc(result.evicted);
      const sinceMs = await this.log.markOverBudget(nowMs, result.evicted);
      this.logger.error(
        {
          bytes: result.bytes,
          budgetBytes: result.budgetBytes,
          evictedEvents: result.evicted,
          skippedDeliveries: skipped,
        },
        'event log over its byte budget with events deliveries still wait for: the oldest were evicted and their deliveries skipped (raise EVENT_RETENTION_MAX_BYTES, or fix or disable the failing endpoints)',
      );
      const data: EventLogOverBudgetData = {
        since: new Date(sinceMs).toISOString(),
        bytes: result.bytes,
        budgetBytes: result.budgetBytes,
        evictedEvents: result.evicted,
        skippedDeliveries: skipped,
      };
      // One per episode: every worker that sees it derives the same id from its start.
      await this.operational.emit(
        EventType.BridgeEventLogOverBudget,
        `bridge.event_log.over_budget.${sinceMs}`,
        data.since,
        data,
      );
    }
    return result;
  }

  /**
   * A hold whose delivery ended without its record saying so, or whose record expired, would keep
   * its event for ever: the oldest holds are checked now and then, and those are dropped.
   */
  private async releaseStaleHolds(): Promise<void> {
    const ids = await this.log.oldestHolds(AUDIT_HOLDS);
    if (ids.length === 0) {
      return;
    }
    const statuses = await this.records.statuses(ids);
    const stale = ids.filter((_, i) => !OPEN.has(statuses[i]));
    if (stale.length > 0) {
      await this.log.releaseHolds(stale);
      this.logger.warn(
        { holds: stale.length, sample: stale.slice(0, 5) },
        'released holds on the event log whose delivery had ended or whose record had expired',
      );
    }
  }

  /** Records as skipped the deliveries that lost their event; returns how many it recorded. */
  private async skipReleased(released: readonly ReleasedHold[], nowMs: number): Promise<number> {
    if (released.length === 0) {
      return 0;
    }
    let total = 0;
    for (const [cause, reason] of [
      ['over-budget', OVER_BUDGET_REASON],
      ['gone', GONE_REASON],
    ] as const) {
      const ids = released.filter((r) => r.cause === cause).map((r) => r.deliveryId);
      if (ids.length === 0) {
        continue;
      }
      const skipped = await this.records.skipOpen(ids, nowMs, reason);
      for (let i = 0; i < skipped.length; i++) {
        this.stats.countDelivery('skipped', nowMs);
      }
      if (skipped.length > 0) {
        this.metrics.deliveries.inc({ outcome: 'skipped', status_class: 'none' }, skipped.length);
        this.logger.warn(
          { deliveries: skipped.length, sample: skipped.slice(0, 5), reason },
          'deliveries skipped: their event left the log',
        );
      }
      total += skipped.length;
    }
    return total;
  }
}
