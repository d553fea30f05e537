import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventLog } from '../events/event-log';
import { DeliveryQueue, QUEUE_STATES } from '../queue/delivery-queue';
import { MetricsService } from './metrics.service';

/** Prometheus scrape endpoint; queue depths are read from Redis at scrape time. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly log: EventLog,
    private readonly deliveries: DeliveryQueue,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    // Redis away: keep the last values; readiness reports the outage.
    await Promise.all([
      this.deliveries.counts().then(
        (counts) => {
          for (const state of QUEUE_STATES) {
            this.metrics.queueDepth.set({ queue: this.deliveries.name, state }, counts[state]);
          }
        },
        () => undefined,
      ),
      this.log.stats().then(
        (stats) => {
          this.metrics.eventLogEntries.set(stats.length);
          this.metrics.eventsInFanOut.set(stats.pending);
          if (stats.backlog !== undefined) {
            this.metrics.eventsBacklog.set(stats.backlog);
          }
          const { retention } = stats;
          this.metrics.eventLogBytes.set(retention.bytes);
          this.metrics.eventLogBudgetBytes.set(retention.budgetBytes);
          this.metrics.eventLogHeldDeliveries.set(retention.heldDeliveries);
          this.metrics.eventLogOverBudget.set(retention.overBudget ? 1 : 0);
        },
        () => undefined,
      ),
    ]);
    return this.metrics.registry.metrics();
  }
}
