import type { Readiness } from '../admin-api.types';
import { ApiError, UnreachableError } from '../cli-errors';
import {
  HealthMetricsStatusSource,
  statusFromHealthAndMetrics,
} from './health-metrics.status-source';
import { parsePrometheusText } from './prometheus-text.parser';

const READY: Readiness = {
  status: 'ok',
  details: {
    redis: { status: 'up', latencyMs: 1 },
    opentact: {
      status: 'up',
      state: 'open',
      connectedSince: '2026-11-30T10:00:00.000Z',
      paused: false,
    },
  },
};

const NOT_READY: Readiness = {
  status: 'error',
  details: {
    redis: { status: 'up', latencyMs: 1 },
    opentact: {
      status: 'down',
      message: 'Opentact WSS not authenticated (state: connecting)',
      state: 'connecting',
      reconnectCount: 4,
    },
  },
};

const SCRAPE = `
otb_opentact_connection_state{state="connecting"} 0
otb_opentact_connection_state{state="open"} 1
otb_opentact_connection_state{state="closed"} 0
otb_opentact_reconnects_total 2
otb_opentact_auth_failures_total 1
otb_opentact_dead_peers_total 0
otb_ingest_paused 1
otb_queue_jobs{queue="events",state="waiting"} 4
otb_queue_jobs{queue="events",state="failed"} 0
otb_queue_jobs{queue="deliveries",state="delayed"} 9
otb_deliveries_total{outcome="success",status_class="2xx"} 10
otb_deliveries_total{outcome="retry",status_class="5xx"} 3
otb_deliveries_total{outcome="retry",status_class="none"} 1
otb_frames_received_total{frame_type="call"} 5
otb_frames_received_total{frame_type="sms"} 2
otb_events_enqueued_total{event_type="call.live"} 6
otb_events_duplicates_total 1
`;

describe('statusFromHealthAndMetrics', () => {
  it('reads readiness, connection, queue depths and counters', () => {
    const report = statusFromHealthAndMetrics(READY, 200, parsePrometheusText(SCRAPE));
    expect(report.ready).toBe(true);
    expect(report.checks).toEqual([
      { name: 'redis', up: true, message: undefined, details: { latencyMs: 1 } },
      {
        name: 'opentact',
        up: true,
        message: undefined,
        details: { state: 'open', connectedSince: '2026-11-30T10:00:00.000Z', paused: false },
      },
    ]);
    expect(report.connection).toEqual({
      state: 'open',
      reconnects: 2,
      authFailures: 1,
      deadPeers: 0,
      paused: true,
    });
    expect(report.queues).toEqual([
      { name: 'events', jobs: { waiting: 4, failed: 0 } },
      { name: 'deliveries', jobs: { delayed: 9 } },
    ]);
    expect(report.deliveries).toEqual({ success: 10, retry: 4 });
    expect(report.events).toEqual({
      framesReceived: 7,
      eventsEnqueued: 6,
      duplicates: 1,
      quarantined: 0,
    });
  });

  it('is not ready on a 503, and keeps the failing check’s message', () => {
    const report = statusFromHealthAndMetrics(NOT_READY, 503, []);
    expect(report.ready).toBe(false);
    expect(report.checks[1]).toEqual({
      name: 'opentact',
      up: false,
      message: 'Opentact WSS not authenticated (state: connecting)',
      details: { state: 'connecting', reconnectCount: 4 },
    });
    expect(report.connection).toBeUndefined();
  });

  it('has no connection without the ingest role’s gauge, and no counters without a scrape', () => {
    const report = statusFromHealthAndMetrics(READY, 200, undefined, ['metrics not available']);
    expect(report.connection).toBeUndefined();
    expect(report.events).toBeUndefined();
    expect(report.notes).toEqual(['metrics not available']);
  });
});

describe('HealthMetricsStatusSource', () => {
  it('reports without metrics when /metrics refuses, saying why', async () => {
    const source = new HealthMetricsStatusSource({
      readiness: () => Promise.resolve({ status: 200, body: READY }),
      metrics: () => Promise.reject(new ApiError(401, 'Unauthorized', 'invalid admin API key')),
    });
    const report = await source.read();
    expect(report.ready).toBe(true);
    expect(report.notes).toEqual([
      'metrics not available (401 Unauthorized): invalid admin API key',
    ]);
  });

  it('lets an unreachable service fail the command', async () => {
    const source = new HealthMetricsStatusSource({
      readiness: () =>
        Promise.reject(new UnreachableError('http://127.0.0.1:3000', 'connection refused')),
      metrics: () => Promise.resolve({ status: 200, body: '' }),
    });
    await expect(source.read()).rejects.toBeInstanceOf(UnreachableError);
  });
});
