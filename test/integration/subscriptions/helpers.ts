import { randomBytes } from 'node:crypto';
import { type AppConfig, loadConfig } from '../../../src/config/app-config';
import { deletePrefix, TEST_REDIS_URL } from '../../support/harness';
import { waitFor } from '../../support/wait';

export const ADMIN_KEY = 'k'.repeat(40);

export function testPrefix(): string {
  return `test-subs-${randomBytes(6).toString('hex')}`;
}

export function testConfig(prefix: string, env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
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

/** The kit's `waitFor`, polling every 10 ms, with how long it took. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 10,
): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  const value = await waitFor(probe, timeoutMs, 'the condition', intervalMs);
  return { value, elapsedMs: Date.now() - started };
}
