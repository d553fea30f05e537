import { Injectable } from '@nestjs/common';
import { DeliveryRecordRepository } from '../delivery/delivery-record.repository';
import { EventLog } from '../events/event-log';
import { QuarantineRepository } from '../events/quarantine.repository';
import {
  type ConnectionReport,
  type DeliveryOutcomeName,
  type MinuteCounts,
  OperationalStatsRepository,
} from '../metrics/operational-stats.repository';
import { DeliveryQueue } from '../queue/delivery-queue';
import { RecoveryStateRepository } from '../recovery/recovery-state.repository';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { SERVICE_VERSION } from '../version';
import type { StatusDto } from './dto/status.dto';

/**
 * Everything an operator looks at first, from whichever process serves the request: the
 * Opentact connection of every ingest process, what waits in the event log and the deliveries
 * queue, the last hour of delivery outcomes across all workers, subscriptions, quarantine, and the
 * last gap in the event stream recovered over Opentact's REST searches.
 */
@Injectable()
export class StatusService {
  constructor(
    private readonly stats: OperationalStatsRepository,
    private readonly log: EventLog,
    private readonly queue: DeliveryQueue,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly quarantine: QuarantineRepository,
    private readonly recovery: RecoveryStateRepository,
    private readonly records: DeliveryRecordRepository,
  ) {}

  async status(nowMs = Date.now()): Promise<StatusDto> {
    const [connections, log, jobs, perMinute, all, quarantine, lastGap, openGaps, skipped] =
      await Promise.all([
        this.stats.connections(nowMs),
        this.log.stats(),
        this.queue.counts(),
        this.stats.deliveriesPerMinute(nowMs),
        this.subscriptions.listAll(),
        // One entry read: the page carries the total.
        this.quarantine.list(0, 1),
        this.recovery.lastReport(),
        this.recovery.openClaims(),
        this.records.countSkipped(),
      ]);
    return {
      version: SERVICE_VERSION,
      time: new Date(nowMs).toISOString(),
      opentact: {
        state: summaryState(connections),
        connections: connections.sort((a, b) => a.instance.localeCompare(b.instance)),
      },
      events: {
        backlog: log.backlog ?? null,
        inFanOut: log.pending,
        retained: log.length,
        retention: {
          bytes: log.retention.bytes,
          budgetBytes: log.retention.budgetBytes,
          heldDeliveries: log.retention.heldDeliveries,
          overBudget: log.retention.overBudget ?? null,
        },
      },
      deliveries: {
        queue: jobs,
        lastHour: totals(perMinute),
        perMinute,
        skipped,
      },
      subscriptions: {
        total: all.length,
        enabled: all.filter((s) => s.enabled).length,
        disabled: all.filter((s) => !s.enabled).length,
        failing: all.filter((s) => s.enabled && s.failingSince !== undefined).length,
      },
      quarantine: { total: quarantine.total },
      recovery: { lastGap: lastGap ?? null, openGaps },
    };
  }
}

/** `open` when some ingest process is authenticated, `down` when none is, `unknown` without reports. */
function summaryState(connections: ConnectionReport[]): 'open' | 'down' | 'unknown' {
  if (connections.length === 0) {
    return 'unknown';
  }
  return connections.some((c) => c.authenticated) ? 'open' : 'down';
}

function totals(perMinute: MinuteCounts[]): Record<DeliveryOutcomeName, number> {
  const sum: Record<DeliveryOutcomeName, number> = {
    success: 0,
    retry: 0,
    dead: 0,
    disabled: 0,
    skipped: 0,
  };
  for (const minute of perMinute) {
    for (const key of Object.keys(sum) as DeliveryOutcomeName[]) {
      sum[key] += minute.counts[key];
    }
  }
  return sum;
}
