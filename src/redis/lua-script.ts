import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { binary } from './binary-commands';

type Arg = string | number | Buffer;

/** A Lua script run by its SHA, loaded on first use and again after a Redis restart (NOSCRIPT). */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; bulk strings in the reply come back as strings. */
  async run(redis: Redis, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (isNoScript(error)) {
        return redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }

  /** Runs the script; bulk strings in the reply come back as Buffers (binary-safe). */
  async runBuffer(redis: Redis, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    try {
      return await binary(redis).evalshaBuffer(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (isNoScript(error)) {
        return binary(redis).evalBuffer(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
