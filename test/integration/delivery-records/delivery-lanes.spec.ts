import type { Redis } from 'ioredis';
import type { AppConfig } from '../../../src/config/app-config';
import { DeliveryLanes } from '../../../src/delivery/delivery-lanes';
import { deletePrefix, testRedis, uniquePrefix } from '../../support/harness';

const TTL_SECONDS = 3600;

describe('DeliveryLanes against Redis', () => {
  let redis: Redis;
  let prefix: string;
  let lanes: DeliveryLanes;

  beforeAll(() => {
    redis = testRedis();
  });

  afterAll(() => {
    redis.disconnect();
  });

  beforeEach(() => {
    prefix = uniquePrefix('delivery-lanes');
    lanes = new DeliveryLanes(redis, {
      redis: { prefix },
      eventRetentionSeconds: TTL_SECONDS,
    } as AppConfig);
  });

  afterEach(async () => {
    await deletePrefix(prefix);
  });

  const a = (deliveryId: string) => ({ subscriptionId: 'sub_a', deliveryId });
  const b = (deliveryId: string) => ({ subscriptionId: 'sub_b', deliveryId });

  it('registers the first event of a key, first in each lane, with the retention TTL', async () => {
    await expect(lanes.register('call-1', 1, [a('a1'), b('b1')])).resolves.toEqual({
      kind: 'registered',
      heads: [true, true],
    });
    expect(await redis.get(`${prefix}:order:call-1:registered`)).toBe('1');
    for (const key of [
      `${prefix}:order:call-1:registered`,
      `${prefix}:lane:sub_a:call-1`,
      `${prefix}:lane:sub_b:call-1`,
    ]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(TTL_SECONDS - 5);
      expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);
    }
  });

  it('puts a later event behind the earlier one of the same key, in every lane it shares', async () => {
    await lanes.register('call-1', 1, [a('a1')]);
    await expect(lanes.register('call-1', 2, [a('a2'), b('b2')])).resolves.toEqual({
      kind: 'registered',
      heads: [false, true],
    });
    await expect(lanes.place('sub_a', 'call-1', 'a1')).resolves.toBe('first');
    await expect(lanes.place('sub_a', 'call-1', 'a2')).resolves.toBe('waiting');
    await expect(lanes.place('sub_b', 'call-1', 'b2')).resolves.toBe('first');
    await expect(lanes.place('sub_a', 'call-1', 'b2')).resolves.toBe('absent');
    await expect(lanes.isFirst('sub_a', 'call-1', 'a1')).resolves.toBe(true);
    await expect(lanes.isFirst('sub_a', 'call-1', 'a2')).resolves.toBe(false);
    await expect(lanes.isFirst('sub_a', 'call-1', 'gone')).resolves.toBe(false);
  });

  it('keeps keys apart: one key waiting holds back no other', async () => {
    await lanes.register('call-1', 1, [a('a1')]);
    await expect(lanes.register('call-2', 1, [a('x1')])).resolves.toEqual({
      kind: 'registered',
      heads: [true],
    });
  });

  it('makes an event wait until the one before it is registered, unless forced', async () => {
    await lanes.register('call-1', 1, [a('a1')]);
    await expect(lanes.register('call-1', 3, [a('a3')])).resolves.toEqual({ kind: 'wait' });
    await expect(lanes.place('sub_a', 'call-1', 'a3')).resolves.toBe('absent');
    expect(await redis.get(`${prefix}:order:call-1:registered`)).toBe('1');

    await expect(lanes.register('call-1', 3, [a('a3')], true)).resolves.toEqual({
      kind: 'registered',
      heads: [false],
    });
    expect(await redis.get(`${prefix}:order:call-1:registered`)).toBe('3');
    // The next one no longer waits for the skipped number.
    await expect(lanes.register('call-1', 4, [a('a4')])).resolves.toEqual({
      kind: 'registered',
      heads: [false],
    });
  });

  it('registering again adds nothing and never moves the mark back', async () => {
    await lanes.register('call-1', 1, [a('a1')]);
    await lanes.register('call-1', 2, [a('a2')]);
    await expect(lanes.register('call-1', 1, [a('a1')])).resolves.toEqual({
      kind: 'registered',
      heads: [true],
    });
    expect(await redis.get(`${prefix}:order:call-1:registered`)).toBe('2');
    expect(await redis.zrange(`${prefix}:lane:sub_a:call-1`, 0, -1, 'WITHSCORES')).toEqual([
      'a1',
      '1',
      'a2',
      '2',
    ]);
  });

  it('registers an event that has no ordered subscription', async () => {
    await expect(lanes.register('call-1', 1, [])).resolves.toEqual({
      kind: 'registered',
      heads: [],
    });
    expect(await redis.get(`${prefix}:order:call-1:registered`)).toBe('1');
  });

  it('hands the lane on when a delivery finishes, and names no one when it is empty', async () => {
    await lanes.register('call-1', 1, [a('a1')]);
    await lanes.register('call-1', 2, [a('a2')]);
    await expect(lanes.finish('sub_a', 'call-1', 'a1')).resolves.toBe('a2');
    await expect(lanes.place('sub_a', 'call-1', 'a1')).resolves.toBe('absent');
    await expect(lanes.place('sub_a', 'call-1', 'a2')).resolves.toBe('first');
    await expect(lanes.finish('sub_a', 'call-1', 'a2')).resolves.toBeUndefined();
    await expect(lanes.finish('sub_a', 'call-1', 'a2')).resolves.toBeUndefined();
  });
});
