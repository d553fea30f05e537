/**
 * `ts-node scripts/redis-cluster.ts [-- command args...]`: a three-master Redis Cluster on
 * loopback for tests (`redis-server --cluster-enabled yes` on three free ports, joined with
 * `redis-cli --cluster create ... --cluster-replicas 0`). With a command, runs it with
 * REDIS_CLUSTER_NODES (the three host:port seeds) and REDIS_URL (the first node) set, then stops
 * the cluster and exits with the command's code; without one, prints the variables and keeps the
 * cluster up until Ctrl-C.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, spawnRedisServer } from './redis-provider';

export interface LocalCluster {
  /** `127.0.0.1:<port>` of each master. */
  nodes: string[];
  stop(): Promise<void>;
}

async function clusterOk(port: number): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = (await client.call('CLUSTER', 'INFO')) as string;
    return /cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function startLocalCluster(masters = 3): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'otb-redis-cluster-'));
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        }
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      ports.push(port);
      children.push(
        await spawnRedisServer({
          port,
          dir: mkdtempSync(join(dir, `${port}-`)),
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
    }
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await Promise.all(ports.map(clusterOk));
      if (ok.every(Boolean)) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error('the Redis Cluster did not reach cluster_state:ok within 20 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const separator = process.argv.indexOf('--');
  const command = separator >= 0 ? process.argv.slice(separator + 1) : [];
  const started = Date.now();
  const cluster = await startLocalCluster();
  const env = {
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    REDIS_URL: `redis://${cluster.nodes[0]}`,
  };
  process.stdout.write(
    `Redis Cluster up in ${Date.now() - started} ms: REDIS_CLUSTER_NODES=${env.REDIS_CLUSTER_NODES}\n`,
  );
  if (command.length === 0) {
    process.stdout.write('Ctrl-C to stop it.\n');
    const stop = (): void => void cluster.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  const child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) =>
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))),
  );
  await cluster.stop();
  process.exit(code);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
