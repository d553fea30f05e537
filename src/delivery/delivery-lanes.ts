import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { LuaScript } from '../redis/lua-script';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';

/**
 * Registers one keyed event with the lanes of its ordered subscriptions. KEYS: the key's
 * registration mark, then one lane per ordered delivery. ARGV: the event's sequence number, ttl,
 * force (1: do not wait for the previous event), then one delivery id per lane.
 * Returns -1 when the previous event of the key has not been registered yet (its fan-out is still
 * running, or has not started: wait), else per lane 1 when the delivery is first in its lane.
 * Registering again (a fan-out that runs again) adds nothing new; the mark only moves forward.
 */
const REGISTER = new LuaScript(`
local seq = tonumber(ARGV[1])
local reg = tonumber(redis.call('GET', KEYS[1]) or '0')
if reg < seq - 1 and ARGV[3] ~= '1' then return -1 end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 'NX', seq, ARGV[i + 2])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
if reg < seq then redis.call('SET', KEYS[1], seq, 'EX', ARGV[2]) end
local heads = {}
for i = 2, #KEYS do
  local first = redis.call('ZRANGE', KEYS[i], 0, 0)[1]
  heads[i - 1] = (first == ARGV[i + 2]) and 1 or 0
end
return heads
`);

/** A delivery left its lane: removes it and names the delivery now first, if any. */
const FINISH = new LuaScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
return first or false
`);

/** What one ordered delivery needs to know to take its place. */
export interface LaneEntry {
  subscriptionId: string;
  deliveryId: string;
}

export type LanePlace = 'first' | 'waiting' | 'absent';

export type Registration = { kind: 'wait' } | { kind: 'registered'; heads: boolean[] };

/**
 * Per-key ordered delivery. Every event that has an ordering key got, when it was appended, the
 * next number of that key's sequence. Its fan-out registers it in that order — an event waits
 * until the one before it is registered, whichever worker has it — and each ordered subscription
 * keeps a lane per key (a sorted set of its deliveries by sequence number). Only the first
 * delivery of a lane is sent; a delivery that is retrying stays first, holding back the later
 * ones of its key and no other; when it ends (delivered, dead or skipped) it leaves the lane and
 * the next one is started.
 *
 * Layout: `<prefix>:order:<key>:registered` (the last sequence number registered) and
 * `<prefix>:lane:<subscription>:<key>`, both expiring with the retention window.
 */
@Injectable()
export class DeliveryLanes {
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
    this.ttlSeconds = config.eventRetentionSeconds;
  }

  /**
   * Registers event `seq` of `key`, adding `entries` to their lanes. `force` registers even when
   * the previous event never was (it was fanned out before any subscription was ordered, or is
   * lost): the caller decides after waiting long enough.
   */
  async register(
    key: string,
    seq: number,
    entries: readonly LaneEntry[],
    force = false,
  ): Promise<Registration> {
    const result = await REGISTER.run(
      this.redis,
      [this.registeredKey(key), ...entries.map((e) => this.laneKey(e.subscriptionId, key))],
      [seq, this.ttlSeconds, force ? 1 : 0, ...entries.map((e) => e.deliveryId)],
    );
    if (result === -1) {
      return { kind: 'wait' };
    }
    return { kind: 'registered', heads: (result as number[]).map((h) => h === 1) };
  }

  /** Whether `deliveryId` is first in its lane (false when it is not in the lane any more). */
  async isFirst(subscriptionId: string, key: string, deliveryId: string): Promise<boolean> {
    return (await this.place(subscriptionId, key, deliveryId)) === 'first';
  }

  /**
   * Where `deliveryId` stands in its lane: first, waiting behind others, or not in it at all (it
   * ended and was retried or replayed by hand since, or its lane expired with the retention).
   */
  async place(subscriptionId: string, key: string, deliveryId: string): Promise<LanePlace> {
    const rank = await this.redis.zrank(this.laneKey(subscriptionId, key), deliveryId);
    return rank === null ? 'absent' : rank === 0 ? 'first' : 'waiting';
  }

  /** `deliveryId` has ended; returns the delivery that is now first in its lane, if any. */
  async finish(
    subscriptionId: string,
    key: string,
    deliveryId: string,
  ): Promise<string | undefined> {
    const next = await FINISH.run(this.redis, [this.laneKey(subscriptionId, key)], [deliveryId]);
    return typeof next === 'string' ? next : undefined;
  }

  private registeredKey(key: string): string {
    return redisKey(this.prefix, 'order', key, 'registered');
  }

  private laneKey(subscriptionId: string, key: string): string {
    return redisKey(this.prefix, 'lane', subscriptionId, key);
  }
}
