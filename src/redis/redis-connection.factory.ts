import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/app-config';

export interface RedisConnectionOptions {
  /** Blocking connections (BullMQ workers) must retry forever; producers should fail fast. */
  purpose: 'worker' | 'producer' | 'client';
  connectionName?: string;
}

/**
 * Builds ioredis options from REDIS_URL, or from REDIS_SENTINELS when set (the URL then only
 * supplies password, db and TLS). With REDIS_CLUSTER_NODES these are each node's options.
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

/**
 * A Redis Cluster client from REDIS_CLUSTER_NODES. Every key the bridge and BullMQ use carries
 * the prefix's hash tag (checked at start-up), so each command, transaction and script touches
 * one slot on one node: the cluster client serves the same commands as a single-node one.
 */
function createCluster(config: RedisConfig, opts: RedisConnectionOptions): Cluster {
  const {
    enableAutoPipelining,
    enableOfflineQueue,
    retryStrategy,
    host: _host,
    port: _port,
    sentinels: _sentinels,
    ...node
  } = redisOptions(config, opts);
  return new Cluster(config.clusterNodes ?? [], {
    redisOptions: { ...node, db: 0 },
    enableAutoPipelining,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    lazyConnect: false,
  });
}

/**
 * The service's connection: a single node, a Sentinel-managed primary, or a Redis Cluster. A
 * cluster client is typed as `Redis`: it has the same command methods (and `duplicate()` for
 * pub/sub), and nothing in the service uses a command that spans nodes (SCAN, KEYS, INFO).
 */
export function createRedis(config: RedisConfig, opts: RedisConnectionOptions): Redis {
  if (config.clusterNodes && config.clusterNodes.length > 0) {
    return createCluster(config, opts) as unknown as Redis;
  }
  return new Redis(redisOptions(config, opts));
}

/** Cluster clients handed to BullMQ, by config: BullMQ does not close a client it was given. */
const bullClusters = new WeakMap<RedisConfig, Set<Cluster>>();

/** Closes the cluster clients `bullConnection` made for this config (at shutdown, last). */
export async function closeBullClusters(config: RedisConfig): Promise<void> {
  const clusters = [...(bullClusters.get(config) ?? [])];
  bullClusters.delete(config);
  await Promise.all(clusters.map((c) => c.quit().catch(() => c.disconnect())));
}

/** Our own keys live beside BullMQ's under the same prefix, so a hash-tag prefix keeps one slot. */
export function redisKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join(':');
}

/**
 * The same options typed for BullMQ, whose connection type is wider than ioredis' own. BullMQ
 * cannot build a cluster client from options, so on a cluster it gets a client, which
 * `closeBullClusters` closes once BullMQ is done with it.
 */
export function bullConnection(
  config: RedisConfig,
  opts: RedisConnectionOptions,
): ConnectionOptions {
  if (config.clusterNodes && config.clusterNodes.length > 0) {
    const cluster = createCluster(config, opts);
    const owned = bullClusters.get(config) ?? new Set<Cluster>();
    owned.add(cluster);
    bullClusters.set(config, owned);
    return cluster;
  }
  return redisOptions(config, opts) as ConnectionOptions;
}
