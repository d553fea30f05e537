import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/redis-provider';
import { buildFrame, newCall } from '../../src/simulator/frame-factory';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import {
  createSubscription,
  E2E_ADMIN_KEY,
  opentactEnv,
  sleep,
  spawnRedisAt,
  stopChild,
  until,
} from '../support/e2e-env';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/harness';
import { killAllServices, type ServiceProcess, startService } from '../support/process-harness';
import { ProgrammableReceiver, type RecordedRequest } from '../support/webhook-receivers';

const LIFECYCLE = ['init', 'ringing', 'live', 'hangup', 'destroyed'];

/** Short retries and a short lock, so a killed worker's work comes back within the test. */
const FAST = {
  DELIVERY_RETRY_SCHEDULE: '1s,1s,2s,2s,5s,5s,10s,10s',
  DELIVERY_RETRY_JITTER: '0',
  DELIVERY_TIMEOUT_MS: '2000',
  WORKER_LOCK_MS: '3000',
  LOG_LEVEL: 'info',
};

interface Accepted {
  callId: string;
  state: string;
  webhookId: string;
}

/**
 * A per-key receiver's view: fails the first attempt of one event in four, answers the rest
 * after a few ms (so deliveries of one call would overtake each other if they could), and keeps
 * the 2xx-answered events in the order it answered them.
 */
class OrderCheckingReceiver {
  readonly accepted: Accepted[] = [];
  /** Answer 500 to everything (a receiver that is down). */
  failAll = false;
  private readonly attempted = new Set<string>();
  private n = 0;
  readonly http = new ProgrammableReceiver((request) => this.reply(request));

  /** Per call, its states in the order they were accepted; a retried duplicate counts once. */
  byCall(): Map<string, string[]> {
    const seen = new Set<string>();
    const calls = new Map<string, string[]>();
    for (const a of this.accepted) {
      if (!seen.has(a.webhookId)) {
        seen.add(a.webhookId);
        calls.set(a.callId, [...(calls.get(a.callId) ?? []), a.state]);
      }
    }
    return calls;
  }

  uniqueAccepted(): number {
    return new Set(this.accepted.map((a) => a.webhookId)).size;
  }

  private reply(request: RecordedRequest): { status: number; delayMs?: number } {
    const webhookId = request.headers['webhook-id'] ?? '';
    const first = !this.attempted.has(webhookId);
    this.attempted.add(webhookId);
    if (this.failAll || (first && this.n++ % 4 === 0)) {
      return { status: 500 };
    }
    const body = JSON.parse(request.body) as { data: { callId: string; state: string } };
    this.accepted.push({ callId: body.data.callId, state: body.data.state, webhookId });
    return { status: 204, delayMs: 2 };
  }
}

/** Calls whose accepted states are not the lifecycle, in order (expects all five). */
function outOfOrder(byCall: Map<string, string[]>): [string, string[]][] {
  return [...byCall].filter(([, states]) => states.join() !== LIFECYCLE.join());
}

describe('per-key order holds through worker kill -9, scale-out and a Redis restart', () => {
  let sim: OpentactSimulator;
  let receiver: OrderCheckingReceiver;

  beforeEach(async () => {
    sim = new OpentactSimulator({ port: 0 });
    receiver = new OrderCheckingReceiver();
    await Promise.all([sim.start(), receiver.http.start()]);
  });

  afterEach(async () => {
    await killAllServices();
    await Promise.all([sim?.stop(), receiver?.http.stop()]);
  });

  // Four service processes start and a killed worker's lock must expire: allow a loaded machine.
  jest.setTimeout(150_000);

  it('keeps every call in order while one worker is killed and two more join', async () => {
    const prefix = `{${uniquePrefix('e2e-order')}}`;
    try {
      const common = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, ...FAST };
      const start = (name: string, env: Record<string, string>): Promise<ServiceProcess> =>
        startService({ name, env: { ...common, ...env } });
      const [api, ingest, first] = await Promise.all([
        start('api', { APP_ROLE: 'api', ADMIN_API_KEY: E2E_ADMIN_KEY }),
        start('ingest', { APP_ROLE: 'ingest', ...opentactEnv(sim) }),
        start('worker-1', { APP_ROLE: 'worker' }),
      ]);
      await Promise.all([api, ingest, first].map((p) => p.waitForReady(200)));
      await until(() => sim.stats.authenticated === 1, 10_000, 'the ingest socket');
      await createSubscription(api, {
        url: receiver.http.url(),
        eventTypes: ['call.*'],
        ordering: 'per-key',
      });
      await sleep(500); // the worker's subscription snapshot picks up the change feed

      const calls = 60;
      const emitted = sim.emitAtRate({ ratePerSecond: 100, count: calls * 5, calls });
      // A third of the way in: scale out to three workers, then kill the first one mid-flight.
      await until(() => receiver.accepted.length >= 60, 20_000, 'deliveries under way');
      const joined = await Promise.all([
        start('worker-2', { APP_ROLE: 'worker' }),
        start('worker-3', { APP_ROLE: 'worker' }),
      ]);
      await Promise.all(joined.map((p) => p.waitForReady(200)));
      first.kill(); // SIGKILL
      const { frames } = await emitted;
      expect(frames).toBe(calls * 5);

      // The killed worker's events and jobs come back after WORKER_LOCK_MS.
      await until(
        () => receiver.uniqueAccepted() >= frames,
        90_000,
        `all ${frames} events accepted (have ${receiver.uniqueAccepted()})`,
      );
      const byCall = receiver.byCall();
      expect(byCall.size).toBe(calls);
      expect(outOfOrder(byCall)).toEqual([]);
    } finally {
      await deletePrefix(prefix);
    }
  });

  it('keeps every call in order across a Redis kill -9 and restart from its AOF', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'otb-order-redis-'));
    let redis: ChildProcess | undefined = await spawnRedisAt(port, dir);
    try {
      const bridge = await startService({
        name: 'all',
        env: {
          APP_ROLE: 'all',
          REDIS_URL: `redis://127.0.0.1:${port}`,
          ADMIN_API_KEY: E2E_ADMIN_KEY,
          ...opentactEnv(sim),
          ...FAST,
        },
      });
      await bridge.waitForReady(200);
      await until(() => sim.stats.authenticated === 1, 10_000, 'the ingest socket');
      await createSubscription(bridge, {
        url: receiver.http.url(),
        eventTypes: ['call.*'],
        ordering: 'per-key',
      });
      await sleep(500);

      // The first two states of every call while the receiver is down: every call's `init` waits
      // for its retry and holds back its `ringing` when Redis dies.
      const calls = Array.from({ length: 40 }, () => newCall('in'));
      receiver.failAll = true;
      for (const state of ['init', 'ringing'] as const) {
        calls.forEach((call) =>
          sim.emit(buildFrame('call_state', 'newer', undefined, { call, state })),
        );
      }
      await until(
        () => receiver.http.requests.length >= calls.length,
        20_000,
        'a first attempt of every init',
      );
      await sleep(1_500); // past appendfsync everysec: what was written is on disk
      await stopChild(redis, 'SIGKILL');
      redis = undefined;
      await sleep(1_000);
      redis = await spawnRedisAt(port, dir);
      receiver.failAll = false;
      for (const state of ['live', 'hangup', 'destroyed'] as const) {
        calls.forEach((call) =>
          sim.emit(buildFrame('call_state', 'newer', undefined, { call, state })),
        );
      }

      await until(
        () => receiver.uniqueAccepted() >= calls.length * 5,
        90_000,
        `all ${calls.length * 5} events accepted (have ${receiver.uniqueAccepted()})`,
      );
      const byCall = receiver.byCall();
      expect(byCall.size).toBe(calls.length);
      expect(outOfOrder(byCall)).toEqual([]);
    } finally {
      await killAllServices();
      await stopChild(redis, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
