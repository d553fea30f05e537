/**
 * What `opentact-bridge status` shows, independent of where it was read: today from
 * /health/ready and /metrics, later from GET /v1/status. A new source fills the same report and
 * the formatter does not change.
 */
export interface StatusCheck {
  name: string;
  up: boolean;
  message?: string;
  /** Whatever else the check reported (latency, connection state, timestamps). */
  details: Record<string, string | number | boolean>;
}

export interface ConnectionStatus {
  /** connecting, authenticating, open, closed. */
  state: string;
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

export interface StatusReport {
  ready: boolean;
  checks: StatusCheck[];
  /** Absent when the process that answered runs no ingest role. */
  connection?: ConnectionStatus;
  queues: QueueStatus[];
  /** Delivery attempts by outcome (success, retry, dead, ...), counted by the process that answered. */
  deliveries: Record<string, number>;
  /** Absent when no counters could be read. */
  events?: EventCounters;
  /** What could not be read, said plainly. */
  notes: string[];
}

export interface StatusSource {
  read(): Promise<StatusReport>;
}
