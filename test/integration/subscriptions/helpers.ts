import { randomBytes } from 'node:crypto';
import { type AppConfig, loadConfig } from '../../../src/config/app-config';
import { deletePrefix } from '../../support/harness';

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

/** Deletes every key under the prefix: the shared harness does it. */
export const deleteKeys = (prefix: string): Promise<void> => deletePrefix(prefix);

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
