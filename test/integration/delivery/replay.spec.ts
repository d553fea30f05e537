import { type DeliveryRecord, DeliveryStatus } from '../../../src/delivery/delivery.model';
import { deliveryIdOf } from '../../../src/queue/queue.constants';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  api,
  createSubscription,
  getDelivery,
  MAX_ATTEMPTS,
  startBridge,
  startSimulator,
  verifyWithBothLibraries,
  waitForDelivery,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

const isDead = (r: DeliveryRecord): boolean => r.status === DeliveryStatus.Dead;
const isSucceeded = (r: DeliveryRecord): boolean => r.status === DeliveryStatus.Succeeded;

describe('delivery: retry and replay of failed deliveries', () => {
  const prefix = uniquePrefix('delivery-replay');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receiver: ProgrammableReceiver;
  let subscriptionId: string;
  let secret: string;
  /** The receiver's switch: fail every request while true. */
  let failing = true;

  const deliveryOf = (eventId: string): string => deliveryIdOf(eventId, subscriptionId);

  function emitBalance(): string {
    const [frame] = sim.emitScenario('balance', 'newer');
    return frame.uuid as string;
  }

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix);
    receiver = await new ProgrammableReceiver(() =>
      failing ? { status: 500, body: 'down for maintenance' } : { status: 200 },
    ).start();
    const sub = await createSubscription(bridge, {
      url: receiver.url(),
      eventTypes: ['account.*'],
    });
    subscriptionId = sub.id;
    secret = sub.secret;
    await waitForRegistry(bridge, [subscriptionId]);
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await receiver?.stop();
    await deletePrefix(prefix);
  });

  it('retries a dead delivery on request and delivers it, then replays a window', async () => {
    // A dead delivery, sent again by POST /v1/deliveries/:id/retry once the receiver is back.
    failing = true;
    const beforeWindow = emitBalance();
    const retried = emitBalance();
    await waitForDelivery(bridge, deliveryOf(beforeWindow), isDead);
    const dead = await waitForDelivery(bridge, deliveryOf(retried), isDead);
    expect(dead.attempts).toHaveLength(MAX_ATTEMPTS);
    expect(receiver.forWebhook(retried)).toHaveLength(MAX_ATTEMPTS);

    failing = false;
    const accepted = await api<DeliveryRecord>(
      bridge,
      'POST',
      `/v1/deliveries/${deliveryOf(retried)}/retry`,
    );
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe(DeliveryStatus.Pending);
    const delivered = await waitForDelivery(bridge, deliveryOf(retried), isSucceeded);
    expect(delivered.lastStatusCode).toBe(200);
    expect(delivered.attempts!.at(-1)).toMatchObject({ statusCode: 200 });
    expect(delivered.attempts).toHaveLength(MAX_ATTEMPTS + 1);
    // Every attempt counts, across the manual retry.
    expect(delivered.attemptCount).toBe(MAX_ATTEMPTS + 1);
    const sent = receiver.forWebhook(retried);
    expect(sent).toHaveLength(MAX_ATTEMPTS + 1);
    verifyWithBothLibraries(secret, sent.at(-1)!);
    // Still succeeded a moment later: nothing overwrote the outcome.
    expect((await getDelivery(bridge, deliveryOf(retried))).status).toBe(DeliveryStatus.Succeeded);
    expect((await getDelivery(bridge, deliveryOf(beforeWindow))).status).toBe(DeliveryStatus.Dead);

    // A window with two dead deliveries, one delivered one, and an event of another type.
    await waitFor(() => Date.now() > Date.parse(delivered.updatedAt) + 5, 1_000, 'a new ms');
    const since = new Date().toISOString();
    failing = true;
    const deadA = emitBalance();
    const deadB = emitBalance();
    await waitForDelivery(bridge, deliveryOf(deadA), isDead);
    await waitForDelivery(bridge, deliveryOf(deadB), isDead);
    failing = false;
    const fine = emitBalance();
    const [sms] = sim.emitScenario('inbound-sms', 'newer');
    await waitForDelivery(bridge, deliveryOf(fine), isSucceeded);
    const until = new Date().toISOString();
    const countOf = (id: string): number => receiver.forWebhook(id).length;
    const counts = (): number[] => [beforeWindow, retried, deadA, deadB, fine].map(countOf);
    expect(counts()).toEqual([4, 5, 4, 4, 1]);

    const failedReplay = await api<{ replayed: number }>(
      bridge,
      'POST',
      `/v1/subscriptions/${subscriptionId}/replay`,
      { since, until, scope: 'failed' },
    );
    expect(failedReplay.status).toBe(202);
    expect(failedReplay.body.replayed).toBe(2);
    await waitForDelivery(bridge, deliveryOf(deadA), isSucceeded);
    await waitForDelivery(bridge, deliveryOf(deadB), isSucceeded);
    expect(counts()).toEqual([4, 5, 5, 5, 1]);
    expect((await getDelivery(bridge, deliveryOf(beforeWindow))).status).toBe(DeliveryStatus.Dead);

    // scope all: every retained event of the window that matches, delivered or not.
    const allReplay = await api<{ replayed: number }>(
      bridge,
      'POST',
      `/v1/subscriptions/${subscriptionId}/replay`,
      { since, scope: 'all' },
    );
    expect(allReplay.status).toBe(202);
    expect(allReplay.body.replayed).toBe(3);
    await waitFor(
      () => countOf(deadA) === 6 && countOf(deadB) === 6 && countOf(fine) === 2,
      10_000,
      'the window replayed',
    );
    for (const id of [deadA, deadB, fine]) {
      const last = receiver.forWebhook(id).at(-1)!;
      expect(last.headers['webhook-id']).toBe(id);
      verifyWithBothLibraries(secret, last);
    }
    type Page = { data: DeliveryRecord[] };
    const replays = await waitFor(
      async () => {
        const page = await api<Page>(
          bridge,
          'GET',
          `/v1/deliveries?subscriptionId=${subscriptionId}&status=succeeded`,
        );
        // Replays are new deliveries, beside the original of each event.
        const extra = page.body.data.filter((d) => d.id !== deliveryOf(d.eventId));
        return extra.length === 3 ? extra : undefined;
      },
      5_000,
      'three replay deliveries listed as succeeded',
    );
    expect(replays.map((d) => d.eventId).sort()).toEqual([deadA, deadB, fine].sort());
    expect(counts()).toEqual([4, 5, 6, 6, 2]);
    expect(receiver.forWebhook(sms.uuid as string)).toHaveLength(0);
  });
});
