import { type DeliveryRecord, DeliveryStatus } from '../../../src/delivery/delivery.model';
import { EventLog } from '../../../src/events/event-log';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { StatusDto } from '../../../src/status/dto/status.dto';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForIdle,
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
      [healthy, failing].map((r) =>
        createSubscription(bridge, { url: r.url(), eventTypes: ['*'] }),
      ),
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

/**
 * When the events deliveries wait for alone exceed the byte budget, the oldest are evicted and
 * every delivery that loses its event is a skipped delivery with its reason: listed, counted in
 * /v1/status, told by readiness, a metric and a `bridge.event_log.over_budget` event. Nothing is
 * lost silently: each event is delivered once the endpoint is back, or listed as skipped.
 */
describe('delivery: retention over the byte budget', () => {
  const prefix = uniquePrefix('delivery-retention-budget');
  const BUDGET = 65_536;
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let failing: ProgrammableReceiver;
  let operator: ProgrammableReceiver;

  beforeAll(async () => {
    sim = await startSimulator();
    failing = await new ProgrammableReceiver({ status: 503 }).start();
    operator = await new ProgrammableReceiver({ status: 204 }).start();
    bridge = await startBridge(sim, prefix, {
      EVENT_RETENTION_MAX_BYTES: String(BUDGET),
      DELIVERY_RETRY_SCHEDULE: SCHEDULE,
      WORKER_LOCK_MS: '3000',
    });
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all([failing?.stop(), operator?.stop()]);
    await deletePrefix(prefix);
  });

  async function listSkipped(): Promise<DeliveryRecord[]> {
    const all: DeliveryRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await api<{ data: DeliveryRecord[]; nextCursor?: string }>(
        bridge,
        'GET',
        `/v1/deliveries?status=skipped&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      all.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor !== undefined);
    return all;
  }

  it('records every delivery whose event it cannot keep as skipped, and says so', async () => {
    const sub = await createSubscription(bridge, { url: failing.url(), eventTypes: ['*'] });
    const ops = await createSubscription(bridge, {
      url: operator.url(),
      eventTypes: ['bridge.*'],
    });
    await waitForRegistry(bridge, [sub.id, ops.id]);
    // Each event takes a few hundred bytes: 600 of them are several times the budget.
    await sim.emitAtRate({ ratePerSecond: 200, count: 600, kind: 'call' });
    const skipped = await waitFor(
      async () => {
        const listed = await listSkipped();
        return listed.length > 0 ? listed : undefined;
      },
      20_000,
      'a skipped delivery to be listed',
    );
    for (const record of skipped) {
      expect(record).toMatchObject({ subscriptionId: sub.id, status: DeliveryStatus.Skipped });
      // A retry that ran between the eviction and its record finds the event gone itself.
      expect(record.lastError).toMatch(
        /^(event evicted from the log: .*EVENT_RETENTION_MAX_BYTES|event no longer retained)$/,
      );
    }
    expect(skipped.some((r) => r.lastError!.includes('EVENT_RETENTION_MAX_BYTES'))).toBe(true);

    const status = await api<StatusDto>(bridge, 'GET', '/v1/status');
    // Still changing (retries in flight find their events gone): counted exactly at the end.
    expect(status.body.deliveries.skipped).toBeGreaterThan(0);
    expect(status.body.events.retention.overBudget).not.toBeNull();
    expect(status.body.events.retention.budgetBytes).toBe(BUDGET);
    const ready = await api<{ details: Record<string, Record<string, unknown>> }>(
      bridge,
      'GET',
      '/health/ready',
    );
    expect(ready.body.details.event_log.message).toMatch(/over its byte budget/);
    const metrics = await api<string>(bridge, 'GET', '/metrics');
    expect(metrics.body).toMatch(/^otb_event_log_evicted_total [1-9]/m);
    expect(metrics.body).toMatch(/^otb_event_log_over_budget 1$/m);
    await waitFor(
      () =>
        operator.requests.some(
          (r) => (JSON.parse(r.body) as { type: string }).type === 'bridge.event_log.over_budget',
        ),
      10_000,
      'the bridge.event_log.over_budget event',
    );

    // Back: every event arrives, or its delivery is listed as skipped; none is in neither.
    failing.respondWith({ status: 204 });
    await waitForIdle(bridge, 60_000);
    const finalSkipped = await listSkipped();
    expect(new Set(finalSkipped.map((r) => r.id)).size).toBe(finalSkipped.length);
    const skippedEvents = new Set(finalSkipped.map((r) => r.eventId));
    const received = new Set(failing.webhookIds());
    const all = await allDeliveries(sub.id);
    expect(all.length).toBeGreaterThan(finalSkipped.length);
    for (const record of all) {
      expect(received.has(record.eventId) || skippedEvents.has(record.eventId)).toBe(true);
    }
    expect((await api<StatusDto>(bridge, 'GET', '/v1/status')).body.deliveries.skipped).toBe(
      finalSkipped.length,
    );
  }, 120_000);

  async function allDeliveries(subscriptionId: string): Promise<DeliveryRecord[]> {
    const all: DeliveryRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await api<{ data: DeliveryRecord[]; nextCursor?: string }>(
        bridge,
        'GET',
        `/v1/deliveries?subscriptionId=${subscriptionId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      all.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor !== undefined);
    return all;
  }
});
