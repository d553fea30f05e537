import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { InjectRedis } from '../redis/redis.module';
import { LuaScript } from '../redis/lua-script';
import { SubscriptionKeys } from './subscription-keys';
import { type ChangeFeed, SubscriptionsFeed } from './subscriptions.feed';
import { SubscriptionsRepository } from './subscriptions.repository';

/** A success newer than the failure run ends it; a success older than the run leaves it alone. */
const RECORD_SUCCESS = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local last = redis.call('HGET', KEYS[3], ARGV[1])
if (not last) or last < ARGV[2] then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
local since = redis.call('HGET', KEYS[2], ARGV[1])
if since and since <= ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
`);

/** Starts a failure run unless one is running, or a later success has already ended this one. */
const RECORD_FAILURE = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local since = redis.call('HGET', KEYS[2], ARGV[1])
if since then
  if ARGV[2] < since then
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
    return ARGV[2]
  end
  return since
end
local last = redis.call('HGET', KEYS[3], ARGV[1])
if last and last >= ARGV[2] then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return ARGV[2]
`);

/** Pauses only ever grow: a shorter Retry-After does not cut a longer pause short. 1 if it grew. */
const PAUSE = new LuaScript(`
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
`);

/**
 * How each subscription's deliveries are faring, kept apart from its document: the start of
 * the current failure run, the last success, and the pause a receiver asked for with
 * Retry-After. Workers write these on every delivery; none of it bumps the configuration
 * version. Turning a failing subscription off is a document change, made through the documents
 * repository so it takes part in its compare-and-set.
 */
@Injectable()
export class SubscriptionHealthRepository {
  private readonly keys: SubscriptionKeys;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
    private readonly documents: SubscriptionsRepository,
    private readonly feed: SubscriptionsFeed,
  ) {
    this.keys = new SubscriptionKeys(config.redis.prefix);
  }

  /** A delivery succeeded: remember when, and end any failure run that began before it. */
  async recordSuccess(id: string, at: Date): Promise<void> {
    await RECORD_SUCCESS.run(
      this.redis,
      [this.keys.documents, this.keys.failingSince, this.keys.lastSuccess],
      [id, at.toISOString()],
    );
  }

  /**
   * A delivery failed for good. Resolves to the start of the current failure run, or null when
   * there is none to extend (unknown id, or a success newer than this failure already came in).
   */
  async recordFailure(id: string, at: Date): Promise<{ failingSince: string | null }> {
    const since = (await RECORD_FAILURE.run(
      this.redis,
      [this.keys.documents, this.keys.failingSince, this.keys.lastSuccess],
      [id, at.toISOString()],
    )) as string | null;
    return { failingSince: since };
  }

  /** Ends a failure run without a delivery: used when an operator turns a subscription back on. */
  async clearFailure(id: string): Promise<void> {
    await this.redis.hdel(this.keys.failingSince, id);
  }

  /** Turns an enabled subscription off; true only for the call that actually disabled it. */
  async disable(id: string, reason: string, at: Date): Promise<boolean> {
    let disabled = false;
    await this.documents.update(id, (current) => {
      // A lost compare-and-set runs this again: only the attempt that is stored counts.
      disabled = false;
      if (!current.enabled) {
        return current;
      }
      disabled = true;
      const stamp = at.toISOString();
      return {
        ...current,
        enabled: false,
        disabledReason: reason,
        disabledAt: stamp,
        updatedAt: stamp,
      };
    });
    return disabled;
  }

  /**
   * Holds back deliveries until `untilMs` (a receiver's Retry-After), unless paused longer, and
   * tells every process at once (see watchPauses).
   */
  async pause(id: string, untilMs: number): Promise<void> {
    if (Number(await PAUSE.run(this.redis, [this.keys.pausedUntil], [id, untilMs])) === 1) {
      await this.feed.publishPause(id, untilMs);
    }
  }

  /** Calls `onPause` for every pause any process records. Close the feed on shutdown. */
  watchPauses(onPause: (id: string, untilMs: number) => void): Promise<ChangeFeed> {
    return this.feed.watchPauses(onPause);
  }

  /** Every subscription paused now, until when (ms); pauses that have passed are removed. */
  async pausedUntil(nowMs: number): Promise<Map<string, number>> {
    const raw = await this.redis.hgetall(this.keys.pausedUntil);
    const out = new Map<string, number>();
    const expired: string[] = [];
    for (const [id, value] of Object.entries(raw)) {
      const until = Number(value);
      if (until > nowMs) {
        out.set(id, until);
      } else {
        expired.push(id);
      }
    }
    if (expired.length > 0) {
      await this.redis.hdel(this.keys.pausedUntil, ...expired);
    }
    return out;
  }
}
