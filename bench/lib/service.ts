import { randomBytes } from 'node:crypto';
import {
  type ServiceProcess,
  startService as startKitService,
} from '../../test/support/process-harness';
import {
  type CreatedSubscription,
  createSubscription as createKitSubscription,
} from '../../test/support/e2e-env';
import { opentactEnv } from '../../test/support/simulator-login';
import type { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { cpuProfArgs } from './node-process';
import { trackChild } from './processes';

export { ServiceProcess } from '../../test/support/process-harness';
export type { CreatedSubscription } from '../../test/support/e2e-env';
export { SIMULATOR_LOGIN } from '../../test/support/simulator-login';

export type ServiceRole = 'all' | 'ingest' | 'worker' | 'api';

export const ADMIN_API_KEY = `bench-${randomBytes(24).toString('hex')}`;
/** QUEUE_PREFIX of every service process a benchmark starts. */
export const SERVICE_PREFIX = 'otb-bench';

export interface ServiceOptions {
  main: string;
  role: ServiceRole;
  redisUrl: string;
  simulator: OpentactSimulator;
  logFile: string;
  label: string;
  /** Overrides of the service's environment (see src/config/env.schema.ts). */
  env?: Record<string, string>;
  cpuProfDir?: string;
}

/**
 * The service as production runs it: compiled JavaScript in its own process, configured by env
 * (not the tests' quick defaults), logging to a file, and waited on until /health/live answers.
 */
export async function startService(options: ServiceOptions): Promise<ServiceProcess> {
  const service = await startKitService({
    name: options.label,
    script: options.main,
    testDefaults: false,
    logFile: options.logFile,
    nodeArgs: cpuProfArgs(options.cpuProfDir),
    stopTimeoutMs: 30_000,
    liveTimeoutMs: 60_000,
    env: {
      NODE_ENV: 'production',
      APP_ROLE: options.role,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: SERVICE_PREFIX,
      ADMIN_API_KEY,
      DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
      ...opentactEnv(options.simulator),
      OPENTACT_SUBSCRIBE: 'call_state',
      ...options.env,
    },
  });
  trackChild(service.child);
  return service;
}

/** Subscribes `url` to every event type through the service's admin API. */
export async function createSubscription(
  api: ServiceProcess,
  url: string,
  fields: Record<string, unknown> = {},
): Promise<CreatedSubscription> {
  return createKitSubscription(api, { url, eventTypes: ['*'], ...fields }, ADMIN_API_KEY);
}
