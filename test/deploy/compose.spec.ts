import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { knownEnvVars, loadConfig } from '../../src/config/app-config';
import { DemoReceiver } from '../../src/demo/demo-receiver';
import { parseSubscriptionsFile } from '../../src/subscriptions/subscriptions-file.loader';
import { isValidSecret, WebhookSigner } from '../../src/webhook-security/webhook-signer';
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

  describe('the receiver is subscribed at start-up and can verify what it gets', () => {
    const bridgeEnv = services.bridge.environment!;
    const receiverEnv = services.receiver.environment!;
    const mounts = (services.bridge.volumes as string[] | undefined) ?? [];
    const mount = mounts
      .map((m) => m.split(':'))
      .find(([, target]) => target === bridgeEnv.SUBSCRIPTIONS_FILE);
    const declared = (): ReturnType<typeof parseSubscriptionsFile> => {
      const source = join(ROOT, mount![0]);
      return parseSubscriptionsFile(read(source), source);
    };

    it('mounts a SUBSCRIPTIONS_FILE from the repository, read-only', () => {
      expect(bridgeEnv.SUBSCRIPTIONS_FILE).toMatch(/^\/\S+\.ya?ml$/);
      expect(mount).toBeDefined();
      const [source, , mode] = mount!;
      expect(source).toMatch(/^\.\//);
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect(mode).toBe('ro');
    });

    it('declares one subscription to every event, at the receiver service and port', () => {
      const subscriptions = declared();
      expect(subscriptions).toHaveLength(1);
      const [subscription] = subscriptions;
      expect(subscription.eventTypes).toEqual(['*']);
      const url = new URL(subscription.url);
      expect(url.hostname).toBe('receiver');
      expect(url.port).toBe(receiverEnv.RECEIVER_PORT);
      expect(subscription.enabled).not.toBe(false);
    });

    it("gives the receiver the subscription's own signing secret", () => {
      const [subscription] = declared();
      expect(isValidSecret(subscription.secret!)).toBe(true);
      expect(interpolated(String(receiverEnv.RECEIVER_SECRET))).toBe(subscription.secret);
    });

    it('a webhook signed as the bridge signs it is answered 204 by the receiver so configured', async () => {
      const [subscription] = declared();
      const receiver = new DemoReceiver({
        port: 0,
        host: '127.0.0.1',
        secret: interpolated(String(receiverEnv.RECEIVER_SECRET)),
      });
      await receiver.start();
      try {
        const post = (secret: string): Promise<Response> => {
          const body = JSON.stringify({ id: 'evt_compose', type: 'call.live', data: {} });
          const timestampSec = Math.floor(Date.now() / 1000);
          const signature = new WebhookSigner().sign({
            msgId: 'evt_compose',
            timestampSec,
            body,
            secrets: [secret],
          });
          return fetch(receiver.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'webhook-id': 'evt_compose',
              'webhook-timestamp': String(timestampSec),
              'webhook-signature': signature,
            },
            body,
          });
        };
        expect((await post(subscription.secret!)).status).toBe(204);
        // The check can fail: another secret is refused.
        expect((await post('whsec_' + Buffer.alloc(32, 7).toString('base64'))).status).toBe(401);
      } finally {
        await receiver.stop();
      }
    });
  });
});
