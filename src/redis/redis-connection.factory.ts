import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/app-config';

export interface RedisConnectionOptions {
  /** Blocking connections (BullMQ workers) must retry forever; producers should fail fast. */
  purpose: 'worker' | 'producer' | 'client';
  connectionName?: string;
}

/**
 * Builds ioredis options from REDIS_URL, or from REDIS_SENTINELS when set (the URL then only
 * supplies password, db and TLS).
 *
 * Auto-pipelining is on for the service's own command connection only: the delivery path issues
 * many small commands in the same turn of the event loop (attempt records, acknowledgements), and
 * without it each one is its own socket write — the largest single cost in the drain profile.
 * BullMQ's connections keep it off (it costs their blocking workers throughput).
 */
export function redisOptions(config: RedisConfig, opts: RedisConnectionOptions): RedisOptions {
  const url = new URL(config.url);
  const base: RedisOptions = {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    connectionName: opts.connectionName,
    enableAutoPipelining: opts.purpose === 'client',
    maxRetriesPerRequest: opts.purpose === 'worker' ? null : opts.purpose === 'producer' ? 1 : 3,
    enableOfflineQueue: opts.purpose !== 'producer',
    retryStrategy: (times: number) => Math.min(200 * 2 ** Math.min(times, 7), 5_000),
    lazyConnect: false,
  };
  if (config.sentinels && config.sentinels.length > 0) {
    return {
      ...base,
      sentinels: config.sentinels,
      name: config.sentinelName,
      sentinelPassword: config.sentinelPassword,
    };
  }
  return { ...base, host: url.hostname, port: url.port ? Number(url.port) : 6379 };
}

export function createRedis(config: RedisConfig, opts: RedisConnectionOptions): Redis {
  return new Redis(redisOptions(config, opts));
}

/** Our own keys live beside BullMQ's under the same prefix, so a hash-tag prefix keeps one slot. */
export function redisKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join(':');
}

/** The same options typed for BullMQ, whose connection type is wider than ioredis' own. */
export function bullConnection(
  config: RedisConfig,
  opts: RedisConnectionOptions,
): ConnectionOptions {
  return redisOptions(config, opts) as ConnectionOptions;
}
