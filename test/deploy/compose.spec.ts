import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { knownEnvVars, loadConfig } from '../../src/config/app-config';
import { ROOT } from './chart-render';

/** compose.yaml, the laptop demo: Redis, the simulator, the receiver and the bridge. */

type Json = Record<string, unknown>;

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

describe('compose.yaml', () => {
  const compose = parse(read(join(ROOT, 'compose.yaml')), { merge: true }) as {
    services: Record<string, Json & { environment?: Record<string, string>; command?: string[] }>;
    volumes: Json;
    networks: Json;
  };
  const services = compose.services;
  /** The default of a `${NAME:-default}` interpolation, or the value itself. */
  const interpolated = (value: string): string => value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');

  it('runs Redis with AOF fsync every second, noeviction, a volume and a healthcheck', () => {
    const redis = services.redis;
    expect(String(redis.image)).toMatch(/^redis:7(\.\d+)?(-[\w.]+)?$/);
    const command = (redis.command as string[]).join(' ');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--appendfsync everysec\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(redis.volumes).toEqual([expect.stringMatching(/^[\w-]+:\/data$/)]);
    expect(Object.keys(compose.volumes)).toContain((redis.volumes as string[])[0].split(':')[0]);
    const pings: unknown = expect.arrayContaining(['redis-cli', 'ping']);
    expect(redis.healthcheck).toMatchObject({ test: pings });
  });

  it('runs the bridge from the production image, the simulator and receiver from the demo image', () => {
    const build = (name: string): Json => services[name].build as Json;
    expect(build('bridge')).toMatchObject({ context: '.', target: 'runtime' });
    for (const name of ['simulator', 'receiver']) {
      expect(build(name)).toMatchObject({ context: '.', target: 'demo' });
      expect(services[name].image).toBe(services.simulator.image);
    }
    expect(services.bridge.image).not.toBe(services.simulator.image);
    for (const name of ['simulator', 'receiver', 'bridge']) {
      expect(services[name].read_only).toBe(true);
    }
    const dockerfile = read(join(ROOT, 'Dockerfile'));
    for (const target of ['runtime', 'demo']) {
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${target}$`, 'm'));
    }
  });

  it('starts the simulator and receiver from entry points that exist, listening beyond loopback', () => {
    const entry = (name: string): string => services[name].command![1];
    expect(services.simulator.command).toEqual(['node', 'dist/simulator/simulator.main.js']);
    expect(services.receiver.command).toEqual(['node', 'dist/demo/demo-receiver.main.js']);
    for (const name of ['simulator', 'receiver']) {
      const source = entry(name)
        .replace(/^dist\//, 'src/')
        .replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect(services[name].healthcheck).toBeDefined();
    }
    expect(services.simulator.environment).toMatchObject({
      SIMULATOR_HOST: '0.0.0.0',
      SIMULATOR_PORT: '8787',
      SIMULATOR_CONTROL_PORT: '8788',
    });
    expect(services.receiver.environment).toMatchObject({
      RECEIVER_HOST: '0.0.0.0',
      RECEIVER_PORT: '9000',
    });
  });

  it('configures the bridge with known variables only, and a configuration the service accepts', () => {
    const bridge = services.bridge;
    const env = Object.fromEntries(
      Object.entries(bridge.environment!).map(([k, v]) => [k, interpolated(String(v))]),
    );
    expect(Object.keys(env).filter((k) => !knownEnvVars().includes(k))).toEqual([]);
    expect(env).toMatchObject({ APP_ROLE: 'all', REDIS_URL: 'redis://redis:6379' });
    expect(bridge.environment!.ADMIN_API_KEY).toMatch(/^\$\{ADMIN_API_KEY:-demo-only-[^}]+\}$/);
    const cfg = loadConfig(env);
    expect(cfg.adminApiKey!.length).toBeGreaterThanOrEqual(32);
    // The receiver is on the compose network, so exactly that subnet is allowed.
    const networks = compose.networks as { demo: { ipam: { config: { subnet: string }[] } } };
    expect(cfg.delivery.allowCidrs).toEqual([interpolated(networks.demo.ipam.config[0].subnet)]);
    const stopGrace = Number(/^(\d+)s$/.exec(String(bridge.stop_grace_period))?.[1]);
    expect(stopGrace).toBeGreaterThan(cfg.shutdownTimeoutMs / 1000);
  });

  it('starts the bridge only once Redis, the simulator and the receiver are healthy', () => {
    expect(services.bridge.depends_on).toEqual({
      redis: { condition: 'service_healthy' },
      simulator: { condition: 'service_healthy' },
      receiver: { condition: 'service_healthy' },
    });
  });
});
