import { type DeliveryRecord, DeliveryStatus } from '../../../src/delivery/delivery.model';
import { deliveryIdOf } from '../../../src/queue/queue.constants';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { SubscriptionResponseDto } from '../../../src/subscriptions/dto/subscription-response.dto';
import {
  api,
  createSubscription,
  getSubscription,
  startBridge,
  startSimulator,
  waitForDelivery,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

const DISABLE_AFTER_SECONDS = 1;

interface LogLine {
  msg?: string;
  subscriptionId?: string;
  failingSince?: string;
  level?: number;
}

function parseLogs(lines: string[]): LogLine[] {
  return lines.map((line) => JSON.parse(line) as LogLine);
}

describe('delivery: a subscription failing for too long is disabled', () => {
  const prefix = uniquePrefix('delivery-autodisable');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let broken: ProgrammableReceiver;
  let flaky: ProgrammableReceiver;

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, {
      DELIVERY_DISABLE_AFTER_SECONDS: String(DISABLE_AFTER_SECONDS),
    });
    broken = await new ProgrammableReceiver({ status: 500 }).start();
    // Fails the first request of every event, accepts the retry.
    flaky = await new ProgrammableReceiver((request) =>
      flaky.forWebhook(request.headers['webhook-id'] ?? '').length > 1
        ? { status: 200 }
        : { status: 503 },
    ).start();
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all([broken?.stop(), flaky?.stop()]);
    await deletePrefix(prefix);
  });

  it('disables after failing without a success for longer than the limit, visibly and in the logs', async () => {
    const brokenSub = await createSubscription(bridge, {
      url: broken.url(),
      eventTypes: ['account.*'],
    });
    const flakySub = await createSubscription(bridge, {
      url: flaky.url(),
      eventTypes: ['account.*'],
    });
    await waitForRegistry(bridge, [brokenSub.id, flakySub.id]);

    const [first] = sim.emitScenario('balance', 'newer');
    const firstId = first.uuid as string;
    const disabled = await waitFor(
      async () => {
        const sub = await getSubscription(bridge, brokenSub.id);
        return sub.enabled ? undefined : sub;
      },
      10_000,
      'the broken subscription to be disabled',
    );
    expect(disabled.disabledReason).toMatch(/failing without a success since/);
    const disabledAt = Date.parse(disabled.disabledAt!);
    const firstAttempt = broken.forWebhook(firstId)[0].at;
    expect(disabledAt - firstAttempt).toBeGreaterThanOrEqual(DISABLE_AFTER_SECONDS * 1000 - 50);

    const logged = parseLogs(bridge.logs).find(
      (l) =>
        l.msg === 'subscription disabled: failing for too long' &&
        l.subscriptionId === brokenSub.id,
    );
    expect(logged).toBeDefined();
    expect(logged!.level).toBeGreaterThanOrEqual(40);
    expect(logged!.failingSince).toBeDefined();
    const metrics = await api<string>(bridge, 'GET', '/metrics', undefined, {});
    expect(metrics.body).toMatch(/otb_subscriptions_disabled_total\{reason="failing"\} 1/);

    // The flaky receiver failed too, but each run ended in a success: it stays on.
    await waitForDelivery(
      bridge,
      deliveryIdOf(firstId, flakySub.id),
      (r: DeliveryRecord) => r.status === DeliveryStatus.Succeeded,
    );
    await waitFor(
      () => Date.now() > firstAttempt + DISABLE_AFTER_SECONDS * 1000 + 200,
      3_000,
      'the limit to pass',
    );
    await waitForRegistry(bridge, [flakySub.id]);
    const [second] = sim.emitScenario('balance', 'newer');
    const secondId = second.uuid as string;
    await waitForDelivery(
      bridge,
      deliveryIdOf(secondId, flakySub.id),
      (r: DeliveryRecord) => r.status === DeliveryStatus.Succeeded,
    );
    expect(flaky.forWebhook(secondId)).toHaveLength(2);
    const stillOn = await getSubscription(bridge, flakySub.id);
    expect(stillOn.enabled).toBe(true);
    expect(stillOn.failingSince).toBeUndefined();
    // Nothing goes to the disabled one any more.
    expect(broken.forWebhook(secondId)).toHaveLength(0);

    // Turned back on by an operator, it starts a fresh failure run and receives events again.
    const patched = await api<SubscriptionResponseDto>(
      bridge,
      'PATCH',
      `/v1/subscriptions/${brokenSub.id}`,
      { enabled: true },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.enabled).toBe(true);
    expect(patched.body.disabledReason).toBeUndefined();
    expect(patched.body.failingSince).toBeUndefined();
    await waitForRegistry(bridge, [brokenSub.id, flakySub.id]);
    broken.respondWith({ status: 200 });
    const [third] = sim.emitScenario('balance', 'newer');
    await waitFor(
      () => broken.forWebhook(third.uuid as string).length === 1,
      5_000,
      're-enabled subscription to receive',
    );
    expect((await getSubscription(bridge, brokenSub.id)).enabled).toBe(true);
  });
});
