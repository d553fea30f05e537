import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  freePort,
  hasRedisServer,
  spawnRedisServer,
  startRedisServer,
} from '../../scripts/redis-provider';
import { onCleanup, trackChild } from './processes';
import { sleep } from './util';

export interface BenchRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * A private redis-server configured as production would be (AOF everysec, noeviction), one per
 * scenario so memory figures start from an empty dataset. Stopped on exit, error or Ctrl-C.
 */
export async function startBenchRedis(): Promise<BenchRedis> {
  if (!hasRedisServer()) {
    throw new Error('redis-server is not installed; the bench needs its own production-like Redis');
  }
  const redis = await startRedisServer({ persistent: true });
  trackChild(redis.process);
  const unregister = onCleanup(() => redis.stop());
  return {
    url: redis.url,
    port: redis.port,
    stop: async () => {
      unregister();
      await redis.stop();
    },
  };
}

export async function redisInfo(url: string, section = 'default'): Promise<Record<string, string>> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    const text = await client.info(section);
    const info: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith('#')) {
        info[line.slice(0, colon)] = line.slice(colon + 1);
      }
    }
    return info;
  } finally {
    client.disconnect();
  }
}

export async function usedMemory(url: string): Promise<number> {
  return Number((await redisInfo(url)).used_memory);
}

/**
 * A redis-server the fault suite can kill -9 and start again on the same port and directory (the
 * AOF is replayed), with the same production-like settings as scripts/redis-provider.ts.
 */
export class RestartableRedis {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<RestartableRedis> {
    const redis = new RestartableRedis(
      await freePort(),
      mkdtempSync(join(tmpdir(), 'otb-bench-redis-')),
    );
    onCleanup(() => redis.destroy());
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async launch(): Promise<void> {
    await spawnRedisServer({
      port: this.port,
      dir: this.dir,
      persistent: true,
      timeoutMs: 20_000,
      onSpawn: (child) => (this.child = trackChild(child)),
    });
  }

  kill9(): void {
    this.child?.kill('SIGKILL');
  }

  async waitExit(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(10_000)]);
    }
  }

  async destroy(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await this.waitExit();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
