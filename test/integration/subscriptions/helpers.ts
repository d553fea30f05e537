import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type AppConfig, loadConfig } from '../../../src/config/app-config';

export const ADMIN_KEY = 'k'.repeat(40);

export function testPrefix(): string {
  return `test-subs-${randomBytes(6).toString('hex')}`;
}

export function testConfig(prefix: string, env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    ADMIN_API_KEY: ADMIN_KEY,
    OPENTACT_TOKEN: 'a.b.c',
    DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** Deletes every key under the prefix (SCAN, never KEYS). */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 10,
): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return { value, elapsedMs: Date.now() - started };
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
