import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { deleteKeysUnder } from '../../scripts/redis-provider';
import { createApp } from '../../src/app.factory';
import { type AppConfig, loadConfig } from '../../src/config/app-config';
import { MetricsService } from '../../src/metrics/metrics.service';

export { waitFor } from './wait';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Seed nodes when the specs run against a Redis Cluster (scripts/redis-cluster.ts sets it); the
 * service under test then gets them as REDIS_CLUSTER_NODES and every prefix is a hash tag.
 */
export const TEST_REDIS_CLUSTER_NODES = process.env.REDIS_CLUSTER_NODES ?? '';
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnop';

/**
 * A key prefix no other test file uses, so files run in parallel against one Redis; on a
 * cluster a hash tag (`{t-...}`), as the service requires there.
 */
export function uniquePrefix(name: string): string {
  const prefix = `t-${name}-${randomBytes(4).toString('hex')}`;
  return TEST_REDIS_CLUSTER_NODES ? `{${prefix}}` : prefix;
}

function clusterNodes(): { host: string; port: number }[] {
  return TEST_REDIS_CLUSTER_NODES.split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host, port: Number(port) };
  });
}

/** A client of the specs' Redis, a cluster client when they run on one (typed alike). */
export function testRedis(): Redis {
  return TEST_REDIS_CLUSTER_NODES
    ? (new Cluster(clusterNodes()) as unknown as Redis)
    : new Redis(TEST_REDIS_URL);
}

export interface StartedApp {
  app: INestApplication;
  config: AppConfig;
  url: string;
  logs: string[];
}

/** Starts the real service in this process with test-friendly timings; logs are captured, not printed. */
export async function startApp(env: Record<string, string>): Promise<StartedApp> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    DELIVERY_ALLOW_CIDRS: '127.0.0.1/32,::1/128',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...env,
  });
  const logs: string[] = [];
  const logger: Logger = pino(
    { level: config.logLevel },
    { write: (line: string) => void logs.push(line) },
  );
  const app = await createApp(config, logger);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, config, url, logs };
}

/** Deletes every key under the prefix (SCAN, not KEYS, to be kind to a shared server). */
export async function deletePrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  if (!TEST_REDIS_CLUSTER_NODES || url !== TEST_REDIS_URL) {
    await deleteKeysUnder(url, prefix);
    return;
  }
  // A hash-tag prefix keeps every key on one master; SCAN each to find it.
  const cluster = new Cluster(clusterNodes());
  try {
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', resolve);
      cluster.once('error', reject);
    });
    await Promise.all(
      cluster.nodes('master').map((node) => deleteKeysUnder(nodeUrl(node), prefix)),
    );
  } finally {
    cluster.disconnect();
  }
}

function nodeUrl(node: Redis): string {
  return `redis://${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

export function adminHeaders(): Record<string, string> {
  return { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' };
}

/** `GET /health/ready` of an in-process app: the status code and terminus' body. */
export interface Readiness {
  status: string;
  details?: Record<string, { status: string; message?: string; failures?: number }>;
}

export async function readiness(app: StartedApp): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${app.url}/health/ready`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

/** The sum over every label set of one of an in-process app's metrics (0 when it has none). */
export async function metricTotal(app: StartedApp, name: string): Promise<number> {
  const metric = await app.app.get(MetricsService).registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}
