import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { CountingReceiver } from './counting-receiver';
import type { NodeChild } from '../../test/support/process-harness';
import { startNodeProcess } from './node-process';
import { onCleanup } from './processes';
import { type BenchRedis, startBenchRedis } from './redis';
import {
  createSubscription,
  SIMULATOR_LOGIN,
  type ServiceProcess,
  SERVICE_PREFIX,
  type ServiceRole,
  startService,
} from './service';
import { mustWaitUntil, sleep } from './util';

export type Subject = 'service' | 'baseline';

/** One scenario's world: its own Redis, simulator and receivers, torn down afterwards. */
export interface Rig {
  redis: BenchRedis;
  sim: OpentactSimulator;
  receivers: CountingReceiver[];
  logDir: string;
}

export async function withRig<T>(
  receiverCount: number,
  logDir: string,
  run: (rig: Rig) => Promise<T>,
  options: { sameOrigin?: boolean } = {},
): Promise<T> {
  const redis = await startBenchRedis();
  const sim = new OpentactSimulator({ port: 0 });
  const receivers = Array.from(
    { length: receiverCount },
    (_, i) => new CountingReceiver(`r${i + 1}`),
  );
  const teardown = async (): Promise<void> => {
    // Path receivers first, then the servers they live on.
    await Promise.all([...receivers].reverse().map((r) => r.stop().catch(() => undefined)));
    await sim.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
  };
  const unregister = onCleanup(teardown);
  try {
    await sim.start();
    if (options.sameOrigin) {
      // One server; every other receiver is a path on it.
      await receivers[0].start();
      await Promise.all(receivers.slice(1).map((r) => r.start(receivers[0])));
    } else {
      await Promise.all(receivers.map((r) => r.start()));
    }
    return await run({ redis, sim, receivers, logDir });
  } finally {
    unregister();
    await teardown();
  }
}

export interface Artifacts {
  serviceMain: string;
  baselineMain: string;
}

export type Runner = NodeChild | ServiceProcess;

export interface LaunchOptions {
  label: string;
  env?: Record<string, string>;
  cpuProfDir?: string;
}

/** Starts the service in `role` (or the baseline in the matching role) and waits until it is up. */
export async function launch(
  artifacts: Artifacts,
  subject: Subject,
  role: ServiceRole,
  rig: Rig,
  options: LaunchOptions,
): Promise<Runner> {
  const logFile = join(rig.logDir, `${options.label}.log`);
  const authenticatedBefore = rig.sim.stats.authenticated;
  let runner: Runner;
  if (subject === 'service') {
    runner = await startService({
      main: artifacts.serviceMain,
      role,
      redisUrl: rig.redis.url,
      simulator: rig.sim,
      logFile,
      label: options.label,
      env: options.env,
      cpuProfDir: options.cpuProfDir,
    });
  } else {
    runner = startNodeProcess({
      script: artifacts.baselineMain,
      label: options.label,
      logFile,
      cpuProfDir: options.cpuProfDir,
      env: {
        BARE_ROLE: role === 'all' ? 'all' : role,
        REDIS_URL: rig.redis.url,
        SIM_REST_URL: rig.sim.restUrl,
        SIM_WSS_URL: rig.sim.wssUrl,
        SIM_EMAIL: SIMULATOR_LOGIN.email,
        SIM_PASSWORD: SIMULATOR_LOGIN.password,
        TARGET_URL: rig.receivers[0].url,
        ...options.env,
      },
    });
  }
  if (role === 'all' || role === 'ingest') {
    await mustWaitUntil(
      () => {
        if (!runner.running) {
          throw new Error(`${options.label} exited; see ${logFile}`);
        }
        return rig.sim.stats.authenticated > authenticatedBefore;
      },
      30_000,
      `${options.label} to authenticate to the simulator`,
    );
  } else if (subject === 'baseline') {
    await sleep(1_000);
  }
  return runner;
}

/**
 * Subscribes every receiver (service only; the baseline has one fixed target). Uses the given
 * process's admin API, or a short-lived api-role process when none is given (ingest-only runs).
 */
export async function subscribeReceivers(
  artifacts: Artifacts,
  subject: Subject,
  rig: Rig,
  api?: ServiceProcess,
  fields: Record<string, unknown> = {},
): Promise<void> {
  if (subject === 'baseline') {
    return;
  }
  let own: ServiceProcess | undefined;
  const target =
    api ??
    (own = (await launch(artifacts, 'service', 'api', rig, { label: 'api' })) as ServiceProcess);
  try {
    for (const receiver of rig.receivers) {
      const created = await createSubscription(target, receiver.url, fields);
      receiver.setSecret(created.secret);
    }
  } finally {
    await own?.stop();
  }
  // The registry picks up a change through pub/sub or its 1 s check.
  await sleep(1_200);
}

/**
 * Events stored and not yet delivered: the service's event log (only an ingest process has run,
 * so all of it is backlog), or the waiting jobs of the baseline's only queue.
 */
export async function waitingEvents(subject: Subject, redisUrl: string): Promise<number> {
  const url = new URL(redisUrl);
  if (subject === 'service') {
    const redis = new Redis({ host: url.hostname, port: Number(url.port), lazyConnect: true });
    try {
      return await redis.xlen(`${SERVICE_PREFIX}:event-log`);
    } finally {
      redis.disconnect();
    }
  }
  const queue = new Queue('bare-events', {
    connection: { host: url.hostname, port: Number(url.port) },
    prefix: 'bare',
  });
  try {
    return await queue.getWaitingCount();
  } finally {
    await queue.close();
  }
}

/** Ids the simulator put on a live socket (sockets > 0) since `fromIndex` of its sent log. */
export function sentIds(sim: OpentactSimulator, fromIndex = 0): { id: string; at: number }[] {
  const log = sim.sentLog;
  const result: { id: string; at: number }[] = [];
  for (let i = fromIndex; i < log.length; i++) {
    if (log[i].sockets > 0) {
      result.push({ id: log[i].id, at: log[i].at });
    }
  }
  return result;
}
