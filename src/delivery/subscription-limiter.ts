import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { LuaScript } from '../redis/lua-script';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import type { Subscription } from '../subscriptions/subscription.model';
import {
  type ChangeFeed,
  SubscriptionsRepository,
} from '../subscriptions/subscriptions.repository';

/**
 * Takes a slot for one request, or says how long to wait. Uses Redis time, so every worker
 * counts on one clock. KEYS: in-flight leases (sorted by expiry), request starts of the last
 * second. ARGV: lease ms, max in flight (0 = none), rate per second (0 = none), token. Returns 0
 * (go) or the milliseconds to wait.
 */
const ACQUIRE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxInFlight = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
if maxInFlight > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= maxInFlight then return 25 end
end
if rate > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1000)
  if redis.call('ZCARD', KEYS[2]) >= rate then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + 1000 - now)
  end
  redis.call('ZADD', KEYS[2], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], 2000)
end
if maxInFlight > 0 then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
end
return 0
`);

/** A slot taken: hand it back with `release` when the request is over. */
export interface Slot {
  readonly subscriptionId: string;
  readonly token: string;
  readonly holdsLease: boolean;
}

export type Acquired = { kind: 'go'; slot?: Slot } | { kind: 'wait'; delayMs: number };

/** Where pauses are kept (the subscriptions repository in production). */
export type PauseStore = Pick<SubscriptionsRepository, 'pause' | 'pausedUntil' | 'watchPauses'>;

/** The subscription fields the limiter reads. */
export type LimitedSubscription = Pick<Subscription, 'id' | 'rateLimitPerSecond' | 'maxInFlight'>;

const PAUSE_READ_INTERVAL_MS = 1_000;

/**
 * Per-subscription limits enforced through Redis, so running more workers does not multiply
 * them: `rateLimitPerSecond` (request starts in any one-second window, a sliding window) and
 * `maxInFlight` (requests under way, as leases that expire if a worker dies mid-request). And the
 * pause a receiver asks for with 429/503 and Retry-After, which holds back every delivery of the
 * subscription. Pauses are read from a copy refreshed at most once a second (a pause from this
 * process applies at once), so a subscription with no limits costs no Redis call per delivery.
 */
@Injectable()
export class SubscriptionLimiter implements OnModuleInit, OnModuleDestroy {
  private feed?: Promise<ChangeFeed>;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly instance = randomBytes(4).toString('hex');
  private counter = 0;
  private paused = new Map<string, number>();
  private pausedReadAtMs = 0;
  private pausedReading?: Promise<void>;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @Inject(SubscriptionsRepository) private readonly pauses: PauseStore,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
    this.leaseMs = config.delivery.lockMs;
  }

  /** Every process learns of a pause at once (pub/sub); the periodic read catches lost messages. */
  onModuleInit(): void {
    this.feed = this.pauses.watchPauses((id, untilMs) => this.remember(id, untilMs));
    this.feed.catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    const feed = await Promise.race([
      this.feed?.catch(() => undefined),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1_000).unref()),
    ]);
    await feed?.close();
  }

  private remember(subscriptionId: string, untilMs: number): void {
    if (untilMs > (this.paused.get(subscriptionId) ?? 0)) {
      this.paused.set(subscriptionId, untilMs);
    }
  }

  /** Milliseconds this subscription is paused for from now, by the local copy (0: not paused). */
  pausedForMs(subscriptionId: string, nowMs = Date.now()): number {
    this.refreshPausedSoon(nowMs);
    const until = this.paused.get(subscriptionId) ?? 0;
    return until > nowMs ? until - nowMs : 0;
  }

  /** Whether requests to this subscription must take a slot in Redis. */
  isLimited(subscription: LimitedSubscription): boolean {
    return subscription.rateLimitPerSecond !== undefined || subscription.maxInFlight !== undefined;
  }

  async acquire(subscription: LimitedSubscription): Promise<Acquired> {
    const pausedMs = this.pausedForMs(subscription.id);
    if (pausedMs > 0) {
      return { kind: 'wait', delayMs: pausedMs };
    }
    if (!this.isLimited(subscription)) {
      return { kind: 'go' };
    }
    const token = `${this.instance}-${this.counter++}`;
    const waitMs = Number(
      await ACQUIRE.run(
        this.redis,
        [this.inflightKey(subscription.id), this.startsKey(subscription.id)],
        [this.leaseMs, subscription.maxInFlight ?? 0, subscription.rateLimitPerSecond ?? 0, token],
      ),
    );
    if (waitMs > 0) {
      return { kind: 'wait', delayMs: waitMs };
    }
    return {
      kind: 'go',
      slot: {
        subscriptionId: subscription.id,
        token,
        holdsLease: subscription.maxInFlight !== undefined,
      },
    };
  }

  async release(slot: Slot | undefined): Promise<void> {
    if (slot?.holdsLease) {
      await this.redis.zrem(this.inflightKey(slot.subscriptionId), slot.token);
    }
  }

  /** Holds back every delivery of the subscription until `untilMs` (a receiver's Retry-After). */
  async pause(subscriptionId: string, untilMs: number): Promise<void> {
    this.remember(subscriptionId, untilMs);
    await this.pauses.pause(subscriptionId, untilMs);
  }

  private refreshPausedSoon(nowMs: number): void {
    if (this.pausedReading || nowMs - this.pausedReadAtMs < PAUSE_READ_INTERVAL_MS) {
      return;
    }
    this.pausedReadAtMs = nowMs;
    this.pausedReading = this.pauses
      .pausedUntil(nowMs)
      .then((current) => {
        // Pauses announced while the read was under way are kept.
        for (const [id, until] of this.paused) {
          if (until > nowMs && until > (current.get(id) ?? 0)) {
            current.set(id, until);
          }
        }
        this.paused = current;
      })
      .catch(() => undefined)
      .finally(() => {
        this.pausedReading = undefined;
      });
  }

  private inflightKey(subscriptionId: string): string {
    return redisKey(this.prefix, 'limit', subscriptionId, 'inflight');
  }

  private startsKey(subscriptionId: string): string {
    return redisKey(this.prefix, 'limit', subscriptionId, 'starts');
  }
}
