import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  DELIVERY_OUTCOME_LABELS,
  EVENT_TYPE_LABELS,
  FRAME_TYPE_LABELS,
  QUARANTINE_REASON_LABELS,
  STREAM_CLOSE_REASON_LABELS,
  SUBSCRIPTION_DISABLED_REASON_LABELS,
} from './label-values';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Every series the service exports, in one registry (not prom-client's global one, so tests and
 * several app instances in one process do not collide). Label values are bounded sets: event
 * types, reasons, outcomes and status classes, never ids or URLs.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly framesReceived = new Counter({
    name: 'otb_frames_received_total',
    help: 'WSS frames read from Opentact, by Opentact frame type',
    labelNames: ['frame_type'] as const,
    registers: [this.registry],
  });
  readonly eventsEnqueued = new Counter({
    name: 'otb_events_enqueued_total',
    help: 'Normalised events added to the events queue, by event type',
    labelNames: ['event_type'] as const,
    registers: [this.registry],
  });
  readonly duplicatesSuppressed = new Counter({
    name: 'otb_events_duplicates_total',
    help: 'Events read from the WSS and not enqueued because the same event is already retained (recovered ones: otb_recovery_events_total)',
    registers: [this.registry],
  });
  readonly framesQuarantined = new Counter({
    name: 'otb_frames_quarantined_total',
    help: 'Frames refused by the normaliser and kept in quarantine, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly enqueueErrors = new Counter({
    name: 'otb_enqueue_errors_total',
    help: 'Failed attempts to write an event or a quarantined frame to Redis (each is retried)',
    registers: [this.registry],
  });
  readonly connectionState = new Gauge({
    name: 'otb_opentact_connection_state',
    help: '1 for the current state of the Opentact WSS connection, 0 for the others',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'otb_opentact_reconnects_total',
    help: 'Reconnections to the Opentact WSS',
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'otb_opentact_auth_failures_total',
    help: 'Failed WSS authentications (refused, timed out, or closed before the acknowledgement)',
    registers: [this.registry],
  });
  readonly subscriptionErrors = new Counter({
    name: 'otb_opentact_subscription_errors_total',
    help: 'Failed attempts to ensure the OPENTACT_SUBSCRIBE event subscriptions (each is retried)',
    registers: [this.registry],
  });
  readonly recoveryGaps = new Counter({
    name: 'otb_recovery_gaps_total',
    help: 'Gaps in the Opentact event stream claimed for recovery over the REST searches',
    registers: [this.registry],
  });
  readonly recoveryEvents = new Counter({
    name: 'otb_recovery_events_total',
    help: 'Events recovered over the REST searches, by event type and outcome (appended, duplicate)',
    labelNames: ['event_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly recoveryErrors = new Counter({
    name: 'otb_recovery_errors_total',
    help: 'Failed Opentact REST searches while recovering a gap (each is retried with backoff)',
    registers: [this.registry],
  });
  readonly deadPeers = new Counter({
    name: 'otb_opentact_dead_peers_total',
    help: 'WSS connections terminated because a ping got no pong in time',
    registers: [this.registry],
  });
  readonly ingestPaused = new Gauge({
    name: 'otb_ingest_paused',
    help: '1 while WSS reading is paused because the ingest buffer is full',
    registers: [this.registry],
  });
  readonly ingestPauses = new Counter({
    name: 'otb_ingest_pauses_total',
    help: 'Times WSS reading was paused for backpressure',
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'otb_deliveries_total',
    help: 'Webhook delivery attempts by outcome (success, retry, dead, disabled, skipped) and status class',
    labelNames: ['outcome', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'otb_delivery_attempt_duration_seconds',
    help: 'Duration of one webhook HTTP attempt',
    labelNames: ['status_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly endToEndLatency = new Histogram({
    name: 'otb_end_to_end_latency_seconds',
    help: 'From the frame read off the WSS to the 2xx of its webhook',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'otb_queue_jobs',
    help: 'Jobs of the deliveries queue (retries, and attempts to failing or slow endpoints) per state',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });
  readonly eventsBacklog = new Gauge({
    name: 'otb_events_backlog',
    help: 'Events ingested and not yet read by the fan-out',
    registers: [this.registry],
  });
  readonly eventsInFanOut = new Gauge({
    name: 'otb_events_in_fan_out',
    help: 'Events read by a fan-out consumer and not yet finished (in flight, or abandoned by a stopped worker)',
    registers: [this.registry],
  });
  readonly eventLogEntries = new Gauge({
    name: 'otb_event_log_entries',
    help: 'Events held in the event log (queued, in flight and retained)',
    registers: [this.registry],
  });
  readonly eventLogBytes = new Gauge({
    name: 'otb_event_log_bytes',
    help: 'Bytes of the event log entries (fields and values), against EVENT_RETENTION_MAX_BYTES',
    registers: [this.registry],
  });
  readonly eventLogBudgetBytes = new Gauge({
    name: 'otb_event_log_budget_bytes',
    help: 'EVENT_RETENTION_MAX_BYTES: the bytes the event log may hold',
    registers: [this.registry],
  });
  readonly eventLogHeldDeliveries = new Gauge({
    name: 'otb_event_log_held_deliveries',
    help: 'Deliveries (pending, or failing with a retry scheduled) holding their event in the log',
    registers: [this.registry],
  });
  readonly eventLogOverBudget = new Gauge({
    name: 'otb_event_log_over_budget',
    help: '1 while (and 15 minutes after) events deliveries wait for exceeded EVENT_RETENTION_MAX_BYTES',
    registers: [this.registry],
  });
  readonly eventLogEvicted = new Counter({
    name: 'otb_event_log_evicted_total',
    help: 'Events removed from the log while deliveries still waited for them (over the byte budget); each such delivery is recorded as skipped',
    registers: [this.registry],
  });
  readonly fanOutErrors = new Counter({
    name: 'otb_fan_out_errors_total',
    help: 'Fan-outs of an event that failed (each is retried by claiming the event again)',
    registers: [this.registry],
  });
  readonly fanOutAbandoned = new Counter({
    name: 'otb_fan_out_abandoned_total',
    help: 'Events given up after failing to fan out too many times',
    registers: [this.registry],
  });
  readonly streamClients = new Gauge({
    name: 'otb_stream_clients',
    help: 'Clients connected to GET /v1/stream on this process (authenticated or not yet)',
    registers: [this.registry],
  });
  readonly streamMessages = new Counter({
    name: 'otb_stream_messages_total',
    help: 'Events sent to live stream clients',
    registers: [this.registry],
  });
  readonly streamClosed = new Counter({
    name: 'otb_stream_closed_total',
    help: 'Stream clients closed by the server, by reason (slow, catch_up, auth, since, bad_message, shutdown)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly subscriptionPauses = new Counter({
    name: 'otb_subscription_pauses_total',
    help: 'Times a receiver paused its subscription with 429 or 503 and Retry-After',
    registers: [this.registry],
  });
  readonly subscriptionsDisabled = new Counter({
    name: 'otb_subscriptions_disabled_total',
    help: 'Subscriptions disabled automatically, by reason (gone, failing)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'otb_' });
    this.startAtZero();
  }

  /**
   * Every labelled counter starts at 0 for each label value it can take, so the series exist
   * from the first scrape: `rate()` and `increase()` see the first event instead of a series
   * appearing at 1, and alerts on "no deliveries" have something to compare.
   */
  private startAtZero(): void {
    for (const frame_type of FRAME_TYPE_LABELS) {
      this.framesReceived.inc({ frame_type }, 0);
    }
    for (const event_type of EVENT_TYPE_LABELS) {
      this.eventsEnqueued.inc({ event_type }, 0);
    }
    for (const reason of QUARANTINE_REASON_LABELS) {
      this.framesQuarantined.inc({ reason }, 0);
    }
    for (const labels of DELIVERY_OUTCOME_LABELS) {
      this.deliveries.inc(labels, 0);
    }
    for (const reason of SUBSCRIPTION_DISABLED_REASON_LABELS) {
      this.subscriptionsDisabled.inc({ reason }, 0);
    }
    for (const reason of STREAM_CLOSE_REASON_LABELS) {
      this.streamClosed.inc({ reason }, 0);
    }
  }
}

/** `2xx`, `4xx`, ... or `none` when no response came back. */
export function statusClass(statusCode: number | undefined): string {
  return statusCode === undefined ? 'none' : `${Math.floor(statusCode / 100)}xx`;
}
