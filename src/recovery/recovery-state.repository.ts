import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { LuaScript } from '../redis/lua-script';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';

/** A stretch of time whose SMS and calls one ingest process recovers over REST. */
export interface ClaimedGap {
  id: string;
  /** Epoch ms: the last moment a link was known to receive (a frame, or a healthy heartbeat). */
  fromMs: number;
  /** Epoch ms: when the next link authenticated. */
  toMs: number;
  /** The gap was longer than RECOVERY_MAX_WINDOW_SECONDS and starts at that bound instead. */
  truncated: boolean;
  /** A claim taken over from a process that stopped before finishing it. */
  resumed: boolean;
}

/** What GET /v1/status shows of the last gap. */
export interface RecoveryReport {
  gapFrom: string;
  gapTo: string;
  gapSeconds: number;
  truncated: boolean;
  /** interrupted: the process stopped mid-way; the gap stays claimable and is resumed. */
  state: 'recovering' | 'done' | 'failed' | 'interrupted';
  /** Entities read from the searches. */
  entities: number;
  /** Events appended because the WSS had not delivered them. */
  recovered: number;
  /** Recovered states the WSS (or an earlier recovery) had already delivered. */
  duplicates: number;
  requests: number;
  errors: number;
  lastError?: string;
  startedAt: string;
  finishedAt?: string;
  instance: string;
}

/** The Opentact link, as seen by every ingest process together. */
export interface OutageRecord {
  /** Epoch ms: the last moment any link was known healthy. */
  sinceMs: number;
  alertedAtMs: number;
}

/** Open claims kept at most; more would mean claims are never finished, and are dropped oldest first. */
const MAX_OPEN_CLAIMS = 100;

/** Raises a number key to ARGV[1] if it is lower (or missing). */
const RAISE = new LuaScript(`
local current = tonumber(redis.call('GET', KEYS[1]))
local value = tonumber(ARGV[1])
if current == nil or current < value then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`);

/**
 * Claims what is left to recover, atomically across ingest processes. KEYS: seen, claimed-until,
 * open claims (hash). ARGV: local from ('' when this process has no link history: the shared
 * `seen` mark stands in), now, max window ms, owner, lease ms, new claim id, max open claims.
 * First takes over open claims whose lease ran out (their owner stopped); then claims the new
 * stretch from max(from, claimed-until) to now, so two processes never recover one moment twice.
 * Returns the claims as JSON strings.
 */
const CLAIM = new LuaScript(`
local seen = tonumber(redis.call('GET', KEYS[1]))
local claimed = tonumber(redis.call('GET', KEYS[2]))
local from = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local maxWindow = tonumber(ARGV[3])
local owner = ARGV[4]
local lease = tonumber(ARGV[5])
local out = {}
local open = redis.call('HGETALL', KEYS[3])
for i = 1, #open, 2 do
  local claim = cjson.decode(open[i + 1])
  if claim.leaseUntil < now then
    claim.owner = owner
    claim.leaseUntil = now + lease
    claim.resumed = true
    local text = cjson.encode(claim)
    redis.call('HSET', KEYS[3], open[i], text)
    table.insert(out, text)
  end
end
if from == nil then from = seen end
if from ~= nil then
  if claimed ~= nil and claimed > from then from = claimed end
  local truncated = false
  if from < now - maxWindow then
    from = now - maxWindow
    truncated = true
  end
  if from < now and redis.call('HLEN', KEYS[3]) < tonumber(ARGV[7]) then
    local claim = { id = ARGV[6], from = from, to = now, owner = owner,
      leaseUntil = now + lease, truncated = truncated, resumed = false }
    local text = cjson.encode(claim)
    redis.call('HSET', KEYS[3], ARGV[6], text)
    table.insert(out, text)
  end
end
if claimed == nil or claimed < now then redis.call('SET', KEYS[2], now) end
if seen == nil or seen < now then redis.call('SET', KEYS[1], now) end
return out
`);

/** Extends a claim's lease if this owner still holds it; returns 0 when it was taken over. */
const RENEW = new LuaScript(`
local text = redis.call('HGET', KEYS[1], ARGV[1])
if not text then return 0 end
local claim = cjson.decode(text)
if claim.owner ~= ARGV[2] then return 0 end
claim.leaseUntil = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(claim))
return 1
`);

/** Opens the outage record once: the first process to see the link down long enough alerts. */
const OPEN_OUTAGE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seen = tonumber(redis.call('GET', KEYS[2]))
if seen ~= nil and seen > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`);

/**
 * Recovery's state in Redis, shared by the ingest processes. The only code that knows the layout:
 *   <prefix>:recovery:seen           epoch ms of the last moment any link was known to receive
 *   <prefix>:recovery:claimed-until  epoch ms up to which gaps have been claimed for recovery
 *   <prefix>:recovery:open           hash of claims being recovered (JSON, with owner and lease)
 *   <prefix>:recovery:last           JSON report of the last gap (GET /v1/status)
 *   <prefix>:recovery:outage         JSON of an outage announced with bridge.opentact.disconnected
 */
@Injectable()
export class RecoveryStateRepository {
  private readonly seenKey: string;
  private readonly claimedKey: string;
  private readonly openKey: string;
  private readonly lastKey: string;
  private readonly outageKey: string;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    const prefix = config.redis.prefix;
    this.seenKey = redisKey(prefix, 'recovery', 'seen');
    this.claimedKey = redisKey(prefix, 'recovery', 'claimed-until');
    this.openKey = redisKey(prefix, 'recovery', 'open');
    this.lastKey = redisKey(prefix, 'recovery', 'last');
    this.outageKey = redisKey(prefix, 'recovery', 'outage');
  }

  /** Some link was receiving at `atMs`. */
  async markSeen(atMs: number): Promise<void> {
    await RAISE.run(this.redis, [this.seenKey], [Math.floor(atMs)]);
  }

  async lastSeen(): Promise<number | undefined> {
    const value = await this.redis.get(this.seenKey);
    const ms = value === null ? NaN : Number(value);
    return Number.isFinite(ms) ? ms : undefined;
  }

  /**
   * Claims the gap that ends now (from `fromMs`, or from the shared `seen` mark when undefined)
   * and any claim abandoned by a stopped process. See CLAIM.
   */
  async claim(options: {
    fromMs: number | undefined;
    nowMs: number;
    maxWindowMs: number;
    owner: string;
    leaseMs: number;
    id: string;
  }): Promise<ClaimedGap[]> {
    const reply = (await CLAIM.run(
      this.redis,
      [this.seenKey, this.claimedKey, this.openKey],
      [
        options.fromMs === undefined ? '' : Math.floor(options.fromMs),
        Math.floor(options.nowMs),
        options.maxWindowMs,
        options.owner,
        options.leaseMs,
        options.id,
        MAX_OPEN_CLAIMS,
      ],
    )) as string[];
    return reply.map((text) => {
      const claim = JSON.parse(text) as {
        id: string;
        from: number;
        to: number;
        truncated: boolean;
        resumed: boolean;
      };
      return {
        id: claim.id,
        fromMs: claim.from,
        toMs: claim.to,
        truncated: claim.truncated === true,
        resumed: claim.resumed === true,
      };
    });
  }

  /** False when the claim was taken over (this process was too slow to renew it). */
  async renew(id: string, owner: string, leaseUntilMs: number): Promise<boolean> {
    return (
      (await RENEW.run(this.redis, [this.openKey], [id, owner, Math.floor(leaseUntilMs)])) === 1
    );
  }

  /** The claim is recovered: nobody takes it over. */
  async finish(id: string): Promise<void> {
    await this.redis.hdel(this.openKey, id);
  }

  async openClaims(): Promise<number> {
    return this.redis.hlen(this.openKey);
  }

  async saveReport(report: RecoveryReport): Promise<void> {
    await this.redis.set(this.lastKey, JSON.stringify(report));
  }

  async lastReport(): Promise<RecoveryReport | undefined> {
    const text = await this.redis.get(this.lastKey);
    return text === null ? undefined : (JSON.parse(text) as RecoveryReport);
  }

  /**
   * True for the one process that opens the outage record (and so announces it); false when one
   * is open already, or when some link was seen receiving after `quietSinceMs`.
   */
  async openOutage(record: OutageRecord, quietSinceMs: number): Promise<boolean> {
    return (
      (await OPEN_OUTAGE.run(
        this.redis,
        [this.outageKey, this.seenKey],
        [JSON.stringify(record), Math.floor(quietSinceMs)],
      )) === 1
    );
  }

  /** Takes the open outage record, if any: the one process that gets it announces the end. */
  async closeOutage(): Promise<OutageRecord | undefined> {
    const text = await this.redis.getdel(this.outageKey);
    return text === null ? undefined : (JSON.parse(text) as OutageRecord);
  }
}
