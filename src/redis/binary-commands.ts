import type { Redis } from 'ioredis';

type Arg = string | number | Buffer;

/**
 * ioredis generates a `<command>Buffer` variant of every command (bulk replies as Buffers), but
 * its typings omit some. They are used here rather than `callBuffer('CMD', ...)`, which
 * auto-pipelining mis-sends (it takes the first argument for the command name).
 */
interface BinaryCommands {
  evalshaBuffer(sha: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
  evalBuffer(script: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
  xclaimBuffer(...args: Arg[]): Promise<unknown>;
  xreadgroupBuffer(...args: Arg[]): Promise<unknown>;
}

export function binary(redis: Redis): BinaryCommands {
  return redis as unknown as BinaryCommands;
}
