import { Redis } from 'ioredis';
import { loadConfig } from '../../../src/config/app-config';
import { SubscriptionLimiter } from '../../../src/delivery/subscription-limiter';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import { SubscriptionRegistry } from '../../../src/subscriptions/subscription-registry.service';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForIdle,
} from '../../support/delivery-app';
import {
  deletePrefix,
  type StartedApp,
  TEST_REDIS_CLUSTER_NODES,
  TEST_REDIS_URL,
  testRedis,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { subscriptionStores } from '../../support/subscription-stores';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

/** The most of these times within any one-second window. */
function maxPerSecond(timesMs: number[]): number {
  const times = [...timesMs].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end] - times[start] >= 1_000) {
      start++;
    }
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('delivery: per-subscription limits and pauses, across worker processes', () => {
  const prefix = uniquePrefix('delivery-limits');
  let sim: OpentactSimulator;
  const apps: StartedApp[] = [];
  let bridge: StartedApp;
  const receivers: ProgrammableReceiver[] = [];

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, { DELIVERY_RETRY_SCHEDULE: '200ms,400ms,600ms' });
    apps.push(bridge);
    // Two more worker processes share the deliveries: limits hold across all three.
    for (let i = 0; i < 2; i++) {
      apps.push(
        await startBridge(sim, prefix, {
          APP_ROLE: 'worker',
          DELIVERY_RETRY_SCHEDULE: '200ms,400ms,600ms',
        }),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.app.close()));
    await sim?.stop();
    await Promise.all(receivers.map((r) => r.stop()));
    await deletePrefix(prefix);
  });

  async function receiver(script?: ConstructorParameters<typeof ProgrammableReceiver>[0]) {
    const r = await new ProgrammableReceiver(script).start();
    receivers.push(r);
    return r;
  }

  /** Creates a subscription and waits until every process's fan-out knows it. */
  async function subscribe(body: Record<string, unknown>): Promise<string> {
    const created = await createSubscription(bridge, body);
    for (const app of apps) {
      const registry = app.app.get(SubscriptionRegistry);
      await waitFor(
        async () => (await registry.findEnabled(created.id)) !== undefined,
        5_000,
        'the subscription in every registry',
      );
    }
    return created.id;
  }

  it('starts at most rateLimitPerSecond requests in any second, and delivers everything', async () => {
    const limited = await receiver({ status: 204 });
    const id = await subscribe({
      url: limited.url(),
      eventTypes: ['account.*'],
      rateLimitPerSecond: 20,
    });
    const read = await api<{ rateLimitPerSecond: number }>(
      bridge,
      'GET',
      `/v1/subscriptions/${id}`,
    );
    expect(read.body.rateLimitPerSecond).toBe(20);
    for (let i = 0; i < 60; i++) {
      sim.emitScenario('balance', 'newer');
    }
    await waitFor(() => limited.requests.length >= 60, 15_000, '60 deliveries');
    expect(limited.requests).toHaveLength(60);
    // 60 at 20 a second take at least two seconds. (Arrival times here are taken on the event
    // loop the three services share with the receiver, so a stall bunches them: the exact
    // per-window bound is checked on the limiter itself below, and across real processes by
    // `npm run bench`.)
    const span = limited.requests.at(-1)!.at - limited.requests[0].at;
    expect(span).toBeGreaterThanOrEqual(1_800);
    await api(bridge, 'DELETE', `/v1/subscriptions/${id}`);
  });

  it('keeps at most maxInFlight requests open at once', async () => {
    let open = 0;
    let most = 0;
    const slow = await receiver(() => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => open--, 150);
      return { status: 200, delayMs: 150 };
    });
    const id = await subscribe({ url: slow.url(), eventTypes: ['account.*'], maxInFlight: 2 });
    for (let i = 0; i < 12; i++) {
      sim.emitScenario('balance', 'newer');
    }
    await waitFor(() => slow.requests.length >= 12, 15_000, '12 deliveries');
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBe(2);
    await api(bridge, 'DELETE', `/v1/subscriptions/${id}`);
  });

  it('pauses the whole subscription for a Retry-After, and only that subscription', async () => {
    const busy = await receiver({ status: 200 });
    busy.replyOnce({ status: 429, headers: { 'retry-after': '2' } });
    const other = await receiver({ status: 200 });
    const busyId = await subscribe({ url: busy.url(), eventTypes: ['sms.*'] });
    await subscribe({ url: other.url(), eventTypes: ['sms.*'] });
    sim.emitScenario('inbound-sms', 'newer');
    await waitFor(() => busy.requests.length >= 1, 5_000, 'the 429');
    const pausedAt = busy.requests[0].at;
    const read = await api<{ pausedUntil?: string }>(bridge, 'GET', `/v1/subscriptions/${busyId}`);
    expect(Date.parse(read.body.pausedUntil ?? '')).toBeGreaterThanOrEqual(pausedAt + 1_500);
    // Later events of the paused subscription wait; the other subscription gets them at once.
    const more = sim.emitScenario('outbound-sms', 'newer').length;
    await waitFor(() => other.requests.length >= 1 + more, 5_000, 'the other subscription');
    expect(other.requests.every((r) => r.at < pausedAt + 1_500)).toBe(true);
    await waitFor(
      () => busy.requests.length >= 2 + more,
      10_000,
      'the paused ones after the pause',
    );
    for (const request of busy.requests.slice(1)) {
      expect(request.at).toBeGreaterThanOrEqual(pausedAt + 1_900);
    }
    await waitForIdle(bridge);
  });
});

describe('SubscriptionLimiter across three limiters on one Redis', () => {
  const prefix = uniquePrefix('limiter');
  const clients: Redis[] = [];

  afterAll(async () => {
    // quit, not disconnect: a cluster client's disconnect() can leave a socket open.
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await deletePrefix(prefix);
  });

  it('grants at most rateLimitPerSecond slots in any one-second window, whoever asks', async () => {
    const config = loadConfig({
      APP_ROLE: 'worker',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES,
      QUEUE_PREFIX: prefix,
    });
    const limiters = Array.from({ length: 3 }, () => {
      const redis = testRedis();
      clients.push(redis);
      return new SubscriptionLimiter(redis, subscriptionStores(redis, config).health, config);
    });
    const subscription = { id: 'sub_limited', rateLimitPerSecond: 20 };
    const grants: number[] = [];
    const until = Date.now() + 2_500;
    await Promise.all(
      limiters.map(async (limiter) => {
        while (Date.now() < until) {
          const acquired = await limiter.acquire(subscription);
          if (acquired.kind === 'go') {
            grants.push(Date.now());
          } else {
            await new Promise((resolve) => setTimeout(resolve, Math.min(acquired.delayMs, 50)));
          }
        }
      }),
    );
    // Redis counts on its own clock; these times are taken after the reply, so allow the bound
    // the issue sets for receivers (22 for a limit of 20) for scheduling jitter.
    expect(maxPerSecond(grants)).toBeLessThanOrEqual(22);
    // About 20 a second: the limit is reached, not just respected.
    expect(grants.length).toBeGreaterThanOrEqual(45);
    expect(grants.length).toBeLessThanOrEqual(61);
  });

  it('gives refused callers wake-up times spread at the rate, not one moment for all', async () => {
    const config = loadConfig({
      APP_ROLE: 'worker',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES,
      QUEUE_PREFIX: prefix,
    });
    const redis = testRedis();
    clients.push(redis);
    const limiter = new SubscriptionLimiter(
      redis,
      subscriptionStores(redis, config).health,
      config,
    );
    const subscription = { id: 'sub_backlog', rateLimitPerSecond: 20 };
    const answers = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const acquired = await limiter.acquire(subscription);
        return acquired.kind === 'wait' ? Date.now() + acquired.delayMs : undefined;
      }),
    );
    const wakes = answers.filter((w): w is number => w !== undefined).sort((a, b) => a - b);
    expect(answers.length - wakes.length).toBe(20);
    expect(wakes.length).toBe(80);
    // 80 waiters at 20 a second: spread over about four seconds, never more than the rate in
    // any second (2 of slack for the clock read after each reply).
    expect(wakes[wakes.length - 1] - wakes[0]).toBeGreaterThanOrEqual(3_800);
    expect(maxPerSecond(wakes)).toBeLessThanOrEqual(22);
  });
});
