import type { Readiness, ReadinessCheck } from '../admin-api.types';
import type { ApiReply } from '../admin-api.client';
import { ApiError } from '../cli-errors';
import { type MetricSample, parsePrometheusText, sumBy, sumOf } from './prometheus-text.parser';
import type { StatusCheck, StatusReport, StatusSource } from './status-report';

/** The two calls this source needs; the admin API client provides them. */
export interface HealthAndMetricsApi {
  readiness(): Promise<ApiReply<Readiness>>;
  metrics(): Promise<ApiReply<string>>;
}

/** The status as /health/ready and /metrics tell it: for a service without GET /v1/status. */
export class HealthMetricsStatusSource implements StatusSource {
  constructor(private readonly api: HealthAndMetricsApi) {}

  async read(): Promise<StatusReport> {
    const readiness = await this.api.readiness();
    const notes: string[] = [];
    let samples: MetricSample[] | undefined;
    try {
      samples = parsePrometheusText((await this.api.metrics()).body);
    } catch (error) {
      if (!(error instanceof ApiError)) {
        throw error;
      }
      notes.push(
        `metrics not available (${error.status} ${error.statusText}): ${error.apiMessage}`,
      );
    }
    return statusFromHealthAndMetrics(readiness.body, readiness.status, samples, notes);
  }
}

function checkOf(name: string, check: ReadinessCheck): StatusCheck {
  const { status, message, ...rest } = check;
  const details: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      details[key] = value;
    }
  }
  return {
    name,
    up: status === 'up',
    message: typeof message === 'string' ? message : undefined,
    details,
  };
}

/** Pure: readiness (200 or 503) and a parsed scrape, to the report. */
export function statusFromHealthAndMetrics(
  readiness: Readiness,
  httpStatus: number,
  samples: MetricSample[] | undefined,
  notes: string[] = [],
): StatusReport {
  const checks = Object.entries(readiness.details ?? { ...readiness.info, ...readiness.error }).map(
    ([name, check]) => checkOf(name, check),
  );
  const report: StatusReport = {
    ready: httpStatus === 200 && readiness.status === 'ok',
    checks,
    queues: [],
    deliveries: {},
    deliveriesCountedBy: 'process',
    notes: [...notes],
  };
  if (!samples) {
    return report;
  }

  const states = samples.filter((s) => s.name === 'otb_opentact_connection_state');
  const current = states.find((s) => s.value === 1)?.labels.state;
  if (current !== undefined) {
    const paused = sumOf(samples, 'otb_ingest_paused');
    report.connection = {
      state: current,
      reconnects: sumOf(samples, 'otb_opentact_reconnects_total'),
      authFailures: sumOf(samples, 'otb_opentact_auth_failures_total'),
      deadPeers: sumOf(samples, 'otb_opentact_dead_peers_total'),
      paused: paused === undefined ? undefined : paused > 0,
    };
  }

  const queues = new Map<string, Record<string, number>>();
  for (const s of samples) {
    if (s.name === 'otb_queue_jobs' && s.labels.queue && s.labels.state) {
      const jobs = queues.get(s.labels.queue) ?? {};
      jobs[s.labels.state] = s.value;
      queues.set(s.labels.queue, jobs);
    }
  }
  report.queues = [...queues].map(([name, jobs]) => ({ name, jobs }));
  report.deliveries = Object.fromEntries(sumBy(samples, 'otb_deliveries_total', 'outcome'));
  // A labelled counter has no sample before its first increment: absent means none yet.
  report.events = {
    framesReceived: sumOf(samples, 'otb_frames_received_total') ?? 0,
    eventsEnqueued: sumOf(samples, 'otb_events_enqueued_total') ?? 0,
    duplicates: sumOf(samples, 'otb_events_duplicates_total') ?? 0,
    quarantined: sumOf(samples, 'otb_frames_quarantined_total') ?? 0,
  };
  return report;
}
