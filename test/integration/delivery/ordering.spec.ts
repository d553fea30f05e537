import { DeliveryStatus } from '../../../src/delivery/delivery.model';
import { CALL_STATES, buildFrame, newCall } from '../../../src/simulator/frame-factory';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForDelivery,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
import { deliveryIdOf } from '../../../src/queue/queue.constants';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { ProgrammableReceiver, type RecordedRequest } from '../../support/webhook-receivers';

interface Arrived {
  callId: string;
  state: string;
  ok: boolean;
}

function parse(request: RecordedRequest): { callId: string; state: string } {
  const body = JSON.parse(request.body) as { data: { callId: string; state: string } };
  return { callId: body.data.callId, state: body.data.state };
}

/** Per call, the states the receiver accepted (2xx), in the order it accepted them. */
function acceptedOrder(arrived: Arrived[]): Map<string, string[]> {
  const byCall = new Map<string, string[]>();
  for (const a of arrived) {
    if (a.ok) {
      byCall.set(a.callId, [...(byCall.get(a.callId) ?? []), a.state]);
    }
  }
  return byCall;
}

/**
 * A receiver that fails the first attempt of every third event, and takes a little time over
 * each request so that concurrent deliveries of one call would overtake each other.
 */
function flakyReceiver(arrived: Arrived[]): ProgrammableReceiver {
  const seen = new Set<string>();
  let n = 0;
  return new ProgrammableReceiver((request) => {
    const id = request.headers['webhook-id'] ?? '';
    const first = !seen.has(id);
    seen.add(id);
    const fail = first && n++ % 3 === 0;
    arrived.push({ ...parse(request), ok: !fail });
    return fail ? { status: 500 } : { status: 200, delayMs: 3 };
  });
}

describe('delivery: per-key ordering', () => {
  const prefix = uniquePrefix('delivery-ordering');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  const orderedArrivals: Arrived[] = [];
  const unorderedArrivals: Arrived[] = [];
  let ordered: ProgrammableReceiver;
  let unordered: ProgrammableReceiver;
  let orderedId: string;
  let unorderedId: string;

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, {
      DELIVERY_RETRY_SCHEDULE: '100ms,200ms,300ms',
      FANOUT_CONCURRENCY: '100',
    });
    ordered = await flakyReceiver(orderedArrivals).start();
    unordered = await flakyReceiver(unorderedArrivals).start();
    const a = await createSubscription(bridge, {
      url: ordered.url(),
      eventTypes: ['call.*'],
      ordering: 'per-key',
    });
    const b = await createSubscription(bridge, { url: unordered.url(), eventTypes: ['call.*'] });
    orderedId = a.id;
    unorderedId = b.id;
    await waitForRegistry(bridge, [a.id, b.id]);
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await ordered?.stop();
    await unordered?.stop();
    await deletePrefix(prefix);
  });

  it('shows the ordering on read and refuses an unknown one', async () => {
    const read = await api<{ ordering: string }>(bridge, 'GET', `/v1/subscriptions/${orderedId}`);
    expect(read.body.ordering).toBe('per-key');
    const bad = await api(bridge, 'PATCH', `/v1/subscriptions/${orderedId}`, { ordering: 'fifo' });
    expect(bad.status).toBe(400);
  });

  it('delivers the states of each call in order, retries included; other calls go in parallel', async () => {
    const calls = Array.from({ length: 20 }, () => newCall('in'));
    // Interleaved: every call's init, then every call's ringing, ...
    for (const state of CALL_STATES) {
      for (const call of calls) {
        sim.emit(buildFrame('call_state', 'newer', undefined, { call, state: state }));
      }
    }
    const total = calls.length * CALL_STATES.length;
    const accepted = (list: Arrived[]) => list.filter((a) => a.ok).length;
    await waitFor(
      () => accepted(orderedArrivals) >= total && accepted(unorderedArrivals) >= total,
      30_000,
      'every event accepted by both receivers',
    );
    await waitForIdle(bridge, 20_000);

    const expected = [...CALL_STATES];
    const byCall = acceptedOrder(orderedArrivals);
    expect(byCall.size).toBe(calls.length);
    for (const call of calls) {
      expect({ call: call.uuid, states: byCall.get(call.uuid) }).toEqual({
        call: call.uuid,
        states: expected,
      });
    }
    // Nothing delivered twice.
    expect(accepted(orderedArrivals)).toBe(total);
    // The same traffic without ordering is overtaken by its own retries.
    const outOfOrder = [...acceptedOrder(unorderedArrivals).values()].filter(
      (states) => states.join() !== expected.join(),
    );
    expect(outOfOrder.length).toBeGreaterThan(0);
  });

  it('sends a dead delivery retried by hand at once, and the key goes on in order after it', async () => {
    const down = await new ProgrammableReceiver({ status: 500 }).start();
    try {
      const sub = await createSubscription(bridge, {
        url: down.url(),
        eventTypes: ['call.*'],
        ordering: 'per-key',
      });
      await waitForRegistry(bridge, [orderedId, unorderedId, sub.id]);
      const call = newCall('in');
      const [init] = [buildFrame('call_state', 'newer', undefined, { call, state: 'init' })];
      sim.emit(init);
      const deliveryId = deliveryIdOf(String(init.uuid), sub.id);
      await waitForDelivery(bridge, deliveryId, (d) => d.status === DeliveryStatus.Dead, 15_000);

      // The endpoint is back; the next state of the call goes (the dead one left the lane) ...
      down.respondWith({ status: 204 });
      const ringing = buildFrame('call_state', 'newer', undefined, { call, state: 'ringing' });
      sim.emit(ringing);
      await waitFor(() => down.webhookIds().includes(String(ringing.uuid)), 10_000, 'ringing');
      // ... and the dead one, retried by hand, is sent now, not after a turn that never comes.
      const retried = await api(bridge, 'POST', `/v1/deliveries/${deliveryId}/retry`);
      expect(retried.status).toBe(202);
      const done = await waitForDelivery(
        bridge,
        deliveryId,
        (d) => d.status === DeliveryStatus.Succeeded,
        5_000,
      );
      expect(done.status).toBe(DeliveryStatus.Succeeded);
    } finally {
      await down.stop();
    }
  });
});
