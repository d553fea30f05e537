import { type ChildProcess, spawn } from 'node:child_process';
import { redisAnswers, redisServerArgs } from '../../scripts/redis-provider';
import type { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import type { ServiceProcess } from './process-harness';

/** The admin key of every e2e process (the secrets test uses its own). */
export const E2E_ADMIN_KEY = 'e2e-admin-key-0123456789abcdefghijklmnopqrstuv';

/** What the ingest role needs to reach the simulator (its default demo credentials). */
export function opentactEnv(
  sim: OpentactSimulator,
  credentials: { email: string; password: string } = {
    email: 'demo@opentact.local',
    password: 'demo-password',
  },
): Record<string, string> {
  return {
    OPENTACT_REST_URL: sim.restUrl,
    OPENTACT_WSS_URL: sim.wssUrl,
    OPENTACT_EMAIL: credentials.email,
    OPENTACT_PASSWORD: credentials.password,
  };
}

export interface CreatedSubscription {
  id: string;
  secret: string;
}

export async function createSubscription(
  api: ServiceProcess,
  body: Record<string, unknown>,
  adminKey = E2E_ADMIN_KEY,
): Promise<CreatedSubscription> {
  const answer = await api.request<CreatedSubscription>('POST', '/v1/subscriptions', body, {
    authorization: `Bearer ${adminKey}`,
  });
  if (answer.status !== 201) {
    throw new Error(`creating a subscription: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** A redis-server on a given port and data directory (to bring one back where it was). */
export async function spawnRedisAt(
  port: number,
  dir: string,
  password?: string,
): Promise<ChildProcess> {
  const child = spawn('redis-server', redisServerArgs({ port, dir, persistent: true, password }), {
    stdio: 'ignore',
  });
  await until(
    () =>
      redisAnswers(
        `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`,
      ),
    10_000,
    `redis-server on port ${port}`,
  );
  return child;
}

export async function stopChild(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
