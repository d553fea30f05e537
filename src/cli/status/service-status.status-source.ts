import type { ApiReply } from '../admin-api.client';
import { connectionProblem } from '../../api-contract/connection-problem';
import type { Readiness, ServiceStatus } from '../admin-api.types';
import { ApiError } from '../cli-errors';
import {
  type HealthAndMetricsApi,
  HealthMetricsStatusSource,
  statusFromHealthAndMetrics,
} from './health-metrics.status-source';
import type { StatusReport, StatusSource } from './status-report';

/** The calls this source needs; the admin API client provides them. */
export interface ServiceStatusApi extends HealthAndMetricsApi {
  status(): Promise<ApiReply<ServiceStatus>>;
}

/**
 * The status of the whole service: readiness from the process that answered, everything else
 * from GET /v1/status, which every process feeds (queues, each ingest process's link, the last
 * hour of deliveries by every worker). A service without that endpoint (404) is read the older
 * way, from the answering process's /metrics.
 */
export class ServiceStatusSource implements StatusSource {
  constructor(private readonly api: ServiceStatusApi) {}

  async read(): Promise<StatusReport> {
    const readiness = await this.api.readiness();
    let status: ServiceStatus;
    try {
      status = (await this.api.status()).body;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        return new HealthMetricsStatusSource(this.api).read();
      }
      throw error;
    }
    return statusFromService(readiness.body, readiness.status, status);
  }
}

/** Pure: readiness (200 or 503) and GET /v1/status, to the report. */
export function statusFromService(
  readiness: Readiness,
  httpStatus: number,
  status: ServiceStatus,
): StatusReport {
  const report = statusFromHealthAndMetrics(readiness, httpStatus, undefined);
  const { opentact, events, deliveries, subscriptions, quarantine, recovery } = status;
  report.connection = {
    state: opentact.state,
    instances: opentact.connections.map((c) => ({
      instance: c.instance,
      state: c.state,
      reconnects: c.reconnects,
      paused: c.paused,
      lastFrameAt: c.lastFrameAt,
      reportedAt: c.reportedAt,
      authFailures: c.authFailures,
      problem: connectionProblem(c),
    })),
  };
  report.queues = [{ name: 'deliveries', jobs: { ...deliveries.queue } }];
  report.deliveries = { ...deliveries.lastHour };
  report.deliveriesCountedBy = 'last-hour';
  report.pipeline = {
    backlog: events.backlog,
    inFanOut: events.inFanOut,
    retained: events.retained,
  };
  // A service from before the byte budget reports neither.
  const retention = (events as Partial<typeof events>).retention;
  if (retention) {
    report.pipeline.retention = {
      bytes: retention.bytes,
      budgetBytes: retention.budgetBytes,
      heldDeliveries: retention.heldDeliveries,
      overBudget: retention.overBudget
        ? { since: retention.overBudget.since, evicted: retention.overBudget.evicted }
        : undefined,
    };
  }
  const skipped = (deliveries as Partial<typeof deliveries>).skipped;
  if (skipped !== undefined) {
    report.pipeline.skipped = skipped;
  }
  report.subscriptions = { ...subscriptions };
  report.quarantined = quarantine.total;
  report.recovery = {
    openGaps: recovery.openGaps,
    lastGap: recovery.lastGap
      ? {
          gapFrom: recovery.lastGap.gapFrom,
          gapTo: recovery.lastGap.gapTo,
          gapSeconds: recovery.lastGap.gapSeconds,
          truncated: recovery.lastGap.truncated,
        }
      : undefined,
  };
  return report;
}
