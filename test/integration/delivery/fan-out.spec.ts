import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { FanOut } from '../../../src/delivery/fan-out.service';
import type { NormalizedEvent } from '../../../src/events/normalized-event';
import {
  type DeliveryJobData,
  type EventJobData,
  eventJobId,
  QueueName,
} from '../../../src/queue/queue.constants';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import { USER_AGENT } from '../../../src/version';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
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
    await waitForIdle(bridge, 10);
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
      expect(body.data).toMatchObject({ direction: 'inbound', to: OUR_TN, tn: OUR_TN });
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
    const events = bridge.app.get<Queue<EventJobData>>(getQueueToken(QueueName.Events));
    const fanOut = bridge.app.get(FanOut);
    // The inbound SMS matches five subscriptions.
    const eventId = emitted.smsInbound[0];
    const matching = ROUTES.map((r, i) => [r, i] as const).filter(([r]) =>
      r.expected(emitted).includes(eventId),
    );
    expect(matching.length).toBeGreaterThanOrEqual(4);
    const job = await events.getJob(eventJobId(eventId));
    expect(job).toBeDefined();
    expect(await job!.getState()).toBe('completed');
    const firstFinishedOn = job!.finishedOn!;

    // A fan-out step that ran again (in process) creates nothing...
    expect(await fanOut.fanOut(job!.data, Date.parse(job!.data.receivedAt))).toBe(0);
    // ...and the same through BullMQ: the completed event job is retried by its worker.
    await job!.retry('completed');
    await waitFor(
      async () => {
        const again = await events.getJob(eventJobId(eventId));
        return (
          again !== undefined &&
          (await again.getState()) === 'completed' &&
          (again.finishedOn ?? 0) > firstFinishedOn
        );
      },
      10_000,
      'the retried fan-out to complete',
    );
    await waitForIdle(bridge, 10);

    for (const [route, index] of matching) {
      expect({ route: route.name, seen: receivers[index].forWebhook(eventId).length }).toEqual({
        route: route.name,
        seen: 1,
      });
    }
  });
});

/** Waits until every event job is done and no delivery job is waiting, running or delayed. */
async function waitForIdle(bridge: StartedApp, eventCount: number): Promise<void> {
  const events = bridge.app.get<Queue<EventJobData>>(getQueueToken(QueueName.Events));
  const deliveries = bridge.app.get<Queue<DeliveryJobData>>(getQueueToken(QueueName.Deliveries));
  await waitFor(
    async () => {
      const e = await events.getJobCounts('completed', 'waiting', 'active', 'delayed');
      const d = await deliveries.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return (
        e.completed >= eventCount &&
        e.waiting + e.active + e.delayed === 0 &&
        d.waiting + d.active + d.delayed + d.prioritized === 0
      );
    },
    10_000,
    'the queues to drain',
  );
}

describe('delivery: no second delivery when an old fan-out runs again', () => {
  const prefix = uniquePrefix('delivery-fanout-retained');
  /** The smallest retention count: the deliveries queue outgrows it long before the events queue. */
  const RETAINED = 100;
  const EVENTS = 60;
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receivers: ProgrammableReceiver[];

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, { EVENT_RETENTION_MAX_COUNT: String(RETAINED) });
    receivers = await startReceivers(2, { status: 204 });
    const ids: string[] = [];
    for (const receiver of receivers) {
      ids.push((await createSubscription(bridge, { url: receiver.url(), eventTypes: ['*'] })).id);
    }
    await waitForRegistry(bridge, ids);
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all((receivers ?? []).map((r) => r.stop()));
    await deletePrefix(prefix);
  });

  it('retrying the fan-out of an event whose delivery jobs were trimmed sends nothing again', async () => {
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      ids.push(...idsOf(sim.emitScenario('balance', 'newer')));
    }
    await waitFor(
      () => receivers.every((r) => r.requests.length === EVENTS),
      15_000,
      'every event at both receivers',
    );
    await waitForIdle(bridge, EVENTS);
    const events = bridge.app.get<Queue<EventJobData>>(getQueueToken(QueueName.Events));
    const first = await events.getJob(eventJobId(ids[0]));
    // The event is still retained (it can be fanned out again), its delivery jobs are not.
    expect(first).toBeDefined();
    const deliveries = bridge.app.get<Queue<DeliveryJobData>>(getQueueToken(QueueName.Deliveries));
    expect((await deliveries.getJobCounts('completed')).completed).toBeLessThanOrEqual(RETAINED);

    const finishedOn = first!.finishedOn!;
    await first!.retry('completed');
    await waitFor(
      async () => ((await events.getJob(eventJobId(ids[0])))?.finishedOn ?? 0) > finishedOn,
      10_000,
      'the retried fan-out to complete',
    );
    await waitForIdle(bridge, EVENTS);
    for (const receiver of receivers) {
      expect(receiver.forWebhook(ids[0]).length).toBe(1);
    }
  });
});
