import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { LuaScript } from '../redis/lua-script';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import type { Subscription } from '../subscriptions/subscription.model';
import { SubscriptionHealthRepository } from '../subscriptions/subscription-health.repository';
import type { ChangeFeed } from '../subscriptions/subscriptions.feed';

/**
 * Takes a slot for one request, or says how long to wait. Uses Redis time, so every worker
 * counts on one clock. KEYS: in-flight leases (sorted by expiry), request starts of the last
 * second (a sliding-window log), the next free wake-up time for callers refused by the rate.
 * ARGV: lease ms, max in flight (0 = none), rate per second (0 = none), token, window ms.
 * Returns 0 (go), -1 (too many in flight) or the milliseconds to wait for the rate.
 *
 * A caller refused by the rate is given its own wake-up time, spaced 1000 / rate ms after the
 * previous refused caller's, instead of all of them being told "when the oldest start leaves the
 * window": with a backlog of thousands, the same answer would wake them all at once, every
 * second, and the churn alone would slow the workers enough to bunch their requests.
 */
const ACQUIRE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxInFlight = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
if maxInFlight > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= maxInFlight then return -1 end
end
if rate > 0 then
  local window = tonumber(ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  if redis.call('ZCARD', KEYS[2]) >= rate then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    local free = tonumber(oldest[2]) + window
    local wake = math.max(free, tonumber(redis.call('GET', KEYS[3]) or '0'))
    local nextWake = wake + math.ceil(window / rate)
    redis.call('SET', KEYS[3], nextWake, 'PX', math.max(1000, nextWake - now + 1000))
    return math.max(1, wake - now)
  end
  redis.call('ZADD', KEYS[2], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], window * 2)
end
if maxInFlight > 0 then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
end
return 0
`);

/**
 * How long a caller refused by maxInFlight waits: the end of a request cannot be foreseen, so it
 * looks again soon, at a random moment so that waiters do not all look at once.
 */
const IN_FLIGHT_RECHECK_MIN_MS = 25;

/**
 * The rate is counted over a window a little longer than a second: a request reaches the
 * receiver a few ms after its slot is taken, and that delay varies, so a window of exactly one
 * second in Redis lets a request or two more into some second at the receiver. 5 % costs 5 % of
 * the rate and keeps the promise at the receiver's end.
 */
const RATE_WINDOW_MS = 1_050;
const IN_FLIGHT_RECHECK_SPREAD_MS = 225;

/** A slot taken: hand it back with `release` when the request is over. */
export interface Slot {
  readonly subscriptionId: string;
  readonly token: string;
  readonly holdsLease: boolean;
}

export type Acquired = { kind: 'go'; slot?: Slot } | { kind: 'wait'; delayMs: number };

/** Where pauses are kept (the subscriptions repository in production). */
export type PauseStore = Pick<
  SubscriptionHealthRepository,
  'pause' | 'pausedUntil' | 'watchPauses'
>;

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
    @Inject(SubscriptionHealthRepository) private readonly pauses: PauseStore,
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
        [
          this.inflightKey(subscription.id),
          this.startsKey(subscription.id),
          this.wakeKey(subscription.id),
        ],
        [
          this.leaseMs,
          subscription.maxInFlight ?? 0,
          subscription.rateLimitPerSecond ?? 0,
          token,
          RATE_WINDOW_MS,
        ],
      ),
    );
    if (waitMs < 0) {
      return {
        kind: 'wait',
        delayMs: IN_FLIGHT_RECHECK_MIN_MS + Math.floor(Math.random() * IN_FLIGHT_RECHECK_SPREAD_MS),
      };
    }
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

  private wakeKey(subscriptionId: string): string {
    return redisKey(this.prefix, 'limit', subscriptionId, 'wake');
  }
}
