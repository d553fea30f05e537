import { randomBytes } from 'node:crypto';
import type { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { NodeProcess } from './node-process';
import { freePort } from '../../scripts/redis-provider';
import { mustWaitUntil } from './util';

export type ServiceRole = 'all' | 'ingest' | 'worker' | 'api';

export const ADMIN_API_KEY = `bench-${randomBytes(24).toString('hex')}`;
export const SIM_EMAIL = 'demo@opentact.local';
export const SIM_PASSWORD = 'demo-password';
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

/** The service as production runs it: compiled JavaScript in its own process, configured by env. */
export class ServiceProcess extends NodeProcess {
  constructor(
    options: ServiceOptions,
    readonly port: number,
  ) {
    super({
      script: options.main,
      label: options.label,
      logFile: options.logFile,
      cpuProfDir: options.cpuProfDir,
      env: {
        APP_ROLE: options.role,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        REDIS_URL: options.redisUrl,
        QUEUE_PREFIX: SERVICE_PREFIX,
        ADMIN_API_KEY,
        DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
        OPENTACT_REST_URL: options.simulator.restUrl,
        OPENTACT_WSS_URL: options.simulator.wssUrl,
        OPENTACT_EMAIL: SIM_EMAIL,
        OPENTACT_PASSWORD: SIM_PASSWORD,
        OPENTACT_SUBSCRIBE: 'call_state',
        ...options.env,
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Counter value from /metrics (summed over labels); undefined if the scrape failed. */
  async metric(name: string): Promise<number | undefined> {
    try {
      const res = await fetch(`${this.url}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      let sum = 0;
      let found = false;
      for (const line of text.split('\n')) {
        if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
          sum += Number(line.slice(line.lastIndexOf(' ') + 1));
          found = true;
        }
      }
      return found ? sum : undefined;
    } catch {
      return undefined;
    }
  }
}

export async function startService(options: ServiceOptions): Promise<ServiceProcess> {
  const service = new ServiceProcess(options, await freePort());
  try {
    await mustWaitUntil(
      async () => {
        if (!service.running) {
          throw new Error(`${options.label} exited during start-up; see ${options.logFile}`);
        }
        try {
          const res = await fetch(`${service.url}/health/live`, {
            signal: AbortSignal.timeout(1_000),
          });
          return res.ok;
        } catch {
          return false;
        }
      },
      60_000,
      `${options.label} to answer /health/live`,
    );
  } catch (error) {
    service.kill9();
    throw error;
  }
  return service;
}

export interface CreatedSubscription {
  id: string;
  secret: string;
}

export async function createSubscription(
  apiUrl: string,
  url: string,
  fields: Record<string, unknown> = {},
): Promise<CreatedSubscription> {
  const res = await fetch(`${apiUrl}/v1/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, eventTypes: ['*'], ...fields }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 201) {
    throw new Error(`creating a subscription failed: ${res.status} ${await res.text()}`);
  }
  return (await res.json()) as CreatedSubscription;
}
