import { CALL_STATES, buildFrame, newCall } from '../../../src/simulator/frame-factory';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
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
});
