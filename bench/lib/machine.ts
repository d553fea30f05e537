import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './build';
import { redisInfo } from './redis';

const PACKAGES = ['bullmq', 'ioredis', 'undici', 'ws', '@nestjs/core', 'standardwebhooks'] as const;

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(
      readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8'),
    ) as { version?: string };
    return pkg.version ?? '?';
  } catch {
    return '?';
  }
}

export async function machineLines(redisUrl: string): Promise<string[]> {
  const info = await redisInfo(redisUrl);
  const list = cpus();
  const own = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return [
    `machine   ${list[0]?.model ?? 'unknown CPU'}, ${list.length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, ${process.platform} ${process.arch}`,
    `node      ${process.version}`,
    `redis     ${info.redis_version ?? '?'} (appendonly ${info.aof_enabled === '1' ? 'yes' : 'no'}, appendfsync everysec, maxmemory-policy noeviction)`,
    `packages  opentact-bridge ${own.version}; ${PACKAGES.map((p) => `${p} ${packageVersion(p)}`).join(', ')}`,
  ];
}
