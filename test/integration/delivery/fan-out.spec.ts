import { Redis } from 'ioredis';
import { DeliveryWorkers } from '../../../src/delivery/delivery-workers.service';
import { FanOut } from '../../../src/delivery/fan-out.service';
import { EventLog, FAN_OUT_GROUP } from '../../../src/events/event-log';
import type { NormalizedEvent } from '../../../src/events/normalized-event';
import { parseWebhookBody } from '../../../src/events/webhook-body';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import { USER_AGENT } from '../../../src/version';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
import {
  deletePrefix,
  type StartedApp,
  testRedis,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { ProgrammableReceiver, startReceivers } from '../../support/webhook-receivers';

/** The simulator's numbers: our DID, and the remote party of its calls and messages. */
const OUR_TN = '18382049000';
const REMOTE = '18389999168';

interface Route {
  name: string;
  body: Record<string, unknown>;
  /** Event ids this subscription must get, each exactly once. */
  expected: (ids: EmittedIds) => string[];
}

interface EmittedIds {
  calls: string[];
  smsInbound: string[];
  smsOutbound: string[];
  balance: string[];
  unknown: string[];
}

const ROUTES: Route[] = [
  {
    name: 'call.*',
    body: { eventTypes: ['call.*'], headers: { 'X-Tenant': 'acme', 'X-Route': 'calls' } },
    expected: (e) => e.calls,
  },
  {
    name: '*',
    body: { eventTypes: ['*'] },
    expected: (e) => [...e.calls, ...e.smsInbound, ...e.smsOutbound, ...e.balance, ...e.unknown],
  },
  { name: 'sms.inbound', body: { eventTypes: ['sms.inbound'] }, expected: (e) => e.smsInbound },
  { name: 'opentact.*', body: { eventTypes: ['opentact.*'] }, expected: (e) => e.unknown },
  {
    name: '* where direction = inbound',
    body: { eventTypes: ['*'], filter: { direction: 'inbound' } },
    expected: (e) => [...e.calls, ...e.smsInbound],
  },
  {
    name: 'call.* where direction = outbound',
    body: { eventTypes: ['call.*'], filter: { direction: 'outbound' } },
    expected: () => [],
  },
  {
    name: 'sms.* where to in [remote, other]',
    body: { eventTypes: ['sms.*'], filter: { to: ['15550000000', REMOTE] } },
    expected: (e) => e.smsOutbound,
  },
  {
    name: '* where tn in [other, ours]',
    body: { eventTypes: ['*'], filter: { tn: ['10000000000', OUR_TN] } },
    expected: (e) => [...e.calls, ...e.smsInbound, ...e.smsOutbound],
  },
  {
    name: '* where tn = other',
    body: { eventTypes: ['*'], filter: { tn: '10000000000' } },
    expected: () => [],
  },
];

function idsOf(frames: Record<string, unknown>[]): string[] {
  return frames.map((f) => f.uuid as string);
}

describe('delivery: fan-out to subscriptions by type pattern and filter', () => {
  const prefix = uniquePrefix('delivery-fanout');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receivers: ProgrammableReceiver[];
  const subscriptionIds: string[] = [];
  let emitted: EmittedIds;

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix);
    receivers = await startReceivers(ROUTES.length, { status: 204 });
    for (const [i, route] of ROUTES.entries()) {
      const sub = await createSubscription(bridge, {
        url: receivers[i].url(),
        description: route.name,
        ...route.body,
      });
      subscriptionIds.push(sub.id);
    }
    await waitForRegistry(bridge, subscriptionIds);

    emitted = {
      calls: idsOf(sim.emitScenario('inbound-call', 'newer')),
      smsInbound: idsOf(sim.emitScenario('inbound-sms', 'newer')),
      smsOutbound: idsOf(sim.emitScenario('outbound-sms', 'newer')),
      balance: idsOf(sim.emitScenario('balance', 'newer')),
      unknown: idsOf(sim.emitScenario('unknown-kind', 'newer')),
    };
    const total = ROUTES.reduce((n, r) => n + r.expected(emitted).length, 0);
    await waitFor(
      () => receivers.reduce((n, r) => n + r.requests.length, 0) >= total,
      15_000,
      `${total} webhooks`,
    );
    // Every event fanned out and every delivery finished: nothing else can still arrive.
    await waitForIdle(bridge);
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all((receivers ?? []).map((r) => r.stop()));
    await deletePrefix(prefix);
  });

  it.each(ROUTES.map((route, index) => [route.name, index] as const))(
    '%s gets exactly its events, once each',
    (_name, index) => {
      const expected = ROUTES[index].expected(emitted);
      expect([...receivers[index].webhookIds()].sort()).toEqual([...expected].sort());
    },
  );

  it('sends the normalised event as the body, with the documented and custom headers', async () => {
    const calls = receivers[0];
    expect(calls.requests).toHaveLength(5);
    for (const request of calls.requests) {
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toBe(USER_AGENT);
      expect(USER_AGENT).toMatch(/^opentact-bridge\/\d+\.\d+\.\d+/);
      expect(request.headers['x-tenant']).toBe('acme');
      expect(request.headers['x-route']).toBe('calls');
      expect(request.headers['webhook-timestamp']).toMatch(/^\d+$/);
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);

      const body = JSON.parse(request.body) as NormalizedEvent;
      expect(Object.keys(body)).toEqual(['id', 'type', 'occurredAt', 'receivedAt', 'data', 'raw']);
      expect(request.headers['webhook-id']).toBe(body.id);
      expect(body.type).toMatch(/^call\./);
      expect(body.data).toMatchObject({ direction: 'inbound', to: `+${OUR_TN}`, tn: `+${OUR_TN}` });
      // The same event the admin API shows, field for field; raw is the frame as emitted.
      const stored = await api<NormalizedEvent>(bridge, 'GET', `/v1/events/${body.id}`);
      expect(stored.status).toBe(200);
      expect(body).toEqual(stored.body);
      expect(sim.sentLog.some((entry) => entry.id === body.raw.uuid)).toBe(true);
    }
    // Custom headers belong to their own subscription only.
    for (const other of receivers.slice(1)) {
      for (const request of other.requests) {
        expect(request.headers['x-tenant']).toBeUndefined();
        expect(request.headers['user-agent']).toBe(USER_AGENT);
      }
    }
    const types = calls.requests.map((r) => (JSON.parse(r.body) as NormalizedEvent).type).sort();
    expect(types).toEqual([
      'call.destroyed',
      'call.hangup',
      'call.initiated',
      'call.live',
      'call.ringing',
    ]);
  });

  it('delivers nothing twice when the fan-out of an event runs again', async () => {
    const fanOut = bridge.app.get(FanOut);
    // The inbound SMS matches five subscriptions.
    const eventId = emitted.smsInbound[0];
    const matching = ROUTES.map((r, i) => [r, i] as const).filter(([r]) =>
      r.expected(emitted).includes(eventId),
    );
    expect(matching.length).toBeGreaterThanOrEqual(4);
    const logged = await bridge.app.get(EventLog).get(eventId);
    expect(logged).toBeDefined();

    // Handed out again (a claimed entry): every delivery is found already made.
    expect(await fanOut.fanOut({ ...logged!, deliveries: 2 })).toBe(0);
    await waitForIdle(bridge);
    for (const [route, index] of matching) {
      expect({ route: route.name, seen: receivers[index].forWebhook(eventId).length }).toEqual({
        route: route.name,
        seen: 1,
      });
    }
  });
});

describe('delivery: events a worker took and never finished are claimed by another', () => {
  const prefix = uniquePrefix('delivery-fanout-claim');
  let sim: OpentactSimulator;
  let ingest: StartedApp;
  let worker: StartedApp | undefined;
  let receiver: ProgrammableReceiver;
  let redis: Redis;

  beforeAll(async () => {
    sim = await startSimulator();
    // An ingest process, without a fan-out: entries wait in the log for a worker.
    ingest = await startBridge(sim, prefix, { APP_ROLE: 'ingest' });
    [receiver] = await startReceivers(1, { status: 204 });
    redis = testRedis();
  });

  afterAll(async () => {
    await worker?.app.close();
    await ingest?.app.close();
    await sim?.stop();
    await receiver?.stop();
    await redis?.quit().catch(() => redis.disconnect());
    await deletePrefix(prefix);
  });

  it('fans out what a dead worker left pending exactly once, whether or not it had started', async () => {
    const ids = idsOf(sim.emitScenario('inbound-call', 'newer'));
    const log = ingest.app.get(EventLog);
    await waitFor(async () => (await log.stats()).length === ids.length, 5_000, 'events logged');
    await log.ensureGroup();
    // A worker that read every entry and died: they stay pending under its name.
    const read = await log.readNew(redis, 'dead-worker', 100, 100);
    expect(read.map((e) => parseWebhookBody(e.body).id)).toEqual(ids);

    // The receiver's subscription exists before any worker runs, and the dead worker had
    // delivered the first two events before dying (made here by an api process's fan-out).
    const api = await startBridge(sim, prefix, { APP_ROLE: 'api' });
    const sub = await createSubscription(api, { url: receiver.url(), eventTypes: ['*'] });
    await waitForRegistry(api, [sub.id]);
    for (const entry of read.slice(0, 2)) {
      await api.app.get(FanOut).fanOut(entry);
    }
    await api.app.close();
    expect(receiver.requests).toHaveLength(2);

    // A live worker takes the entries over once they have been idle for WORKER_LOCK_MS.
    worker = await startBridge(sim, prefix, {
      APP_ROLE: 'worker',
      DELIVERY_TIMEOUT_MS: '1000',
      WORKER_LOCK_MS: '1500',
    });

    await waitFor(() => receiver.requests.length >= ids.length, 10_000, 'every event delivered');
    await waitForIdle(worker);
    // Each exactly once: the two it had done were recognised, the others delivered now.
    expect([...receiver.webhookIds()].sort()).toEqual([...ids].sort());
    expect(receiver.requests).toHaveLength(ids.length);
    const pending = (await redis.xpending(log.streamKey, FAN_OUT_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    expect(worker.app.get(DeliveryWorkers).fanOut.inflightCount).toBe(0);
  });
});
