import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import type { ChangeFeed } from '../subscriptions/subscriptions.feed';
import { type PauseStore, SubscriptionLimiter } from './subscription-limiter';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const config = { redis: { prefix: 'otb' }, delivery: { lockMs: 30_000 } } as AppConfig;

/** A promise with its resolve and reject in hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The limiter over a pause store double whose reads the test answers one by one, and a Redis
 * double that only knows ZREM: the paths tested here must not take a slot in Redis.
 */
function setUp() {
  const reads: { nowMs: number; answer: ReturnType<typeof deferred<Map<string, number>>> }[] = [];
  const stored: { id: string; untilMs: number }[] = [];
  const feed = { close: jest.fn(() => Promise.resolve()) };
  let onPause: ((id: string, untilMs: number) => void) | undefined;
  const pauses: PauseStore = {
    pause: (id, untilMs) => {
      stored.push({ id, untilMs });
      return Promise.resolve();
    },
    pausedUntil: (nowMs) => {
      const answer = deferred<Map<string, number>>();
      reads.push({ nowMs, answer });
      return answer.promise;
    },
    watchPauses: (listener) => {
      onPause = listener;
      return Promise.resolve(feed as ChangeFeed);
    },
  };
  const redis = { zrem: jest.fn(() => Promise.resolve(1)) };
  const limiter = new SubscriptionLimiter(redis as unknown as Redis, pauses, config);
  return {
    limiter,
    reads,
    stored,
    feed,
    redis,
    announce: (id: string, untilMs: number) => onPause?.(id, untilMs),
  };
}

describe('SubscriptionLimiter: pauses', () => {
  it('reads the stored pauses on first use and applies them once the read is back', async () => {
    const { limiter, reads } = setUp();
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(0);
    expect(reads.map((r) => r.nowMs)).toEqual([NOW]);
    reads[0].answer.resolve(new Map([['sub_1', NOW + 5_000]]));
    await settle();
    expect(limiter.pausedForMs('sub_1', NOW + 1_000)).toBe(4_000);
    expect(limiter.pausedForMs('sub_2', NOW + 1_000)).toBe(0);
    // A pause that has passed holds nothing back.
    expect(limiter.pausedForMs('sub_1', NOW + 5_000)).toBe(0);
  });

  it('reads again at most once a second, and never while a read is under way', async () => {
    const { limiter, reads } = setUp();
    limiter.pausedForMs('sub_1', NOW);
    limiter.pausedForMs('sub_1', NOW + 2_000);
    expect(reads).toHaveLength(1);
    reads[0].answer.resolve(new Map());
    await settle();
    limiter.pausedForMs('sub_1', NOW + 999);
    expect(reads).toHaveLength(1);
    limiter.pausedForMs('sub_1', NOW + 1_000);
    expect(reads.map((r) => r.nowMs)).toEqual([NOW, NOW + 1_000]);
  });

  it('survives a failed read and reads again a second later', async () => {
    const { limiter, reads } = setUp();
    limiter.pausedForMs('sub_1', NOW);
    reads[0].answer.reject(new Error('redis is down'));
    await settle();
    expect(limiter.pausedForMs('sub_1', NOW + 1_000)).toBe(0);
    expect(reads).toHaveLength(2);
    reads[1].answer.resolve(new Map([['sub_1', NOW + 3_000]]));
    await settle();
    expect(limiter.pausedForMs('sub_1', NOW + 1_000)).toBe(2_000);
  });

  it('applies its own pause at once, stores it, and keeps it over an older read', async () => {
    const { limiter, reads, stored } = setUp();
    limiter.pausedForMs('sub_1', NOW);
    await limiter.pause('sub_1', NOW + 10_000);
    expect(stored).toEqual([{ id: 'sub_1', untilMs: NOW + 10_000 }]);
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(10_000);
    // The read under way began before the pause: it does not know it, and must not undo it.
    reads[0].answer.resolve(new Map([['sub_2', NOW + 1_000]]));
    await settle();
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(10_000);
    expect(limiter.pausedForMs('sub_2', NOW)).toBe(1_000);
  });

  it('takes the longer of a local pause and the stored one', async () => {
    const { limiter, reads } = setUp();
    limiter.pausedForMs('sub_1', NOW);
    await limiter.pause('sub_1', NOW + 2_000);
    await limiter.pause('sub_2', NOW + 9_000);
    reads[0].answer.resolve(
      new Map([
        ['sub_1', NOW + 6_000],
        ['sub_2', NOW + 3_000],
      ]),
    );
    await settle();
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(6_000);
    expect(limiter.pausedForMs('sub_2', NOW)).toBe(9_000);
  });

  it('never lets a shorter pause cut a longer one short', async () => {
    const { limiter } = setUp();
    await limiter.pause('sub_1', NOW + 8_000);
    await limiter.pause('sub_1', NOW + 3_000);
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(8_000);
    await limiter.pause('sub_1', NOW + 12_000);
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(12_000);
  });

  it('learns pauses announced by other processes from the feed, and closes it on shutdown', async () => {
    const { limiter, feed, announce } = setUp();
    limiter.onModuleInit();
    announce('sub_1', NOW + 4_000);
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(4_000);
    announce('sub_1', NOW + 1_000);
    expect(limiter.pausedForMs('sub_1', NOW)).toBe(4_000);
    await limiter.onModuleDestroy();
    expect(feed.close).toHaveBeenCalledTimes(1);
  });

  it('shuts down even when the feed could not be opened, or never opens', async () => {
    const failing = setUp();
    const broken: PauseStore = {
      pause: () => Promise.resolve(),
      pausedUntil: () => Promise.resolve(new Map()),
      watchPauses: () => Promise.reject(new Error('no subscriber connection')),
    };
    const limiter = new SubscriptionLimiter(failing.redis as unknown as Redis, broken, config);
    limiter.onModuleInit();
    await expect(limiter.onModuleDestroy()).resolves.toBeUndefined();

    jest.useFakeTimers();
    try {
      const hanging: PauseStore = { ...broken, watchPauses: () => new Promise(() => undefined) };
      const stuck = new SubscriptionLimiter(failing.redis as unknown as Redis, hanging, config);
      stuck.onModuleInit();
      let done = false;
      const closing = stuck.onModuleDestroy().then(() => {
        done = true;
      });
      await jest.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await closing;
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('shuts down without a feed when it was never started', async () => {
    const { limiter, feed } = setUp();
    await expect(limiter.onModuleDestroy()).resolves.toBeUndefined();
    expect(feed.close).not.toHaveBeenCalled();
  });
});

describe('SubscriptionLimiter: slots', () => {
  it('counts a subscription as limited when it has a rate or an in-flight cap', () => {
    const { limiter } = setUp();
    expect(limiter.isLimited({ id: 's' })).toBe(false);
    expect(limiter.isLimited({ id: 's', rateLimitPerSecond: 5 })).toBe(true);
    expect(limiter.isLimited({ id: 's', maxInFlight: 2 })).toBe(true);
    expect(limiter.isLimited({ id: 's', rateLimitPerSecond: 5, maxInFlight: 2 })).toBe(true);
  });

  it('lets an unlimited subscription go without a slot and without asking Redis', async () => {
    const { limiter, reads } = setUp();
    await expect(limiter.acquire({ id: 'sub_1' })).resolves.toEqual({ kind: 'go' });
    reads[0].answer.resolve(new Map());
  });

  it('holds back a paused subscription for the rest of its pause, limited or not', async () => {
    const { limiter } = setUp();
    await limiter.pause('sub_1', Date.now() + 60_000);
    for (const subscription of [{ id: 'sub_1' }, { id: 'sub_1', maxInFlight: 1 }]) {
      const acquired = await limiter.acquire(subscription);
      expect(acquired.kind).toBe('wait');
      const delayMs = acquired.kind === 'wait' ? acquired.delayMs : 0;
      expect(delayMs).toBeGreaterThan(59_000);
      expect(delayMs).toBeLessThanOrEqual(60_000);
    }
  });

  it('hands back only a slot that holds an in-flight lease, by its token', async () => {
    const { limiter, redis } = setUp();
    await limiter.release(undefined);
    await limiter.release({ subscriptionId: 'sub_1', token: 'a-1', holdsLease: false });
    expect(redis.zrem).not.toHaveBeenCalled();
    await limiter.release({ subscriptionId: 'sub_1', token: 'a-2', holdsLease: true });
    expect(redis.zrem).toHaveBeenCalledWith('otb:limit:sub_1:inflight', 'a-2');
  });
});
