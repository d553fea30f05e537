import { Transform } from 'class-transformer';
import {
  IsEnum,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { AppRole } from './app-role';
import { trustProxyProblem } from './trust-proxy';

/** Variables whose values must never be printed, not even in a validation error. */
export const SECRET_ENV_VARS: ReadonlySet<string> = new Set([
  'OPENTACT_PASSWORD',
  'OPENTACT_TOKEN',
  'ADMIN_API_KEY',
  'REDIS_URL',
  'REDIS_SENTINEL_PASSWORD',
  'STREAM_API_KEYS',
]);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' && /^-?\d+$/.test(value.trim())
    ? Number(value.trim())
    : value;
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value.trim()))
    ? Number(value.trim())
    : value;
/** Only the roles that hold the WSS need Opentact credentials. */
const needsOpentact = (env: { APP_ROLE: AppRole }): boolean =>
  env.APP_ROLE === AppRole.All || env.APP_ROLE === AppRole.Ingest;

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

/** A number below `limit`, the limit itself excluded (class-validator's @Max admits it). */
const IsBelow = (limit: number, message: string): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isBelow',
      constraints: [limit],
      validator: { validate: (value: unknown) => typeof value === 'number' && value < limit },
    },
    { message },
  );

/**
 * Every environment variable the service reads, with its default. `loadConfig` is the only reader of
 * `process.env`; everything else receives the typed `AppConfig` it builds from this class.
 */
export class EnvironmentVariables {
  // --- process -----------------------------------------------------------------------------
  @IsEnum(AppRole)
  APP_ROLE: AppRole = AppRole.All;

  @Transform(toInt)
  @Min(0)
  @Max(65535)
  @IsInt()
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @Transform(toInt)
  @Min(1000)
  @IsInt()
  SHUTDOWN_TIMEOUT_MS = 20_000;

  // --- Opentact ----------------------------------------------------------------------------
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  OPENTACT_REST_URL = 'https://api.opentact.org/rest';

  @IsUrl({ protocols: ['ws', 'wss'], require_tld: false, require_protocol: true })
  OPENTACT_WSS_URL = 'wss://api.opentact.org';

  @ValidateIf(
    (env: EnvironmentVariables) =>
      needsOpentact(env) && (!env.OPENTACT_TOKEN || !!env.OPENTACT_EMAIL),
  )
  @IsString({ message: 'set OPENTACT_EMAIL and OPENTACT_PASSWORD, or OPENTACT_TOKEN' })
  @MinLength(3)
  OPENTACT_EMAIL?: string;

  @ValidateIf(
    (env: EnvironmentVariables) =>
      needsOpentact(env) && (!env.OPENTACT_TOKEN || !!env.OPENTACT_EMAIL),
  )
  @IsString({ message: 'set OPENTACT_PASSWORD together with OPENTACT_EMAIL' })
  @MinLength(1)
  OPENTACT_PASSWORD?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[\w-]+\.[\w-]+\.[\w-]*$/, {
    message: 'OPENTACT_TOKEN must be a JWT (three dot-separated parts)',
  })
  OPENTACT_TOKEN?: string;

  @Transform(trim)
  @IsString()
  @Matches(/^([a-z0-9_]+(\s*,\s*[a-z0-9_]+)*)?$/, {
    message:
      'OPENTACT_SUBSCRIBE must be a comma-separated list of Opentact event types such as call_state,sms',
  })
  OPENTACT_SUBSCRIBE = '';

  @Transform(toInt)
  @Min(100)
  @IsInt()
  OPENTACT_AUTH_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @Min(100)
  @IsInt()
  OPENTACT_PING_INTERVAL_MS = 30_000;

  @Transform(toInt)
  @Min(100)
  @IsInt()
  OPENTACT_PONG_TIMEOUT_MS = 5_000;

  @Transform(toInt)
  @Min(1)
  @IsInt()
  OPENTACT_RECONNECT_BASE_MS = 1_000;

  @Transform(toInt)
  @Min(1)
  @IsInt()
  OPENTACT_RECONNECT_MAX_MS = 30_000;

  @Transform(toInt)
  @Min(1)
  @IsInt()
  OPENTACT_AUTH_FAILURE_BACKOFF_MS = 60_000;

  @Transform(toInt)
  @Min(0)
  @IsInt()
  OPENTACT_STABLE_AFTER_MS = 60_000;

  @Transform(toInt)
  @Min(0)
  @IsInt()
  OPENTACT_TOKEN_REFRESH_MARGIN_MS = 600_000;

  @Transform(toInt)
  @Min(1024)
  @IsInt()
  OPENTACT_MAX_FRAME_BYTES = 1_048_576;

  @Transform(toInt)
  @Min(1)
  @IsInt()
  INGEST_BUFFER_MAX = 1_000;

  // --- recovery of what the socket missed ------------------------------------------------------
  @Transform(toInt)
  @Min(0)
  @Max(604_800)
  @IsInt()
  RECOVERY_MAX_WINDOW_SECONDS = 21_600;

  @Transform(toInt)
  @Min(0)
  @Max(3_600)
  @IsInt()
  RECOVERY_MARGIN_SECONDS = 30;

  @Transform(toNumber)
  @Min(0.1)
  @Max(1_000)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  RECOVERY_REQUESTS_PER_SECOND = 5;

  @Transform(toInt)
  @Min(1)
  @Max(86_400)
  @IsInt()
  OPS_DISCONNECT_ALERT_SECONDS = 60;

  // --- Redis and retention -------------------------------------------------------------------
  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsOptional()
  @Matches(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, {
    message: 'REDIS_SENTINELS must be a comma-separated list of host:port',
  })
  REDIS_SENTINELS?: string;

  @Transform(trim)
  @IsString()
  @Matches(/^([^\s,:]+:\d+(,[^\s,:]+:\d+)*)?$/, {
    message: 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port',
  })
  REDIS_CLUSTER_NODES = '';

  @IsString()
  REDIS_SENTINEL_NAME = 'mymaster';

  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  @Matches(/^(\{[A-Za-z0-9_.-]+\}|[A-Za-z0-9_.-]+)$/, {
    message:
      'QUEUE_PREFIX must be letters, digits, _ . - or a Redis Cluster hash tag such as {otb}',
  })
  QUEUE_PREFIX = 'otb';

  @Transform(toInt)
  @Min(60)
  @IsInt()
  EVENT_RETENTION_SECONDS = 86_400;

  @Transform(toInt)
  @Min(100)
  @IsInt()
  EVENT_RETENTION_MAX_COUNT = 1_000_000;

  /**
   * Bytes the event log may hold (its entries' fields and values). Events that deliveries still
   * wait for are kept past the count cap and the window; only this budget evicts them.
   */
  @Transform(toInt)
  @Min(65_536)
  @IsInt()
  EVENT_RETENTION_MAX_BYTES = 1_073_741_824;

  @Transform(toInt)
  @Min(10)
  @IsInt()
  QUARANTINE_MAX_COUNT = 10_000;

  @Transform(toInt)
  @Min(65_536)
  @IsInt()
  QUARANTINE_MAX_BYTES = 67_108_864;

  // --- admin API ---------------------------------------------------------------------------
  @ValidateIf(
    (env: EnvironmentVariables) => env.APP_ROLE === AppRole.All || env.APP_ROLE === AppRole.Api,
  )
  @IsString({ message: 'ADMIN_API_KEY is required for the api role (at least 32 characters)' })
  @MinLength(32, { message: 'ADMIN_API_KEY must be at least 32 characters long' })
  ADMIN_API_KEY?: string;

  @IsOptional()
  @IsString()
  @MaxLength(4096)
  SUBSCRIPTIONS_FILE?: string;

  /** Subscriptions the admin API lets exist at once: each event is one delivery per match. */
  @Transform(toInt)
  @Min(1)
  @Max(1_000_000)
  @IsInt()
  MAX_SUBSCRIPTIONS = 1_000;

  /** Failed admin API authentications from one client address before it is refused (429). */
  @Transform(toInt)
  @Min(1)
  @Max(1_000_000)
  @IsInt()
  ADMIN_AUTH_MAX_FAILURES = 10;

  /** The window those failures are counted over, and how long the address is then refused. */
  @Transform(toInt)
  @Min(1)
  @Max(86_400)
  @IsInt()
  ADMIN_AUTH_FAILURE_WINDOW_SECONDS = 300;

  /**
   * The proxies in front of the admin API that may name the client (X-Forwarded-For): a hop
   * count, or their addresses, CIDRs and named ranges (loopback, linklocal, uniquelocal). Unset:
   * the TCP peer is the client, so behind an ingress every caller shares its address.
   */
  @IsOptional()
  @MaxLength(4096)
  @ValidateBy(
    {
      name: 'isTrustProxy',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && trustProxyProblem(value) === undefined,
      },
    },
    {
      message: ({ value }) =>
        (typeof value === 'string' ? trustProxyProblem(value) : undefined) ??
        'TRUST_PROXY must be text',
    },
  )
  TRUST_PROXY?: string;

  // --- live stream -------------------------------------------------------------------------
  /** Read-only keys for GET /v1/stream (comma-separated, each at least 32 characters). */
  @IsOptional()
  @Transform(trim)
  @Matches(/^[^,\s]{32,}(\s*,\s*[^,\s]{32,})*$/, {
    message:
      'STREAM_API_KEYS must be comma-separated keys of at least 32 characters each, without spaces inside a key',
  })
  @MaxLength(8192)
  STREAM_API_KEYS?: string;

  /** A stream client further behind than this (bytes queued for it) is disconnected. */
  @Transform(toInt)
  @Min(1024)
  @IsInt()
  STREAM_MAX_BUFFER_BYTES = 1_048_576;

  @Transform(toInt)
  @Min(1000)
  @IsInt()
  STREAM_PING_INTERVAL_MS = 30_000;

  /** Stream clients one api process serves at most; more are refused with 503 on the upgrade. */
  @Transform(toInt)
  @Min(1)
  @Max(100_000)
  @IsInt()
  STREAM_MAX_CLIENTS = 1_000;

  // --- delivery ----------------------------------------------------------------------------
  @Transform(toInt)
  @Min(1)
  @Max(1000)
  @IsInt()
  WORKER_CONCURRENCY = 50;

  @Transform(toInt)
  @Min(1)
  @Max(1000)
  @IsInt()
  FANOUT_CONCURRENCY = 50;

  @Transform(toInt)
  @Min(100)
  @IsInt()
  DELIVERY_TIMEOUT_MS = 15_000;

  /**
   * How long work a worker took (an event being fanned out, a delivery job) stays its own without
   * a sign of life before another worker takes it over. Must outlast DELIVERY_TIMEOUT_MS.
   */
  @Transform(toInt)
  @Min(1000)
  @IsInt()
  WORKER_LOCK_MS = 30_000;

  @Transform(trim)
  @Matches(/^\d+(ms|s|m|h|d)?(\s*,\s*\d+(ms|s|m|h|d)?)*$/, {
    message:
      'DELIVERY_RETRY_SCHEDULE must be a comma-separated list of delays such as 5s,5m,30m,2h',
  })
  DELIVERY_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

  @Transform(toNumber)
  @Min(0)
  @IsBelow(
    1,
    'DELIVERY_RETRY_JITTER must be below 1: it is a fraction in [0, 1), 0.2 spreads each retry delay by ±20 %',
  )
  @IsNumber()
  DELIVERY_RETRY_JITTER = 0.2;

  @Transform(toInt)
  @Min(1)
  @IsInt()
  DELIVERY_RETRY_AFTER_MAX_SECONDS = 86_400;

  @Transform(toInt)
  @Min(1)
  @IsInt()
  DELIVERY_DISABLE_AFTER_SECONDS = 432_000;

  @Transform(trim)
  @IsString()
  DELIVERY_ALLOW_CIDRS = '';

  @Transform(toInt)
  @Min(1)
  @IsInt()
  DELIVERY_CONNECTIONS_PER_ORIGIN = 20;

  @Transform(toInt)
  @Min(0)
  @IsInt()
  DELIVERY_MAX_RESPONSE_BYTES = 16_384;

  @Transform(toInt)
  @Min(1)
  @IsInt()
  DELIVERY_MAX_ATTEMPT_RECORDS = 20;

  @Transform(toInt)
  @Min(0)
  @IsInt()
  SECRET_ROTATION_OVERLAP_SECONDS = 86_400;
}
