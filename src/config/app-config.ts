import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { parseDurationList } from '../common/duration';
import { AppRole } from './app-role';
import { parseTrustProxy, type TrustProxy } from './trust-proxy';
import { EnvironmentVariables, type LogLevel, SECRET_ENV_VARS } from './env.schema';

export interface OpentactConfig {
  restUrl: string;
  wssUrl: string;
  credentials:
    { kind: 'password'; email: string; password: string } | { kind: 'token'; token: string };
  subscribe: string[];
  authTimeoutMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  authFailureBackoffMs: number;
  stableAfterMs: number;
  tokenRefreshMarginMs: number;
  maxFrameBytes: number;
}

export interface RecoveryConfig {
  /** The longest stretch recovered after an outage or at start-up; 0 turns recovery off. */
  maxWindowMs: number;
  /** Added on both sides of a gap, for clocks and frames in flight. */
  marginMs: number;
  /** Opentact REST searches started per second, at most. */
  requestsPerSecond: number;
  /** The link down this long (and no replica connected) emits bridge.opentact.disconnected. */
  disconnectAlertMs: number;
}

export interface RedisConfig {
  url: string;
  sentinels?: { host: string; port: number }[];
  sentinelName: string;
  sentinelPassword?: string;
  /** Seed nodes of a Redis Cluster; every key then shares the prefix's hash tag (one slot). */
  clusterNodes?: { host: string; port: number }[];
  prefix: string;
}

export interface StreamConfig {
  /** Read-only stream keys, besides the admin key. */
  apiKeys: string[];
  maxBufferBytes: number;
  pingIntervalMs: number;
  maxClients: number;
}

export interface DeliveryConfig {
  workerConcurrency: number;
  fanoutConcurrency: number;
  timeoutMs: number;
  /** How long a worker's claim on an event or a job lasts without renewal. */
  lockMs: number;
  /** Delays before attempts 2..n; attempts = retryScheduleMs.length + 1. */
  retryScheduleMs: number[];
  retryJitter: number;
  retryAfterMaxMs: number;
  disableAfterMs: number;
  allowCidrs: string[];
  connectionsPerOrigin: number;
  maxResponseBytes: number;
  maxAttemptRecords: number;
  secretRotationOverlapMs: number;
}

export interface AdminAuthConfig {
  /** Failed authentications from one client address within the window before it gets 429. */
  maxFailures: number;
  failureWindowMs: number;
}

/** The validated, typed configuration. Injected everywhere; nothing else reads `process.env`. */
export class AppConfig {
  role!: AppRole;
  port!: number;
  host!: string;
  logLevel!: LogLevel;
  shutdownTimeoutMs!: number;
  opentact!: OpentactConfig;
  redis!: RedisConfig;
  ingestBufferMax!: number;
  recovery!: RecoveryConfig;
  eventRetentionSeconds!: number;
  eventRetentionMaxCount!: number;
  /** Bytes the event log may hold; held events are evicted only beyond it. */
  eventRetentionMaxBytes!: number;
  quarantineMaxCount!: number;
  /** Bytes the quarantined frames may take in Redis, all entries together. */
  quarantineMaxBytes!: number;
  adminApiKey?: string;
  subscriptionsFile?: string;
  /** Subscriptions the admin API lets exist at once. */
  maxSubscriptions!: number;
  adminAuth!: AdminAuthConfig;
  /** Proxies that may name the client (Express `trust proxy`); undefined trusts none. */
  trustProxy?: TrustProxy;
  stream!: StreamConfig;
  delivery!: DeliveryConfig;
}

/** Start-up refuses to run with bad configuration; the message names each variable, never a secret value. */
export class ConfigValidationError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

function describe(error: ValidationError): string {
  const constraints = Object.values(error.constraints ?? {});
  const shown = SECRET_ENV_VARS.has(error.property)
    ? '(value hidden)'
    : `(got ${JSON.stringify(error.value)})`;
  return `${error.property}: ${constraints.join('; ')} ${error.value === undefined ? '(not set)' : shown}`;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(new EnvironmentVariables());
  const input: Record<string, string> = {};
  for (const key of [
    ...known,
    'OPENTACT_EMAIL',
    'OPENTACT_PASSWORD',
    'OPENTACT_TOKEN',
    'ADMIN_API_KEY',
  ]) {
    const value = env[key];
    if (value !== undefined && value !== '') {
      input[key] = value;
    }
  }
  const vars = plainToInstance(EnvironmentVariables, input, { exposeDefaultValues: true });
  const errors = validateSync(vars, {
    whitelist: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
  });
  const problems = errors.map(describe);

  let retryScheduleMs: number[] = [];
  try {
    retryScheduleMs = parseDurationList(vars.DELIVERY_RETRY_SCHEDULE);
  } catch {
    // already reported by the schema
  }
  if (vars.REDIS_CLUSTER_NODES !== '') {
    if (vars.REDIS_SENTINELS !== undefined) {
      problems.push('REDIS_CLUSTER_NODES: cannot be used together with REDIS_SENTINELS');
    }
    if (!/^\{.+\}$/.test(vars.QUEUE_PREFIX)) {
      problems.push(
        'QUEUE_PREFIX: must be a hash tag such as {otb} with REDIS_CLUSTER_NODES, so every key the bridge and its queues use is in one slot',
      );
    }
  }
  if (vars.OPENTACT_RECONNECT_MAX_MS < vars.OPENTACT_RECONNECT_BASE_MS) {
    problems.push('OPENTACT_RECONNECT_MAX_MS: must not be smaller than OPENTACT_RECONNECT_BASE_MS');
  }
  if (vars.WORKER_LOCK_MS <= vars.DELIVERY_TIMEOUT_MS) {
    problems.push(
      'WORKER_LOCK_MS: must be longer than DELIVERY_TIMEOUT_MS (raise it with the timeout), or a live attempt could be taken over by another worker',
    );
  }
  if (problems.length > 0) {
    throw new ConfigValidationError(problems);
  }

  const credentials: OpentactConfig['credentials'] =
    vars.OPENTACT_EMAIL && vars.OPENTACT_PASSWORD
      ? { kind: 'password', email: vars.OPENTACT_EMAIL, password: vars.OPENTACT_PASSWORD }
      : { kind: 'token', token: vars.OPENTACT_TOKEN ?? '' };

  const config = new AppConfig();
  Object.assign(config, {
    role: vars.APP_ROLE,
    port: vars.PORT,
    host: vars.HOST,
    logLevel: vars.LOG_LEVEL,
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    opentact: {
      restUrl: vars.OPENTACT_REST_URL.replace(/\/+$/, ''),
      wssUrl: vars.OPENTACT_WSS_URL,
      credentials,
      subscribe: vars.OPENTACT_SUBSCRIBE.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      authTimeoutMs: vars.OPENTACT_AUTH_TIMEOUT_MS,
      pingIntervalMs: vars.OPENTACT_PING_INTERVAL_MS,
      pongTimeoutMs: vars.OPENTACT_PONG_TIMEOUT_MS,
      reconnectBaseMs: vars.OPENTACT_RECONNECT_BASE_MS,
      reconnectMaxMs: vars.OPENTACT_RECONNECT_MAX_MS,
      authFailureBackoffMs: vars.OPENTACT_AUTH_FAILURE_BACKOFF_MS,
      stableAfterMs: vars.OPENTACT_STABLE_AFTER_MS,
      tokenRefreshMarginMs: vars.OPENTACT_TOKEN_REFRESH_MARGIN_MS,
      maxFrameBytes: vars.OPENTACT_MAX_FRAME_BYTES,
    },
    redis: {
      url: vars.REDIS_URL,
      sentinels: vars.REDIS_SENTINELS?.split(',').map((hp) => {
        const [host, port] = hp.split(':');
        return { host, port: Number(port) };
      }),
      sentinelName: vars.REDIS_SENTINEL_NAME,
      sentinelPassword: vars.REDIS_SENTINEL_PASSWORD,
      clusterNodes: (vars.REDIS_CLUSTER_NODES || undefined)?.split(',').map((hp) => {
        const [host, port] = hp.split(':');
        return { host, port: Number(port) };
      }),
      prefix: vars.QUEUE_PREFIX,
    },
    ingestBufferMax: vars.INGEST_BUFFER_MAX,
    recovery: {
      maxWindowMs: vars.RECOVERY_MAX_WINDOW_SECONDS * 1000,
      marginMs: vars.RECOVERY_MARGIN_SECONDS * 1000,
      requestsPerSecond: vars.RECOVERY_REQUESTS_PER_SECOND,
      disconnectAlertMs: vars.OPS_DISCONNECT_ALERT_SECONDS * 1000,
    },
    // An event must outlive its last scheduled retry, or that retry would find nothing to send:
    // the window stretches to the schedule's length plus an hour (28.5 h with the defaults).
    eventRetentionSeconds: Math.max(
      vars.EVENT_RETENTION_SECONDS,
      Math.ceil(retryScheduleMs.reduce((sum, ms) => sum + ms, 0) / 1000) + 3600,
    ),
    eventRetentionMaxCount: vars.EVENT_RETENTION_MAX_COUNT,
    eventRetentionMaxBytes: vars.EVENT_RETENTION_MAX_BYTES,
    quarantineMaxCount: vars.QUARANTINE_MAX_COUNT,
    quarantineMaxBytes: vars.QUARANTINE_MAX_BYTES,
    adminApiKey: vars.ADMIN_API_KEY,
    subscriptionsFile: vars.SUBSCRIPTIONS_FILE,
    maxSubscriptions: vars.MAX_SUBSCRIPTIONS,
    adminAuth: {
      maxFailures: vars.ADMIN_AUTH_MAX_FAILURES,
      failureWindowMs: vars.ADMIN_AUTH_FAILURE_WINDOW_SECONDS * 1000,
    },
    trustProxy: trustProxyOf(vars.TRUST_PROXY),
    stream: {
      apiKeys: (vars.STREAM_API_KEYS ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== ''),
      maxBufferBytes: vars.STREAM_MAX_BUFFER_BYTES,
      pingIntervalMs: vars.STREAM_PING_INTERVAL_MS,
      maxClients: vars.STREAM_MAX_CLIENTS,
    },
    delivery: {
      workerConcurrency: vars.WORKER_CONCURRENCY,
      fanoutConcurrency: vars.FANOUT_CONCURRENCY,
      timeoutMs: vars.DELIVERY_TIMEOUT_MS,
      lockMs: vars.WORKER_LOCK_MS,
      retryScheduleMs,
      retryJitter: vars.DELIVERY_RETRY_JITTER,
      retryAfterMaxMs: vars.DELIVERY_RETRY_AFTER_MAX_SECONDS * 1000,
      disableAfterMs: vars.DELIVERY_DISABLE_AFTER_SECONDS * 1000,
      allowCidrs: vars.DELIVERY_ALLOW_CIDRS.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      connectionsPerOrigin: vars.DELIVERY_CONNECTIONS_PER_ORIGIN,
      maxResponseBytes: vars.DELIVERY_MAX_RESPONSE_BYTES,
      maxAttemptRecords: vars.DELIVERY_MAX_ATTEMPT_RECORDS,
      secretRotationOverlapMs: vars.SECRET_ROTATION_OVERLAP_SECONDS * 1000,
    },
  } satisfies AppConfig);
  return config;
}

/** Names of every variable the service reads (used by the .env.example and chart sync tests). */
export function knownEnvVars(): string[] {
  return [
    ...new Set([
      ...Object.keys(new EnvironmentVariables()),
      'OPENTACT_EMAIL',
      'OPENTACT_PASSWORD',
      'OPENTACT_TOKEN',
      'ADMIN_API_KEY',
      'REDIS_SENTINELS',
      'REDIS_SENTINEL_PASSWORD',
      'SUBSCRIPTIONS_FILE',
      'STREAM_API_KEYS',
    ]),
  ].sort();
}

/** TRUST_PROXY as Express takes it; the schema has already refused a value that is not one. */
function trustProxyOf(text: string | undefined): TrustProxy | undefined {
  if (text === undefined || text.trim() === '') {
    return undefined;
  }
  const parsed = parseTrustProxy(text);
  return typeof parsed === 'number' || Array.isArray(parsed) ? parsed : undefined;
}
