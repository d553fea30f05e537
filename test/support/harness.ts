import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { deleteKeysUnder } from '../../scripts/redis-provider';
import { createApp } from '../../src/app.factory';
import { type AppConfig, loadConfig } from '../../src/config/app-config';

export { waitFor } from './wait';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnop';

/** A key prefix no other test file uses, so files run in parallel against one Redis. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}`;
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
  await deleteKeysUnder(url, prefix);
}

export function adminHeaders(): Record<string, string> {
  return { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' };
}
