import type { ChildProcess } from 'node:child_process';
import { freePort, startRedisServer } from '../../scripts/redis-provider';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import {
  createSubscription,
  E2E_ADMIN_KEY,
  opentactEnv,
  spawnRedisAt,
  stopChild,
  until,
} from '../support/e2e-env';
import {
  killAllServices,
  type ReadinessBody,
  type ServiceProcess,
  startService,
} from '../support/process-harness';
import { RecordingReceiver, simulatorId } from '../support/recording-receiver';

/**
 * Readiness of each role, against a private redis-server this file can pause, stop and bring back,
 * and the simulator, whose auth it can refuse. Every process is the real `main.js`.
 */
describe('health probes of the real service, per role', () => {
  type PrivateRedis = Awaited<ReturnType<typeof startRedisServer>>;
  let redis: PrivateRedis;
  /** The redis-server brought back on the same port and directory after a stop. */
  let revived: ChildProcess | undefined;
  let sim: OpentactSimulator;
  let receiver: RecordingReceiver;
  let ingest: ServiceProcess;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  const prefix = 'otb-health';

  const roles = (): ServiceProcess[] => [ingest, worker, api];

  beforeAll(async () => {
    [redis, sim, receiver] = await Promise.all([
      startRedisServer({ persistent: true }),
      (async () => {
        const s = new OpentactSimulator({ port: 0 });
        await s.start();
        return s;
      })(),
      (async () => {
        const r = new RecordingReceiver({ ok: { status: 204 } });
        await r.start();
        return r;
      })(),
    ]);
    const common = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
    [ingest, worker, api] = await Promise.all([
      startService({ name: 'ingest', env: { ...common, APP_ROLE: 'ingest', ...opentactEnv(sim) } }),
      startService({ name: 'worker', env: { ...common, APP_ROLE: 'worker' } }),
      startService({
        name: 'api',
        env: { ...common, APP_ROLE: 'api', ADMIN_API_KEY: E2E_ADMIN_KEY },
      }),
    ]);
  });

  afterAll(async () => {
    await killAllServices();
    redis?.process.kill('SIGCONT');
    await stopChild(revived, 'SIGKILL');
    await Promise.all([sim?.stop(), receiver?.stop(), redis?.stop()]);
  });

  it('is ready with the checks of its role listed, and live', async () => {
    const expected: Record<string, string[]> = {
      ingest: ['lifecycle', 'redis', 'event_log', 'opentact'],
      worker: ['lifecycle', 'redis', 'event_log', 'workers'],
      api: ['lifecycle', 'redis', 'event_log'],
    };
    for (const service of roles()) {
      const body = await service.waitForReady(200);
      expect({ role: service.name, checks: Object.keys(body.details ?? {}).sort() }).toEqual({
        role: service.name,
        checks: [...expected[service.name]].sort(),
      });
      expect(body.details?.redis).toMatchObject({ status: 'up' });
      expect((await service.get('/health/live')).status).toBe(200);
    }
    expect((await ingest.waitForReady(200)).details?.opentact).toMatchObject({ state: 'open' });
  });

  it('reports 503 naming redis while Redis does not answer (SIGSTOP), stays live, recovers', async () => {
    redis.process.kill('SIGSTOP');
    try {
      for (const service of roles()) {
        const body = await service.waitForReady(503, 10_000);
        expect(body.error?.redis).toMatchObject({
          status: 'down',
          message: expect.stringMatching(/PING/) as unknown,
        });
        expect((await service.get('/health/live')).status).toBe(200);
      }
    } finally {
      redis.process.kill('SIGCONT');
    }
    for (const service of roles()) {
      await service.waitForReady(200, 15_000);
    }
  });

  it('after Redis restarts on the same port and data, is ready again and delivers without a process restart', async () => {
    const sub = await createSubscription(api, { url: receiver.url('ok'), eventTypes: ['*'] });
    await stopChild(redis.process, 'SIGTERM');
    const down: ReadinessBody[] = await Promise.all(
      roles().map((service) => service.waitForReady(503, 10_000)),
    );
    for (const body of down) {
      expect(body.error?.redis?.status).toBe('down');
      expect(typeof body.error?.redis?.message).toBe('string');
    }
    for (const service of roles()) {
      expect((await service.get('/health/live')).status).toBe(200);
    }

    revived = await spawnRedisAt(redis.port, redis.dir);
    const startedAt = Date.now();
    await Promise.all(roles().map((service) => service.waitForReady(200, 20_000)));
    const readyAfterMs = Date.now() - startedAt;

    // The same processes: the ingest reads, the worker fans out and delivers again.
    const [frame] = sim.emitScenario('balance');
    const id = String(frame.uuid);
    await until(
      () => receiver.on('ok').some((w) => simulatorId(w) === id),
      15_000,
      `delivery of ${id} after Redis came back`,
    );
    expect(
      receiver.on('ok').find((w) => simulatorId(w) === id)?.headers['webhook-signature'],
    ).toBeTruthy();
    expect(sub.id).toMatch(/^sub_/);
    for (const service of roles()) {
      expect(service.hasExited).toBe(false);
    }
    expect(readyAfterMs).toBeLessThan(20_000);
  });

  it('ingest is not ready while Opentact refuses authentication, and is ready once it accepts', async () => {
    sim.setAuthMode('refuse');
    sim.dropAll();
    try {
      const body = await ingest.waitForReady(503, 10_000);
      expect(body.error?.opentact).toMatchObject({
        status: 'down',
        message: expect.stringMatching(/not authenticated/) as unknown,
      });
      expect(body.error?.opentact?.state).not.toBe('open');
      await until(() => sim.stats.authRefused > 0, 10_000, 'a refused auth');
      // The other roles do not depend on Opentact.
      expect((await worker.ready())?.status).toBe(200);
      expect((await api.ready())?.status).toBe(200);
    } finally {
      sim.setAuthMode('accept');
    }
    const back = await ingest.waitForReady(200, 15_000);
    expect(back.details?.opentact).toMatchObject({ status: 'up', state: 'open' });
  });

  it('a worker started while Redis is down is live but not ready, and consumes once Redis starts', async () => {
    const port = await freePort();
    const late = await startService({
      name: 'late-worker',
      env: { APP_ROLE: 'worker', REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_PREFIX: prefix },
    });
    let lateRedis: PrivateRedis | undefined;
    try {
      const body = await late.waitForReady(503, 10_000);
      expect(body.error?.redis?.status).toBe('down');
      expect(body.error?.workers).toMatchObject({ status: 'down' });
      expect((await late.get('/health/live')).status).toBe(200);

      lateRedis = await startRedisServer({ port });
      const ready = await late.waitForReady(200, 20_000);
      expect(ready.details?.workers).toMatchObject({ status: 'up' });
      // Readiness and the log line come from different parts of the worker: wait for the line.
      await late.waitForLog((l) => l.msg === 'worker consuming', 10_000, "'worker consuming'");
    } finally {
      await late.stop();
      await lateRedis?.stop();
    }
  });
});
