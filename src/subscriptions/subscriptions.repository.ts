import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import { LuaScript } from '../redis/lua-script';
import type { Subscription } from './subscription.model';

/** A `cursor` that this repository did not hand out (or that was tampered with). */
export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor() {
    super('cursor is not one returned by a previous page');
    this.name = 'InvalidCursorError';
  }
}

/** An insert refused because `maxCount` subscriptions exist already. */
export class SubscriptionLimitError extends Error {
  readonly code = 'SUBSCRIPTION_LIMIT';
  constructor(readonly maxCount: number) {
    super(`${maxCount} subscriptions exist already`);
    this.name = 'SubscriptionLimitError';
  }
}

export interface SubscriptionPage {
  items: Subscription[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface SubscriptionsSnapshot {
  /** Changes with every write; compare to decide whether a cached snapshot is stale. */
  version: string;
  subscriptions: Subscription[];
}

/** A live subscription to change notifications; close it on shutdown. */
export interface ChangeFeed {
  close(): Promise<void>;
}

type Health = Pick<Subscription, 'failingSince' | 'lastSuccessAt'>;

const MAX_UPDATE_ATTEMPTS = 20;

/** Insert, upsert, or compare-and-set; every write bumps the version and publishes it. */
const WRITE = new LuaScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[5] == 'insert' and current then return -1 end
if ARGV[5] == 'insert' and ARGV[7] ~= '' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then
  return -2
end
if ARGV[5] == 'replace' and current ~= ARGV[6] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[4], tostring(version))
return version
`);

const DELETE = new LuaScript(`
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
if removed == 1 then
  local version = redis.call('INCR', KEYS[3])
  redis.call('PUBLISH', ARGV[2], tostring(version))
end
return removed
`);

/**
 * Ordered by (createdAt ms, id): the index's score, then Redis's own member order for ties.
 * The cursor is the last (score, id) seen; if that member was deleted meanwhile the position is
 * recomputed from the score, so a page is never repeated nor skipped.
 */
const PAGE = new LuaScript(`
local limit = tonumber(ARGV[3])
local start = 0
if ARGV[2] ~= '' then
  local rank = redis.call('ZRANK', KEYS[1], ARGV[2])
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if rank and score == ARGV[1] then
    start = rank + 1
  else
    start = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])) do
      if id <= ARGV[2] then start = start + 1 end
    end
  end
end
local ids = redis.call('ZRANGE', KEYS[1], start, start + limit)
if #ids == 0 then return {} end
local rows = {}
local docs = redis.call('HMGET', KEYS[2], unpack(ids))
local failing = redis.call('HMGET', KEYS[3], unpack(ids))
local success = redis.call('HMGET', KEYS[4], unpack(ids))
for i = 1, #ids do
  rows[#rows + 1] = { ids[i], docs[i] or '', failing[i] or '', success[i] or '' }
end
return rows
`);

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

/** Pauses only ever grow: a shorter Retry-After does not cut a longer pause short. */
const PAUSE = new LuaScript(`
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('PUBLISH', ARGV[3], ARGV[1] .. ':' .. ARGV[2])
end
return 1
`);

function scoreOf(sub: Subscription): string {
  const ms = Date.parse(sub.createdAt);
  return String(Number.isFinite(ms) ? ms : 0);
}

function encodeCursor(score: string, id: string): string {
  return Buffer.from(JSON.stringify([score, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [score: string, id: string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      /^\d{1,16}$/.test(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      parsed[1] !== ''
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // reported below
  }
  throw new InvalidCursorError();
}

/** The stored document leaves out delivery health, which lives in its own hashes (see below). */
function serialize(sub: Subscription): string {
  const { failingSince: _f, lastSuccessAt: _l, ...doc } = sub;
  return JSON.stringify(doc);
}

function deserialize(doc: string, health: Health): Subscription {
  const sub = JSON.parse(doc) as Subscription;
  if (health.failingSince) {
    sub.failingSince = health.failingSince;
  }
  if (health.lastSuccessAt) {
    sub.lastSuccessAt = health.lastSuccessAt;
  }
  return sub;
}

function byCreatedThenId(a: Subscription, b: Subscription): number {
  const byTime = Number(scoreOf(a)) - Number(scoreOf(b));
  return byTime !== 0 ? byTime : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Subscriptions in Redis: one hash id → JSON, an index sorted by creation for pagination, and a
 * version counter bumped (and published) on every configuration write so each process's
 * registry knows when to reload. Delivery health (failingSince, lastSuccessAt) is kept in two
 * separate hashes: workers update it on every delivery, and those writes must neither rewrite
 * the document nor make every process reload its snapshot.
 */
@Injectable()
export class SubscriptionsRepository {
  private readonly hashKey: string;
  private readonly indexKey: string;
  private readonly versionKey: string;
  private readonly failingKey: string;
  private readonly successKey: string;
  private readonly pausedKey: string;
  /** Not a key, but built the same way so it is namespaced by the prefix too. */
  readonly channel: string;
  private readonly pausesChannel: string;
  private readonly logger: Logger;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
    @InjectLogger() logger: Logger,
  ) {
    const prefix = config.redis.prefix;
    this.hashKey = redisKey(prefix, 'subscriptions');
    this.indexKey = redisKey(prefix, 'subscriptions', 'by-created');
    this.versionKey = redisKey(prefix, 'subscriptions', 'version');
    this.failingKey = redisKey(prefix, 'subscriptions', 'failing-since');
    this.successKey = redisKey(prefix, 'subscriptions', 'last-success');
    this.pausedKey = redisKey(prefix, 'subscriptions', 'paused-until');
    this.channel = redisKey(prefix, 'subscriptions', 'changed');
    this.pausesChannel = redisKey(prefix, 'subscriptions', 'paused');
    this.logger = logger.child({ component: 'subscriptions-repository' });
  }

  async get(id: string): Promise<Subscription | undefined> {
    const read = await this.read(id);
    return read?.subscription;
  }

  async list(options: { limit: number; cursor?: string }): Promise<SubscriptionPage> {
    const limit = Math.max(1, Math.floor(options.limit));
    const [score, lastId] = options.cursor ? decodeCursor(options.cursor) : ['', ''];
    const rows = (await PAGE.run(
      this.redis,
      [this.indexKey, this.hashKey, this.failingKey, this.successKey],
      [score, lastId, limit],
    )) as [string, string, string, string][];
    const items = rows
      .filter(([, doc]) => doc !== '')
      .map(([, doc, failingSince, lastSuccessAt]) =>
        deserialize(doc, {
          failingSince: failingSince || undefined,
          lastSuccessAt: lastSuccessAt || undefined,
        }),
      );
    const hasMore = rows.length > limit;
    const page = hasMore ? items.slice(0, limit) : items;
    const lastSub = page.at(-1);
    return hasMore && lastSub
      ? { items: page, nextCursor: encodeCursor(scoreOf(lastSub), lastSub.id) }
      : { items: page };
  }

  async listAll(): Promise<Subscription[]> {
    return (await this.snapshot()).subscriptions;
  }

  /** Everything plus the version it corresponds to, read atomically. */
  async snapshot(): Promise<SubscriptionsSnapshot> {
    const results = await this.redis
      .multi()
      .get(this.versionKey)
      .hgetall(this.hashKey)
      .hgetall(this.failingKey)
      .hgetall(this.successKey)
      .exec();
    if (!results) {
      throw new Error('subscriptions snapshot transaction was aborted');
    }
    for (const [error] of results) {
      if (error) {
        throw error;
      }
    }
    const version = (results[0][1] as string | null) ?? '0';
    const docs = results[1][1] as Record<string, string>;
    const failing = results[2][1] as Record<string, string>;
    const success = results[3][1] as Record<string, string>;
    const subscriptions = Object.entries(docs)
      .map(([id, doc]) =>
        deserialize(doc, { failingSince: failing[id], lastSuccessAt: success[id] }),
      )
      .sort(byCreatedThenId);
    return { version, subscriptions };
  }

  async version(): Promise<string> {
    return (await this.redis.get(this.versionKey)) ?? '0';
  }

  /** Creates or overwrites. */
  async save(sub: Subscription): Promise<void> {
    await this.write(sub, 'upsert');
  }

  /**
   * Creates only when the id is free; false when it is taken. With `maxCount`, throws
   * SubscriptionLimitError when that many exist already (checked in the same script, so two
   * concurrent creates cannot both slip under the cap).
   */
  async insert(sub: Subscription, options: { maxCount?: number } = {}): Promise<boolean> {
    const result = await this.write(sub, 'insert', '', options.maxCount);
    if (result === -2) {
      throw new SubscriptionLimitError(options.maxCount ?? 0);
    }
    return result !== -1;
  }

  /**
   * Read-modify-write without lost updates: `mutate` gets the stored subscription and returns the
   * next one (the same object for "no change"); it is run again if another writer got in between.
   * Resolves to the stored result, or undefined when the id is unknown.
   */
  async update(
    id: string,
    mutate: (current: Subscription) => Subscription,
  ): Promise<Subscription | undefined> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const read = await this.read(id);
      if (!read) {
        return undefined;
      }
      const next = mutate(read.subscription);
      if (next === read.subscription) {
        return next;
      }
      if (next.id !== id) {
        throw new Error('a subscription update cannot change its id');
      }
      if ((await this.write(next, 'replace', read.doc)) !== -1) {
        return {
          ...next,
          failingSince: read.subscription.failingSince,
          lastSuccessAt: read.subscription.lastSuccessAt,
        };
      }
    }
    throw new Error(
      `subscription ${id} kept changing; gave up after ${MAX_UPDATE_ATTEMPTS} attempts`,
    );
  }

  async delete(id: string): Promise<boolean> {
    const removed = await DELETE.run(
      this.redis,
      [
        this.hashKey,
        this.indexKey,
        this.versionKey,
        this.failingKey,
        this.successKey,
        this.pausedKey,
      ],
      [id, this.channel],
    );
    return removed === 1;
  }

  /** A delivery succeeded: remember when, and end any failure run that began before it. */
  async recordSuccess(id: string, at: Date): Promise<void> {
    await RECORD_SUCCESS.run(
      this.redis,
      [this.hashKey, this.failingKey, this.successKey],
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
      [this.hashKey, this.failingKey, this.successKey],
      [id, at.toISOString()],
    )) as string | null;
    return { failingSince: since };
  }

  /** Turns an enabled subscription off; true only for the call that actually disabled it. */
  async disable(id: string, reason: string, at: Date): Promise<boolean> {
    let disabled = false;
    await this.update(id, (current) => {
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
    await PAUSE.run(this.redis, [this.pausedKey], [id, untilMs, this.pausesChannel]);
  }

  /** Calls `onPause` for every pause any process records. Close the feed on shutdown. */
  async watchPauses(onPause: (id: string, untilMs: number) => void): Promise<ChangeFeed> {
    const subscriber = this.redis.duplicate({
      connectionName: 'otb-pauses-feed',
      maxRetriesPerRequest: null,
    });
    subscriber.on('message', (channel: string, message: string) => {
      const at = message.lastIndexOf(':');
      if (channel === this.pausesChannel && at > 0) {
        onPause(message.slice(0, at), Number(message.slice(at + 1)));
      }
    });
    subscriber.on('error', (error: Error) => {
      this.logger.warn({ err: error.message }, 'pause feed connection error');
    });
    await subscriber.subscribe(this.pausesChannel);
    return {
      close: async () => {
        await subscriber.quit().catch(() => subscriber.disconnect());
      },
    };
  }

  /** Every subscription paused now, until when (ms); pauses that have passed are removed. */
  async pausedUntil(nowMs: number): Promise<Map<string, number>> {
    const raw = await this.redis.hgetall(this.pausedKey);
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
      await this.redis.hdel(this.pausedKey, ...expired);
    }
    return out;
  }

  /** Ends a failure run without a delivery: used when an operator turns a subscription back on. */
  async clearFailure(id: string): Promise<void> {
    await this.redis.hdel(this.failingKey, id);
  }

  /**
   * Calls `onChange` on every published change, and after every (re)connect, since messages sent
   * while disconnected are lost. Pub/sub needs a connection of its own.
   */
  async watchChanges(onChange: () => void): Promise<ChangeFeed> {
    // Waits for Redis however long it is away (the shared client gives up after 3 tries).
    const subscriber = this.redis.duplicate({
      connectionName: 'otb-subscriptions-feed',
      maxRetriesPerRequest: null,
    });
    subscriber.on('message', (channel: string) => {
      if (channel === this.channel) {
        onChange();
      }
    });
    subscriber.on('ready', onChange);
    subscriber.on('error', (error: Error) => {
      this.logger.warn({ err: error.message }, 'subscription change feed connection error');
    });
    await subscriber.subscribe(this.channel);
    return {
      close: async () => {
        await subscriber.quit().catch(() => subscriber.disconnect());
      },
    };
  }

  private async read(id: string): Promise<{ doc: string; subscription: Subscription } | undefined> {
    const results = await this.redis
      .multi()
      .hget(this.hashKey, id)
      .hget(this.failingKey, id)
      .hget(this.successKey, id)
      .exec();
    if (!results) {
      throw new Error('subscription read transaction was aborted');
    }
    for (const [error] of results) {
      if (error) {
        throw error;
      }
    }
    const [doc, failingSince, lastSuccessAt] = results.map(([, value]) => value as string | null);
    if (doc === null) {
      return undefined;
    }
    return {
      doc,
      subscription: deserialize(doc, {
        failingSince: failingSince ?? undefined,
        lastSuccessAt: lastSuccessAt ?? undefined,
      }),
    };
  }

  private async write(
    sub: Subscription,
    mode: 'upsert' | 'insert' | 'replace',
    expected = '',
    maxCount?: number,
  ): Promise<number> {
    const result = await WRITE.run(
      this.redis,
      [this.hashKey, this.indexKey, this.versionKey],
      [sub.id, serialize(sub), scoreOf(sub), this.channel, mode, expected, maxCount ?? ''],
    );
    return Number(result);
  }
}
