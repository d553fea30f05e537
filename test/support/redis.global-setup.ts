import {
  hasRedisServer,
  redisAnswers,
  startRedisServer,
  type ProvidedRedis,
} from '../../scripts/redis-provider';

/** Shared with redis.global-teardown.ts (jest runs both in its parent process). */
export const PRIVATE_REDIS = Symbol.for('opentact-bridge.test.private-redis');

type WithPrivateRedis = typeof globalThis & { [PRIVATE_REDIS]?: ProvidedRedis };

/**
 * jest globalSetup: `npm test` needs nothing but `redis-server` on the PATH. When nothing answers
 * REDIS_URL (default redis://127.0.0.1:6379), a private redis-server is started on a free
 * loopback port and REDIS_URL is set to it before the workers start, so every spec (they all read
 * `TEST_REDIS_URL`) uses it. globalTeardown stops it.
 */
export default async function setupRedis(): Promise<void> {
  const wanted = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(wanted)) {
    process.env.REDIS_URL = wanted;
    return;
  }
  const where = new URL(wanted).host;
  if (!hasRedisServer()) {
    process.stderr.write(
      `\nNo Redis answers at ${where} and redis-server is not on the PATH: the integration and ` +
        'e2e specs will fail. Install redis-server or set REDIS_URL to a Redis that answers.\n',
    );
    return;
  }
  const redis = await startRedisServer();
  (globalThis as WithPrivateRedis)[PRIVATE_REDIS] = redis;
  process.env.REDIS_URL = redis.url;
  // A run cut short (Ctrl-C, a crash) must not leave the server behind.
  process.once('exit', () => redis.process.kill('SIGKILL'));
  process.stderr.write(
    `\nNo Redis answers at ${where}: started a private redis-server at ${redis.url} for this run.\n`,
  );
}
