/**
 * What `opentact-bridge status` shows, independent of where it was read: readiness and
 * GET /v1/status (every process of the service together), or, from a service without that
 * endpoint, readiness and the answering process's /metrics. The formatter shows what is filled.
 */
export interface StatusCheck {
  name: string;
  up: boolean;
  message?: string;
  /** Whatever else the check reported (latency, connection state, timestamps). */
  details: Record<string, string | number | boolean>;
}

/** One ingest process's link, as it last reported it. */
export interface IngestConnection {
  instance: string;
  state: string;
  reconnects: number;
  paused: boolean;
  lastFrameAt?: string;
  reportedAt: string;
  /** Refused or failed logins since the process started. */
  authFailures?: number;
  /** Why the link is not authenticated, or why Opentact's event subscriptions are failing. */
  problem?: string;
}

export interface ConnectionStatus {
  /** connecting, authenticating, open, closed; from /v1/status: open, down or unknown. */
  state: string;
  /** Every ingest process that reports (GET /v1/status only). */
  instances?: IngestConnection[];
  reconnects?: number;
  authFailures?: number;
  deadPeers?: number;
  /** Reading paused for backpressure. */
  paused?: boolean;
}

export interface QueueStatus {
  name: string;
  /** Jobs per BullMQ state: waiting, active, delayed, prioritized, failed, completed. */
  jobs: Record<string, number>;
}

/** Counted by the process that answered, since it started. */
export interface EventCounters {
  framesReceived: number;
  eventsEnqueued: number;
  duplicates: number;
  quarantined: number;
}

/** Events between ingest and delivery, every process together. */
export interface PipelineStatus {
  /** Ingested, not yet read by the fan-out; null when Redis cannot tell. */
  backlog: number | null;
  inFanOut: number;
  retained: number;
  /** The event log against its byte budget (services that report it). */
  retention?: {
    bytes: number;
    budgetBytes: number;
    heldDeliveries: number;
    /** Set while, and a while after, events deliveries waited for were evicted. */
    overBudget?: { since: string; evicted: number };
  };
  /** Skipped deliveries within the retention window (what `deliveries list --status skipped` lists). */
  skipped?: number;
}

export interface SubscriptionCounts {
  total: number;
  enabled: number;
  disabled: number;
  failing: number;
}

export interface RecoveryStatus {
  openGaps: number;
  lastGap?: { gapFrom: string; gapTo: string; gapSeconds: number; truncated: boolean };
}

export interface StatusReport {
  ready: boolean;
  checks: StatusCheck[];
  /** Absent when the process that answered runs no ingest role. */
  connection?: ConnectionStatus;
  queues: QueueStatus[];
  /** Delivery attempts by outcome (success, retry, dead, ...). */
  deliveries: Record<string, number>;
  /** Who counted `deliveries`: the process that answered since it started, or every worker over the last hour. */
  deliveriesCountedBy: 'process' | 'last-hour';
  /** Absent when no counters could be read. */
  events?: EventCounters;
  /** GET /v1/status only. */
  pipeline?: PipelineStatus;
  subscriptions?: SubscriptionCounts;
  quarantined?: number;
  recovery?: RecoveryStatus;
  /** What could not be read, said plainly. */
  notes: string[];
}

export interface StatusSource {
  read(): Promise<StatusReport>;
}
