import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface ProvidedRedis {
  url: string;
  /** True when this process started its own redis-server. */
  started: boolean;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Production-like persistence: AOF every second and no eviction. */
  persistent?: boolean;
  port?: number;
}

/** True once the server at `url` answers PONG (not -LOADING while it replays its AOF). */
export async function redisAnswers(url: string, connectTimeout = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout,
  });
  // A refused connection is the answer here, not an error worth printing.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Command-line arguments of a loopback redis-server; `persistent` is the production setting the
 * service requires (AOF every second, no eviction).
 */
export function redisServerArgs(options: {
  port: number;
  dir: string;
  persistent?: boolean;
  password?: string;
}): string[] {
  return [
    '--port',
    String(options.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    options.dir,
    '--save',
    '',
    ...(options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']
      : ['--appendonly', 'no']),
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
  ];
}

/**
 * The one way the demo, tests and bench start a redis-server: on `port` and `dir`, waited on
 * until it answers PING (killed and an error thrown when it does not within `timeoutMs`).
 * `onSpawn` sees the child before the wait, to track it for clean-up on Ctrl-C.
 */
export async function spawnRedisServer(options: {
  port: number;
  dir: string;
  persistent?: boolean;
  password?: string;
  /** More redis-server options (e.g. `--cluster-enabled yes`). */
  extraArgs?: string[];
  timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void;
}): Promise<ChildProcess> {
  const args = [...redisServerArgs(options), ...(options.extraArgs ?? [])];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  options.onSpawn?.(child);
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const url = `redis://${auth}127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await redisAnswers(url, 500))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${options.port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

/** Starts a private redis-server on a free loopback port, in a temporary directory. */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<ProvidedRedis & { process: ChildProcess; port: number; dir: string }> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'otb-redis-'));
  const child = await spawnRedisServer({ port, dir, persistent: options.persistent });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: child,
    started: true,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The given Redis, else the local default, else a private redis-server when one is installed. */
export async function provideRedis(preferred?: string): Promise<ProvidedRedis> {
  const url = preferred ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) {
    return { url, started: false, stop: () => Promise.resolve() };
  }
  if (preferred) {
    throw new Error(`Redis does not answer at REDIS_URL (${new URL(url).host})`);
  }
  if (!hasRedisServer()) {
    throw new Error(
      'no Redis answers on 127.0.0.1:6379 and redis-server is not installed. Start one ' +
        '(e.g. `apt-get install redis-server` or `docker run -p 6379:6379 redis:7`) or set REDIS_URL.',
    );
  }
  return startRedisServer();
}

/**
 * Deletes every key under `prefix:` (SCAN, not KEYS, to be kind to a shared server); returns
 * how many it deleted. The demo's clean-up and the tests' `deletePrefix`.
 */
export async function deleteKeysUnder(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        deleted += await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
