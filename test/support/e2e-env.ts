import type { ChildProcess } from 'node:child_process';
import { spawnRedisServer } from '../../scripts/redis-provider';
import type { ServiceProcess } from './process-harness';

export { sleep, until } from './wait';
export { opentactEnv } from './simulator-login';

/** The admin key of every e2e process (the secrets test uses its own). */
export const E2E_ADMIN_KEY = 'e2e-admin-key-0123456789abcdefghijklmnopqrstuv';

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

/** A redis-server on a given port and data directory (to bring one back where it was). */
export async function spawnRedisAt(
  port: number,
  dir: string,
  password?: string,
): Promise<ChildProcess> {
  return spawnRedisServer({ port, dir, persistent: true, password });
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
