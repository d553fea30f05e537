import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { createSubscription, E2E_ADMIN_KEY, opentactEnv, sleep, until } from '../support/e2e-env';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/harness';
import { killAllServices, type ServiceProcess, startService } from '../support/process-harness';
import { RecordingReceiver, simulatorId } from '../support/recording-receiver';
import { waitForSettled, waitForSubscriptions } from '../support/service-conditions';

const SHUTDOWN_TIMEOUT_MS = 5_000;
const WORKER_CONCURRENCY = 50;
const RATE = 200;
const FRAMES = 1_200;

/**
 * SIGTERM under load, then a fresh process on the same QUEUE_PREFIX: every event the simulator
 * sent to the first process reaches the receiver. Duplicates are only acceptable for attempts in
 * flight when the first process stopped.
 */
describe('graceful shutdown under load loses nothing', () => {
  const prefix = uniquePrefix('e2e-shutdown');
  let sim: OpentactSimulator;
  let receiver: RecordingReceiver;

  const env = (): Record<string, string> => ({
    APP_ROLE: 'all',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ADMIN_API_KEY: E2E_ADMIN_KEY,
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    ...opentactEnv(sim),
  });

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0 });
    receiver = new RecordingReceiver({ ok: { status: 204, delayMs: 50 } });
    await Promise.all([sim.start(), receiver.start()]);
  });

  afterAll(async () => {
    await killAllServices();
    await Promise.all([sim?.stop(), receiver?.stop()]);
    await deletePrefix(prefix);
  });

  it('SIGTERM drains with readiness 503 and exit 0; a fresh process delivers every event', async () => {
    const first: ServiceProcess = await startService({ name: 'first', env: env() });
    await first.waitForReady(200);
    await createSubscription(first, { url: receiver.url('ok'), eventTypes: ['*'] });
    await waitForSubscriptions(first, 1);

    const load = sim.emitAtRate({ ratePerSecond: RATE, count: FRAMES });
    // Stop mid-load: once two seconds' worth was delivered, with most of the frames still to come.
    await until(() => receiver.received.length >= 2 * RATE, 15_000, 'deliveries to flow');
    const receivedAtKill = receiver.received.length;
    first.signal('SIGTERM');
    const probes: (number | undefined)[] = [];
    while (!first.hasExited) {
      probes.push((await first.ready())?.status);
      await sleep(20);
    }
    const exit = await first.exited;
    const receivedAtExit = receiver.received.length;
    await load;

    // Frames that reached a socket reached the first process: the only one connected.
    const expected = new Set(sim.sentLog.filter((e) => e.sockets >= 1).map((e) => e.id));
    const second = await startService({ name: 'second', env: env() });
    const received = (): Set<string> =>
      new Set(receiver.received.map(simulatorId).filter((id): id is string => id !== undefined));
    let missing: string[] = [];
    try {
      await until(
        () => {
          const got = received();
          missing = [...expected].filter((id) => !got.has(id));
          return missing.length === 0;
        },
        30_000,
        'every event sent to the first process',
      );
    } catch (error) {
      throw new Error(
        `${missing.length} of ${expected.size} events never delivered (e.g. ${missing.slice(0, 3).join(', ')}); ${String(error)}`,
      );
    }
    // Nothing left in fan-out or in the queue: any late duplicate has arrived before counting.
    await waitForSettled(second, 20_000);
    const perId = new Map<string, number>();
    for (const webhook of receiver.received) {
      perId.set(webhook.webhookId, (perId.get(webhook.webhookId) ?? 0) + 1);
    }
    const duplicates = [...perId.values()].filter((n) => n > 1).length;
    const answered = probes.filter((p): p is number => p !== undefined);
    console.log(
      JSON.stringify({
        shutdown: { exitCode: exit.code, afterMs: exit.afterMs },
        readinessWhileStopping: answered,
        sent: sim.sentLog.length,
        sentToFirst: expected.size,
        deliveredBeforeKill: receivedAtKill,
        deliveredByFirst: receivedAtExit,
        deliveredBySecond: receiver.received.length - receivedAtExit,
        duplicates,
      }),
    );

    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.afterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 3_000);
    // Readiness failed as soon as the drain began, for as long as the server still answered.
    expect(answered.length).toBeGreaterThan(0);
    // A probe sent before the process handled the signal may still see 200; once readiness has
    // failed it must stay failed.
    const firstFailure = answered.indexOf(503);
    expect(firstFailure).toBeGreaterThanOrEqual(0);
    expect(answered.slice(firstFailure).every((status) => status === 503)).toBe(true);
    expect(expected.size).toBeGreaterThan(RATE); // the load really overlapped the shutdown
    expect(expected.size).toBeLessThan(FRAMES);
    expect(duplicates).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    expect(second.hasExited).toBe(false);
  });
});
