import { DeliveryStatus } from '../../../src/delivery/delivery.model';
import { EventLog } from '../../../src/events/event-log';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { StatusDto } from '../../../src/status/dto/status.dto';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

/**
 * An endpoint that is down for longer than the event log's count cap covers: while its retries are
 * scheduled, its events stay in the log (the cap only removes finished ones), and once it answers
 * again it receives every one of them.
 */
const CAP = 100;
const EVENTS = 4 * CAP;
/** 30 retries a second apart: the schedule outlasts the outage by far. */
const SCHEDULE = Array<string>(30).fill('1s').join(',');

describe('delivery: retention while an endpoint is down', () => {
  const prefix = uniquePrefix('delivery-retention');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let healthy: ProgrammableReceiver;
  let failing: ProgrammableReceiver;

  beforeAll(async () => {
    sim = await startSimulator();
    healthy = await new ProgrammableReceiver({ status: 204 }).start();
    failing = await new ProgrammableReceiver({ status: 503 }).start();
    bridge = await startBridge(sim, prefix, {
      EVENT_RETENTION_MAX_COUNT: String(CAP),
      DELIVERY_RETRY_SCHEDULE: SCHEDULE,
      // Maintenance (trimming) runs every WORKER_LOCK_MS / 3: once a second here.
      WORKER_LOCK_MS: '3000',
    });
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all([healthy?.stop(), failing?.stop()]);
    await deletePrefix(prefix);
  });

  const uniqueIds = (r: ProgrammableReceiver): Set<string> => new Set(r.webhookIds());

  it('keeps every event a failing delivery waits for, beyond the count cap', async () => {
    const subs = await Promise.all(
      [healthy, failing].map((r) => createSubscription(bridge, { url: r.url(), eventTypes: ['*'] })),
    );
    await waitForRegistry(
      bridge,
      subs.map((s) => s.id),
    );
    await sim.emitAtRate({ ratePerSecond: 200, count: EVENTS, kind: 'call' });
    // Some generated frames are states an event already had: what the healthy endpoint got, once
    // it stops growing, is every event there is.
    let seen = -1;
    await waitFor(
      async () => {
        const now = uniqueIds(healthy).size;
        const stable = now === seen;
        seen = now;
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        return stable && now > 0;
      },
      30_000,
      () => `the healthy endpoint (has ${uniqueIds(healthy).size})`,
    );
    const events = uniqueIds(healthy);
    expect(events.size).toBeGreaterThan(CAP * 1.5);
    // Several maintenance passes (trims) while every delivery to the failing endpoint waits.
    const log = bridge.app.get(EventLog);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await log.stats()).length).toBeGreaterThanOrEqual(events.size);

    failing.respondWith({ status: 204 });
    await waitFor(
      () => [...events].every((id) => failing.forWebhook(id).length > 0),
      40_000,
      () => `every event at the endpoint that came back (has ${uniqueIds(failing).size})`,
    );

    const skipped = await api<{ data: unknown[] }>(
      bridge,
      'GET',
      `/v1/deliveries?status=${DeliveryStatus.Skipped}&limit=100`,
    );
    expect(skipped.body.data).toEqual([]);
    const status = await api<StatusDto>(bridge, 'GET', '/v1/status');
    expect(status.body.deliveries.lastHour.skipped).toBe(0);
    // Finished now: the cap applies to them again.
    await waitFor(
      async () => (await log.stats()).length <= CAP * 1.5,
      10_000,
      'the log to be trimmed to its cap once the deliveries finished',
    );
  }, 120_000);
});
