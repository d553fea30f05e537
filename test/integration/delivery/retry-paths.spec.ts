import { Redis } from 'ioredis';
import { type DeliveryRecord, DeliveryStatus } from '../../../src/delivery/delivery.model';
import { EventLog } from '../../../src/events/event-log';
import { DeliveryQueue } from '../../../src/queue/delivery-queue';
import { deliveryIdOf } from '../../../src/queue/queue.constants';
import { redisKey } from '../../../src/redis/redis-connection.factory';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import { SubscriptionKeys } from '../../../src/subscriptions/subscription-keys';
import type { Subscription } from '../../../src/subscriptions/subscription.model';
import {
  api,
  createSubscription,
  getSubscription,
  startBridge,
  startSimulator,
  verifyWithBothLibraries,
  waitForDelivery,
  waitForRegistry,
} from '../../support/delivery-app';
import {
  deletePrefix,
  type StartedApp,
  testRedis,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { ProgrammableReceiver, type RecordedRequest } from '../../support/webhook-receivers';

/**
 * What happens after the first attempt, where the deliveries queue (not the fan-out) runs the
 * attempt. The first retry waits FIRST_RETRY_MS: long enough for the test to change the world
 * (disable, delete, expire, corrupt) between the fan-out's inline attempt and the queued retry.
 */
const FIRST_RETRY_MS = 3_000;
const LATER_RETRY_MS = 300;
const SCHEDULE = [`${FIRST_RETRY_MS}ms`, ...Array<string>(3).fill(`${LATER_RETRY_MS}ms`)];
const MAX_ATTEMPTS = SCHEDULE.length + 1;
/** A Retry-After (seconds) longer than the schedule's later delays and shorter than its first. */
const RETRY_AFTER_S = 2;
/**
 * How late a retry may run after its recorded nextAttemptAt: BullMQ promotes a delayed job when
 * due, and a loaded 2-core machine adds scheduling delay. Smaller than every gap a bug would make
 * (Retry-After ignored: 1.7 s; the schedule used instead of the decided delay: 1 s).
 */
const LATE_BY_MS = 800;
/** Enough for the whole schedule plus a loaded machine. */
const FINISH_MS = FIRST_RETRY_MS + 3 * LATER_RETRY_MS + 10_000;

function isFinal(r: DeliveryRecord): boolean {
  return [DeliveryStatus.Succeeded, DeliveryStatus.Dead, DeliveryStatus.Skipped].includes(r.status);
}

describe('delivery: queued retries (after the first attempt)', () => {
  const prefix = uniquePrefix('delivery-retry-paths');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let redis: Redis;
  const receivers: ProgrammableReceiver[] = [];

  async function receiver(
    script: ConstructorParameters<typeof ProgrammableReceiver>[0],
  ): Promise<ProgrammableReceiver> {
    const r = await new ProgrammableReceiver(script).start();
    receivers.push(r);
    return r;
  }

  /** A subscription to balance events at a receiver, live in the fan-out before this returns. */
  async function subscribe(r: ProgrammableReceiver): Promise<{ id: string; secret: string }> {
    const sub = await createSubscription(bridge, {
      url: r.url(),
      eventTypes: ['account.balance_changed'],
    });
    const registry = await api<{ data: { id: string; enabled: boolean }[] }>(
      bridge,
      'GET',
      '/v1/subscriptions?limit=100',
    );
    await waitForRegistry(
      bridge,
      registry.body.data.filter((s) => s.enabled).map((s) => s.id),
    );
    return { id: sub.id, secret: sub.secret };
  }

  /**
   * Emits one event and waits until its delivery to `subId` failed its first attempt and has a
   * retry due: the window in which a test changes something.
   */
  async function firstAttemptFailed(
    subId: string,
  ): Promise<{ eventId: string; deliveryId: string; failing: DeliveryRecord }> {
    const [frame] = sim.emitScenario('balance', 'newer');
    const eventId = frame.uuid as string;
    const deliveryId = deliveryIdOf(eventId, subId);
    const failing = await waitForDelivery(
      bridge,
      deliveryId,
      (r) => r.status === DeliveryStatus.Failing && r.attemptCount === 1,
      5_000,
      'the first attempt to fail',
    );
    // The change a test makes must land before the retry is due.
    expect(Date.parse(failing.nextAttemptAt!) - Date.now()).toBeGreaterThan(500);
    return { eventId, deliveryId, failing };
  }

  async function storedDoc(subId: string): Promise<Subscription> {
    const doc = await redis.hget(new SubscriptionKeys(bridge.config.redis.prefix).documents, subId);
    return JSON.parse(doc!) as Subscription;
  }

  /** Rewrites the stored document behind the API's back, as a bad migration or restore would. */
  async function overwriteDoc(subId: string, change: Partial<Subscription>): Promise<Subscription> {
    const before = await storedDoc(subId);
    await redis.hset(
      new SubscriptionKeys(bridge.config.redis.prefix).documents,
      subId,
      JSON.stringify({ ...before, ...change }),
    );
    return before;
  }

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, {
      DELIVERY_RETRY_SCHEDULE: SCHEDULE.join(','),
      DELIVERY_TIMEOUT_MS: '2000',
    });
    redis = testRedis();
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    redis?.disconnect();
    await Promise.all(receivers.map((r) => r.stop()));
    await deletePrefix(prefix);
  });

  it('skips a queued retry to a subscription an operator disabled', async () => {
    const r = await receiver({ status: 500 });
    const sub = await subscribe(r);
    const { deliveryId } = await firstAttemptFailed(sub.id);
    const patched = await api(bridge, 'PATCH', `/v1/subscriptions/${sub.id}`, { enabled: false });
    expect(patched.status).toBe(200);

    const record = await waitForDelivery(bridge, deliveryId, isFinal, FINISH_MS);
    expect(record.status).toBe(DeliveryStatus.Skipped);
    expect(record.lastError).toBe('subscription disabled');
    expect(record.attemptCount).toBe(1);
    expect(record.nextAttemptAt).toBeUndefined();
    expect(r.requests).toHaveLength(1);
    // The job ended: nothing more will be tried.
    expect(await bridge.app.get(DeliveryQueue).stateOf(deliveryId)).toBeUndefined();
  });

  it('skips a queued retry to a subscription that was deleted', async () => {
    const r = await receiver({ status: 503 });
    const sub = await subscribe(r);
    const { deliveryId } = await firstAttemptFailed(sub.id);
    const deleted = await api(bridge, 'DELETE', `/v1/subscriptions/${sub.id}`);
    expect(deleted.status).toBe(204);

    const record = await waitForDelivery(bridge, deliveryId, isFinal, FINISH_MS);
    expect(record.status).toBe(DeliveryStatus.Skipped);
    expect(record.lastError).toBe('subscription deleted');
    expect(r.requests).toHaveLength(1);
  });

  it("skips a queued retry to a subscription another delivery's 410 disabled", async () => {
    // The first event fails; the second (queued: the endpoint is failing) is answered 410.
    let gone = false;
    const r = await receiver(() => (gone ? { status: 410 } : { status: 500 }));
    const sub = await subscribe(r);
    const first = await firstAttemptFailed(sub.id);
    gone = true;
    const [frame] = sim.emitScenario('balance', 'newer');
    const second = deliveryIdOf(frame.uuid as string, sub.id);
    const dead = await waitForDelivery(bridge, second, isFinal, FINISH_MS);
    expect(dead.status).toBe(DeliveryStatus.Dead);
    expect(dead.lastStatusCode).toBe(410);
    expect((await getSubscription(bridge, sub.id)).enabled).toBe(false);

    const record = await waitForDelivery(bridge, first.deliveryId, isFinal, FINISH_MS);
    expect(record.status).toBe(DeliveryStatus.Skipped);
    expect(record.lastError).toBe('subscription disabled');
    expect(r.forWebhook(first.eventId)).toHaveLength(1);
  });

  it('skips a queued retry whose event is no longer retained', async () => {
    const r = await receiver({ status: 500 });
    const sub = await subscribe(r);
    const { eventId, deliveryId } = await firstAttemptFailed(sub.id);
    const log = bridge.app.get(EventLog);
    const entryId = await log.entryIdOf(eventId);
    expect(entryId).toBeDefined();
    // What trimming past the retention window does: the entry and its dedup key are gone.
    const p = bridge.config.redis.prefix;
    expect(await redis.xdel(redisKey(p, 'event-log'), entryId!)).toBe(1);
    expect(await redis.del(redisKey(p, 'event', eventId))).toBe(1);
    expect(await log.get(eventId)).toBeUndefined();

    const record = await waitForDelivery(bridge, deliveryId, isFinal, FINISH_MS);
    expect(record.status).toBe(DeliveryStatus.Skipped);
    expect(record.lastError).toBe('event no longer retained');
    expect(r.requests).toHaveLength(1);
    // A skipped delivery is listed under its status.
    const listed = await api<{ data: DeliveryRecord[] }>(
      bridge,
      'GET',
      `/v1/deliveries?status=skipped&subscriptionId=${sub.id}`,
    );
    expect(listed.body.data.map((d) => d.id)).toEqual([deliveryId]);
  });

  it('a 410 on a retry kills the delivery, disables the subscription and ends the job', async () => {
    const r = await receiver({ status: 500 });
    r.replyOnce({ status: 500 });
    r.respondWith({ status: 410, body: 'gone for good' });
    const sub = await subscribe(r);
    const { deliveryId } = await firstAttemptFailed(sub.id);

    const record = await waitForDelivery(bridge, deliveryId, isFinal, FINISH_MS);
    expect(record.status).toBe(DeliveryStatus.Dead);
    expect(record.attemptCount).toBe(2);
    expect(record.attempts!.map((a) => a.statusCode)).toEqual([500, 410]);
    expect(record.attempts![1]).toMatchObject({ responseBody: 'gone for good' });
    expect(record.attempts![1].error).toMatch(/410/);
    expect(record.attempts![1].nextAttemptAt).toBeUndefined();
    expect(record.nextAttemptAt).toBeUndefined();
    const disabled = await getSubscription(bridge, sub.id);
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toMatch(/410/);
    // The retry was a job, and a 410 fails it for good: not retried by BullMQ.
    const state = await waitFor(
      async () => (await bridge.app.get(DeliveryQueue).stateOf(deliveryId)) ?? false,
      5_000,
      'the job to settle',
    );
    expect(state).toBe('failed');
    expect(r.requests).toHaveLength(2);
  });

  it('honours Retry-After on a later attempt, and each retry runs when its record says', async () => {
    const r = await receiver({ status: 200 });
    r.replyOnce(
      { status: 500 },
      { status: 429, headers: { 'retry-after': String(RETRY_AFTER_S) } },
    );
    const sub = await subscribe(r);
    const { deliveryId } = await firstAttemptFailed(sub.id);

    const record = await waitForDelivery(bridge, deliveryId, isFinal, FINISH_MS);
    expect(record.status).toBe(DeliveryStatus.Succeeded);
    expect(record.attempts!.map((a) => a.statusCode)).toEqual([500, 429, 200]);
    const requests: RecordedRequest[] = r.requests;
    expect(requests).toHaveLength(3);
    // The receiver asked for RETRY_AFTER_S; the schedule alone would say LATER_RETRY_MS.
    const gap = requests[2].at - requests[1].at;
    expect(gap).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 50);
    expect(gap).toBeLessThan(FIRST_RETRY_MS);
    // The recorded nextAttemptAt is when the retry really happened, for both retries.
    for (const i of [0, 1]) {
      const due = Date.parse(record.attempts![i].nextAttemptAt!);
      expect(requests[i + 1].at - due).toBeGreaterThanOrEqual(-50);
      expect(requests[i + 1].at - due).toBeLessThan(LATE_BY_MS);
    }
    // Every attempt is signed afresh and verifies.
    for (const request of requests) {
      verifyWithBothLibraries(sub.secret, request);
    }
  });

  it('a stored secret that cannot sign fails each attempt with its reason, and a fix is picked up', async () => {
    const r = await receiver({ status: 500 });
    const sub = await subscribe(r);
    const { deliveryId } = await firstAttemptFailed(sub.id);
    const good = await overwriteDoc(sub.id, {
      secrets: [{ secret: 'whsec_%%% not base64 %%%', createdAt: new Date().toISOString() }],
    });

    const dead = await waitForDelivery(bridge, deliveryId, isFinal, FINISH_MS);
    expect(dead.status).toBe(DeliveryStatus.Dead);
    expect(dead.attemptCount).toBe(MAX_ATTEMPTS);
    for (const attempt of dead.attempts!.slice(1)) {
      expect(attempt.statusCode).toBeUndefined();
      expect(attempt.error).toMatch(/^internal: .*base64/);
    }
    // Never sent unsigned: only the first attempt reached the receiver.
    expect(r.requests).toHaveLength(1);
    // The secret itself never appears in what the API shows.
    expect(JSON.stringify(dead)).not.toContain('not base64 %%%');

    await overwriteDoc(sub.id, { secrets: good.secrets });
    r.respondWith({ status: 200 });
    const retried = await api(bridge, 'POST', `/v1/deliveries/${deliveryId}/retry`);
    expect(retried.status).toBe(202);
    const fixed = await waitForDelivery(
      bridge,
      deliveryId,
      (d) => d.status === DeliveryStatus.Succeeded,
      FINISH_MS,
    );
    expect(fixed.status).toBe(DeliveryStatus.Succeeded);
    verifyWithBothLibraries(sub.secret, r.requests[1]);
  });

  it('a stored URL that is no longer http fails each attempt with its reason, nothing sent', async () => {
    const r = await receiver({ status: 500 });
    const sub = await subscribe(r);
    const { deliveryId } = await firstAttemptFailed(sub.id);
    await overwriteDoc(sub.id, { url: `ftp://127.0.0.1:${r.port}/hook` });

    const dead = await waitForDelivery(bridge, deliveryId, isFinal, FINISH_MS);
    expect(dead.status).toBe(DeliveryStatus.Dead);
    expect(dead.attemptCount).toBe(MAX_ATTEMPTS);
    for (const attempt of dead.attempts!.slice(1)) {
      expect(attempt.statusCode).toBeUndefined();
      expect(attempt.error).toBe('internal: webhook URL must be http or https, got ftp:');
    }
    expect(r.requests).toHaveLength(1);
  });
});

describe('delivery: a queued retry to a subscription auto-disabled for failing too long', () => {
  const prefix = uniquePrefix('delivery-retry-autodisable');
  const RETRY_MS = 1_500;
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let r: ProgrammableReceiver;

  beforeAll(async () => {
    sim = await startSimulator();
    // Disabled on the second failure (1.5 s into failing), with attempts still left.
    bridge = await startBridge(sim, prefix, {
      DELIVERY_RETRY_SCHEDULE: `${RETRY_MS}ms,${RETRY_MS}ms,${RETRY_MS}ms`,
      DELIVERY_DISABLE_AFTER_SECONDS: '1',
    });
    r = await new ProgrammableReceiver({ status: 500 }).start();
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await r?.stop();
    await deletePrefix(prefix);
  });

  it('is skipped, not sent', async () => {
    const sub = await createSubscription(bridge, {
      url: r.url(),
      eventTypes: ['account.balance_changed'],
    });
    await waitForRegistry(bridge, [sub.id]);
    const [frame] = sim.emitScenario('balance', 'newer');
    const deliveryId = deliveryIdOf(frame.uuid as string, sub.id);
    const record = await waitForDelivery(bridge, deliveryId, isFinal, 3 * RETRY_MS + 10_000);
    expect(record.status).toBe(DeliveryStatus.Skipped);
    expect(record.lastError).toBe('subscription disabled');
    expect(record.attemptCount).toBe(2);
    expect(r.requests).toHaveLength(2);
    const disabled = await getSubscription(bridge, sub.id);
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toMatch(/failing without a success/);
  });
});
