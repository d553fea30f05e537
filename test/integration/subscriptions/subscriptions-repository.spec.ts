import { Redis } from 'ioredis';
import { SubscriptionHealthRepository } from '../../../src/subscriptions/subscription-health.repository';
import { SubscriptionKeys } from '../../../src/subscriptions/subscription-keys';
import type { Subscription } from '../../../src/subscriptions/subscription.model';
import type { SubscriptionsFeed } from '../../../src/subscriptions/subscriptions.feed';
import {
  InvalidCursorError,
  SubscriptionsRepository,
} from '../../../src/subscriptions/subscriptions.repository';
import { TEST_REDIS_URL } from '../../support/harness';
import { subscriptionStores } from '../../support/subscription-stores';
import { deleteKeys, eventually, testConfig, testPrefix } from './helpers';

function sub(id: string, createdAt = '2026-03-01T12:00:00.000Z'): Subscription {
  return {
    id,
    url: `https://hooks.example.com/${id}`,
    eventTypes: ['call.*'],
    secrets: [{ secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', createdAt }],
    headers: {},
    enabled: true,
    source: 'api',
    createdAt,
    updatedAt: createdAt,
  };
}

const at = (iso: string): Date => new Date(iso);

describe('SubscriptionsRepository and SubscriptionHealthRepository (real Redis)', () => {
  // A hash-tag prefix, as a Redis Cluster deployment uses: every key must still live under it.
  const prefix = `{${testPrefix()}}`;
  let redis: Redis;
  let repo: SubscriptionsRepository;
  let health: SubscriptionHealthRepository;
  let changes: SubscriptionsFeed;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    ({ documents: repo, health, feed: changes } = subscriptionStores(redis, testConfig(prefix)));
  });

  afterAll(async () => {
    await redis.quit();
    await deleteKeys(prefix);
  });

  beforeEach(async () => {
    await deleteKeys(prefix);
  });

  it('keeps every key under the prefix', async () => {
    await repo.save(sub('a'));
    await health.recordFailure('a', new Date());
    await health.recordSuccess('a', new Date());
    const keys = await redis.keys(`*${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    keys.forEach((k) => expect(k.startsWith(`${prefix}:`)).toBe(true));
  });

  it('saves, reads, bumps the version and publishes on every write', async () => {
    const feedMessages: number[] = [];
    const feed = await changes.watchChanges(() => feedMessages.push(Date.now()));
    try {
      const v0 = await repo.version();
      await repo.save(sub('a'));
      expect(await repo.get('a')).toEqual(sub('a'));
      expect(await repo.insert(sub('a'))).toBe(false);
      expect(await repo.insert(sub('b'))).toBe(true);
      expect(await repo.delete('b')).toBe(true);
      expect(await repo.delete('b')).toBe(false);
      expect(Number(await repo.version())).toBe(Number(v0) + 3);
      // one message on connect, then one per write
      await eventually(() => (feedMessages.length >= 4 ? true : undefined), 1000);
      expect(await repo.get('b')).toBeUndefined();
      expect(await redis.exists(new SubscriptionKeys(prefix).changedChannel)).toBe(0);
    } finally {
      await feed.close();
    }
  });

  it('failure runs: the earliest failure wins, a later success ends it, an older one does not', async () => {
    await repo.save(sub('a'));
    const failures = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        health.recordFailure('a', at(`2026-03-01T12:00:${String(10 + i).padStart(2, '0')}.000Z`)),
      ),
    );
    failures.forEach((f) => expect(f.failingSince! <= '2026-03-01T12:00:29.000Z').toBe(true));
    expect((await repo.get('a'))!.failingSince).toBe('2026-03-01T12:00:10.000Z');

    await health.recordSuccess('a', at('2026-03-01T12:00:05.000Z')); // older than the run
    expect((await repo.get('a'))!.failingSince).toBe('2026-03-01T12:00:10.000Z');

    await health.recordSuccess('a', at('2026-03-01T12:01:00.000Z'));
    const healed = (await repo.get('a'))!;
    expect(healed.failingSince).toBeUndefined();
    expect(healed.lastSuccessAt).toBe('2026-03-01T12:01:00.000Z');

    // a failure reported late, from before that success, does not start a new run
    expect(await health.recordFailure('a', at('2026-03-01T12:00:50.000Z'))).toEqual({
      failingSince: null,
    });
    expect(await health.recordFailure('a', at('2026-03-01T12:02:00.000Z'))).toEqual({
      failingSince: '2026-03-01T12:02:00.000Z',
    });
    // health writes neither change the document nor wake the registries
    const version = await repo.version();
    await health.recordSuccess('a', at('2026-03-01T12:03:00.000Z'));
    expect(await repo.version()).toBe(version);
    expect(await health.recordFailure('missing', new Date())).toEqual({ failingSince: null });
  });

  it('disable: only the first caller disables; concurrent updates are not lost', async () => {
    await repo.save(sub('a'));
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        health.disable('a', 'failing for 5 days', at('2026-03-06T00:00:00.000Z')),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await repo.get('a')).toMatchObject({
      enabled: false,
      disabledReason: 'failing for 5 days',
      disabledAt: '2026-03-06T00:00:00.000Z',
    });
    expect(await health.disable('missing', 'x', new Date())).toBe(false);

    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        repo.update('a', (current) => ({
          ...current,
          eventTypes: [...current.eventTypes, `sms.${i}`],
        })),
      ),
    );
    const stored = (await repo.get('a'))!;
    expect(stored.eventTypes).toHaveLength(11);
    expect(stored.enabled).toBe(false);
    expect(await repo.update('missing', (c) => c)).toBeUndefined();
  });

  it('pages by createdAt then id, across ties and a deleted cursor', async () => {
    const same = '2026-03-01T12:00:00.000Z';
    const ids = ['d', 'b', 'a', 'c', 'e'];
    for (const id of ids) {
      await repo.save(sub(id, same));
    }
    await repo.save(sub('early', '2026-02-01T00:00:00.000Z'));
    await repo.save(sub('late', '2026-04-01T00:00:00.000Z'));

    const first = await repo.list({ limit: 3 });
    expect(first.items.map((s) => s.id)).toEqual(['early', 'a', 'b']);
    await repo.delete('b'); // the cursor's own member is gone
    const second = await repo.list({ limit: 3, cursor: first.nextCursor });
    expect(second.items.map((s) => s.id)).toEqual(['c', 'd', 'e']);
    const third = await repo.list({ limit: 3, cursor: second.nextCursor });
    expect(third.items.map((s) => s.id)).toEqual(['late']);
    expect(third.nextCursor).toBeUndefined();

    expect((await repo.listAll()).map((s) => s.id)).toEqual(['early', 'a', 'c', 'd', 'e', 'late']);
    await expect(repo.list({ limit: 3, cursor: 'garbage' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });
});
