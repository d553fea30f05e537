import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { LuaScript } from '../redis/lua-script';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';

/** Counts a failure; the window starts at the first one, so a steady trickle cannot extend it. */
const RECORD = new LuaScript(`
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`);

/** Milliseconds the address is still refused for, or 0. */
const BLOCKED_FOR = new LuaScript(`
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count < tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 0 end
return ttl
`);

/** Longest address kept in a key; anything longer is not an IP address anyway. */
const MAX_ADDRESS_LENGTH = 64;

/**
 * Failed admin API authentications per client address, in Redis so that every api replica counts
 * together: past ADMIN_AUTH_MAX_FAILURES within ADMIN_AUTH_FAILURE_WINDOW_SECONDS the address is
 * refused until the window ends, right key or not, so guessing teaches nothing.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly prefix: string;
  private readonly maxFailures: number;
  private readonly windowMs: number;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
    this.maxFailures = config.adminAuth.maxFailures;
    this.windowMs = config.adminAuth.failureWindowMs;
  }

  /** How long this address is still refused (ms), 0 when it may try. */
  async blockedForMs(address: string): Promise<number> {
    return Number(await BLOCKED_FOR.run(this.redis, [this.keyOf(address)], [this.maxFailures]));
  }

  async recordFailure(address: string): Promise<void> {
    await RECORD.run(this.redis, [this.keyOf(address)], [this.windowMs]);
  }

  private keyOf(address: string): string {
    return redisKey(this.prefix, 'admin-auth-failures', address.slice(0, MAX_ADDRESS_LENGTH));
  }
}
