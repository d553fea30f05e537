import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Queue } from 'bullmq';
import { QueueName } from '../queue/queue.constants';
import { MetricsService } from './metrics.service';

const STATES = ['waiting', 'delayed', 'active', 'failed', 'completed', 'prioritized'] as const;

/** Prometheus scrape endpoint; queue depths are read from Redis at scrape time. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @InjectQueue(QueueName.Events) private readonly events: Queue,
    @InjectQueue(QueueName.Deliveries) private readonly deliveries: Queue,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    await Promise.all(
      [this.events, this.deliveries].map(async (queue) => {
        try {
          const counts = await queue.getJobCounts(...STATES);
          for (const state of STATES) {
            this.metrics.queueDepth.set({ queue: queue.name, state }, counts[state] ?? 0);
          }
        } catch {
          // Redis is away: keep the last values; readiness reports the outage.
        }
      }),
    );
    return this.metrics.registry.metrics();
  }
}
