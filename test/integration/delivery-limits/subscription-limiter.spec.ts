import type { Redis } from 'ioredis';
import type { AppConfig } from '../../../src/config/app-config';
import { type Acquired, SubscriptionLimiter } from '../../../src/delivery/subscription-limiter';
import { deletePrefix, testRedis, uniquePrefix, waitFor } from '../../support/harness';
import { subscriptionStores } from '../../support/subscription-stores';

const LEASE_MS = 400;

const delayOf = (acquired: Acquired): number =>
  acquired.kind === 'wait' ? acquired.delayMs : Number.NaN;

/** The limiter alone against the specs' Redis: the Lua script decides go or wait here. */
describe('SubscriptionLimiter (real Redis)', () => {
  const prefix = uniquePrefix('limiter-slots');
  const config = { redis: { prefix }, delivery: { lockMs: LEASE_MS } } as AppConfig;
  const clients: Redis[] = [];
  let redis: Redis;

  function limiter(): SubscriptionLimiter {
    const client = testRedis();
    clients.push(client);
    return new SubscriptionLimiter(client, subscriptionStores(client, config).health, config);
  }

  beforeAll(() => {
    redis = testRedis();
    clients.push(redis);
  });

  afterAll(async () => {
    await deletePrefix(prefix);
    // quit, not disconnect: a cluster client's disconnect() can leave a socket open.
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  });

  it('grants maxInFlight leases, then asks to look again soon, and a release frees one', async () => {
    const limits = limiter();
    const subscription = { id: 'sub_inflight', maxInFlight: 2 };
    const first = await limits.acquire(subscription);
    const second = await limits.acquire(subscription);
    expect(first).toMatchObject({
      kind: 'go',
      slot: { subscriptionId: 'sub_inflight', holdsLease: true },
    });
    expect(second).toMatchObject({ kind: 'go', slot: { holdsLease: true } });
    const tokens = [first, second].map((a) => (a.kind === 'go' ? a.slot?.token : undefined));
    expect(new Set(tokens).size).toBe(2);

    const inflightKey = `${prefix}:limit:sub_inflight:inflight`;
    expect(await redis.zrange(inflightKey, 0, -1)).toEqual(expect.arrayContaining(tokens));
    // Each lease expires LEASE_MS after it was taken, should its worker die mid-request.
    const [, score] = await redis.zrange(inflightKey, 0, 0, 'WITHSCORES');
    const redisNowMs = Number((await redis.time())[0]) * 1000;
    expect(Number(score) - redisNowMs).toBeLessThanOrEqual(LEASE_MS + 1_000);
    expect(Number(score) - redisNowMs).toBeGreaterThan(-1_000);
    expect(await redis.pttl(inflightKey)).toBeGreaterThan(LEASE_MS);
    expect(await redis.pttl(inflightKey)).toBeLessThanOrEqual(2 * LEASE_MS);

    const refused = await limits.acquire(subscription);
    expect(refused.kind).toBe('wait');
    expect(delayOf(refused)).toBeGreaterThanOrEqual(25);
    expect(delayOf(refused)).toBeLessThan(250);

    await limits.release(first.kind === 'go' ? first.slot : undefined);
    expect(await redis.zcard(inflightKey)).toBe(1);
    expect((await limits.acquire(subscription)).kind).toBe('go');
    // No rate limit: no request starts are logged.
    expect(await redis.exists(`${prefix}:limit:sub_inflight:starts`)).toBe(0);
  });

  it('lets a lease lapse once LEASE_MS has passed, so a dead worker does not hold it', async () => {
    const limits = limiter();
    const subscription = { id: 'sub_lapse', maxInFlight: 1 };
    expect((await limits.acquire(subscription)).kind).toBe('go');
    expect((await limits.acquire(subscription)).kind).toBe('wait');
    await waitFor(
      async () => (await limits.acquire(subscription)).kind === 'go',
      5_000,
      'the lapsed lease to free its slot',
    );
  });

  it('starts at most rateLimitPerSecond requests, and gives refused callers spaced wake-ups', async () => {
    const limits = limiter();
    const subscription = { id: 'sub_rate', rateLimitPerSecond: 3 };
    const answers: Acquired[] = [];
    const askedAt: { before: number; after: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      answers.push(await limits.acquire(subscription));
      askedAt.push({ before, after: Date.now() });
    }
    expect(answers.slice(0, 3).map((a) => a.kind)).toEqual(['go', 'go', 'go']);
    // A rate alone takes no lease, so there is nothing to hand back.
    expect(answers[0]).toMatchObject({ kind: 'go', slot: { holdsLease: false } });
    expect(await redis.exists(`${prefix}:limit:sub_rate:inflight`)).toBe(0);
    const startsKey = `${prefix}:limit:sub_rate:starts`;
    expect(await redis.zcard(startsKey)).toBe(3);
    expect(await redis.pttl(startsKey)).toBeGreaterThan(1_050);
    expect(await redis.pttl(startsKey)).toBeLessThanOrEqual(2_100);

    const [fourth, fifth] = answers.slice(3).map(delayOf);
    // The oldest start leaves the (1 050 ms) window first, then one caller every 1050 / 3 ms.
    expect(fourth).toBeGreaterThan(0);
    expect(fourth).toBeLessThanOrEqual(1_050);
    // Each delay counts from its own call, so the wake-up times are compared, bracketed by when
    // each call was made: on a loaded machine the fifth call comes tens of ms after the fourth.
    const [ask4, ask5] = askedAt.slice(3);
    const spacingAtLeast = ask5.before + fifth - (ask4.after + fourth);
    const spacingAtMost = ask5.after + fifth - (ask4.before + fourth);
    expect(spacingAtMost).toBeGreaterThanOrEqual(350 - 2);
    expect(spacingAtLeast).toBeLessThanOrEqual(350 + 2);
    expect(await redis.exists(`${prefix}:limit:sub_rate:wake`)).toBe(1);
  });

  it('checks the in-flight cap before the rate, and takes a lease when both are set', async () => {
    const limits = limiter();
    const subscription = { id: 'sub_both', maxInFlight: 1, rateLimitPerSecond: 10 };
    const granted = await limits.acquire(subscription);
    expect(granted).toMatchObject({ kind: 'go', slot: { holdsLease: true } });
    const refused = await limits.acquire(subscription);
    expect(delayOf(refused)).toBeLessThan(250);
    // The refusal by the in-flight cap logged no request start.
    expect(await redis.zcard(`${prefix}:limit:sub_both:starts`)).toBe(1);
  });

  it('keeps each subscription to its own limits', async () => {
    const limits = limiter();
    expect((await limits.acquire({ id: 'sub_a', maxInFlight: 1 })).kind).toBe('go');
    expect((await limits.acquire({ id: 'sub_b', maxInFlight: 1 })).kind).toBe('go');
    expect((await limits.acquire({ id: 'sub_a', maxInFlight: 1 })).kind).toBe('wait');
  });

  it('holds back the subscription in every process once one of them pauses it', async () => {
    const pausing = limiter();
    const other = limiter();
    other.onModuleInit();
    try {
      // The feed is subscribed once its first read of pauses has been made.
      await waitFor(
        async () => {
          await pausing.pause('sub_paused_probe', Date.now() + 60_000);
          return other.pausedForMs('sub_paused_probe') > 0;
        },
        5_000,
        'the pause feed to be subscribed',
      );
      await pausing.pause('sub_paused', Date.now() + 30_000);
      await waitFor(() => other.pausedForMs('sub_paused') > 0, 5_000, 'the pause to arrive');
      const acquired = await other.acquire({ id: 'sub_paused', rateLimitPerSecond: 1 });
      expect(acquired.kind).toBe('wait');
      expect(delayOf(acquired)).toBeGreaterThan(25_000);
      expect(delayOf(acquired)).toBeLessThanOrEqual(30_000);
    } finally {
      await other.onModuleDestroy();
    }
  });
});
