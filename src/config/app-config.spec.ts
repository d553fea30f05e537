import 'reflect-metadata';
import { ConfigValidationError, knownEnvVars, loadConfig } from './app-config';
import { AppRole } from './app-role';

const base = { OPENTACT_TOKEN: 'aaa.bbb.ccc', ADMIN_API_KEY: 'k'.repeat(32) };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as ConfigValidationError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(base);
    expect(config.role).toBe(AppRole.All);
    expect(config.port).toBe(3000);
    expect(config.opentact.restUrl).toBe('https://api.opentact.org/rest');
    expect(config.opentact.wssUrl).toBe('wss://api.opentact.org');
    expect(config.opentact.authTimeoutMs).toBe(10_000);
    expect(config.opentact.pingIntervalMs).toBe(30_000);
    expect(config.opentact.reconnectMaxMs).toBe(30_000);
    expect(config.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', prefix: 'otb' });
    // 24 h configured, stretched to outlive the default schedule (27 h 35 min) by an hour
    expect(config.eventRetentionSeconds).toBe(27 * 3600 + 35 * 60 + 5 + 3600);
    expect(loadConfig({ ...base, DELIVERY_RETRY_SCHEDULE: '1s' }).eventRetentionSeconds).toBe(
      86_400,
    );
    expect(config.eventRetentionMaxCount).toBe(1_000_000);
    expect(config.eventRetentionMaxBytes).toBe(1024 * 1024 * 1024);
    expect(
      loadConfig({ ...base, EVENT_RETENTION_MAX_BYTES: '1048576' }).eventRetentionMaxBytes,
    ).toBe(1_048_576);
    expect(problems({ ...base, EVENT_RETENTION_MAX_BYTES: '1000' })[0]).toMatch(
      /^EVENT_RETENTION_MAX_BYTES: /,
    );
    expect(problems({ ...base, EVENT_RETENTION_MAX_BYTES: '1gb' })[0]).toMatch(
      /^EVENT_RETENTION_MAX_BYTES: /,
    );
    expect(config.quarantineMaxBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ ...base, QUARANTINE_MAX_BYTES: '1048576' }).quarantineMaxBytes).toBe(
      1_048_576,
    );
    expect(problems({ ...base, QUARANTINE_MAX_BYTES: '1000' })[0]).toMatch(
      /^QUARANTINE_MAX_BYTES: /,
    );
    expect(config.delivery.timeoutMs).toBe(15_000);
    // immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts
    expect(config.delivery.retryScheduleMs).toEqual([5e3, 3e5, 1.8e6, 7.2e6, 1.8e7, 3.6e7, 3.6e7]);
    expect(config.delivery.disableAfterMs).toBe(5 * 86_400_000);
    expect(config.delivery.secretRotationOverlapMs).toBe(86_400_000);
  });

  it('reads credentials: email and password win over a token', () => {
    expect(loadConfig(base).opentact.credentials).toEqual({ kind: 'token', token: 'aaa.bbb.ccc' });
    expect(
      loadConfig({ ...base, OPENTACT_EMAIL: 'a@b.c', OPENTACT_PASSWORD: 'pw' }).opentact
        .credentials,
    ).toEqual({ kind: 'password', email: 'a@b.c', password: 'pw' });
  });

  it('names each bad variable and what is wrong with it', () => {
    const found = problems({
      ...base,
      PORT: 'eighty',
      APP_ROLE: 'everything',
      DELIVERY_RETRY_JITTER: '2',
    });
    expect(found).toHaveLength(3);
    expect(found.find((p) => p.startsWith('PORT:'))).toMatch(/integer/);
    expect(found.find((p) => p.startsWith('APP_ROLE:'))).toMatch(/everything/);
    expect(found.find((p) => p.startsWith('DELIVERY_RETRY_JITTER:'))).toMatch(/1/);
  });

  it('never prints a secret value', () => {
    const found = problems({
      OPENTACT_EMAIL: 'a@b.c',
      OPENTACT_PASSWORD: '',
      ADMIN_API_KEY: 'short-secret-key',
    });
    const text = found.join('\n');
    expect(text).toMatch(/ADMIN_API_KEY: .*32/);
    expect(text).not.toContain('short-secret-key');
    expect(text).toMatch(/OPENTACT_PASSWORD/);
    const token = problems({ ...base, OPENTACT_TOKEN: 'not-a-jwt-secret' }).join('\n');
    expect(token).toMatch(/OPENTACT_TOKEN/);
    expect(token).not.toContain('not-a-jwt-secret');
  });

  it('requires Opentact credentials only where the WSS is held, and the admin key only where the API runs', () => {
    expect(problems({ ADMIN_API_KEY: 'k'.repeat(32) }).join()).toMatch(/OPENTACT_EMAIL/);
    expect(() => loadConfig({ APP_ROLE: 'worker' })).not.toThrow();
    expect(() => loadConfig({ APP_ROLE: 'api', ADMIN_API_KEY: 'k'.repeat(32) })).not.toThrow();
    expect(problems({ APP_ROLE: 'api' }).join()).toMatch(/ADMIN_API_KEY/);
    expect(() => loadConfig({ APP_ROLE: 'ingest', OPENTACT_TOKEN: 'a.b.c' })).not.toThrow();
  });

  it('accepts a Redis Cluster hash tag as the prefix and refuses other braces', () => {
    expect(loadConfig({ ...base, QUEUE_PREFIX: '{otb}' }).redis.prefix).toBe('{otb}');
    expect(problems({ ...base, QUEUE_PREFIX: 'otb:{x' }).join()).toMatch(/QUEUE_PREFIX/);
  });

  it('reads Redis Cluster seed nodes, and insists on a hash-tag prefix with them', () => {
    const config = loadConfig({
      ...base,
      REDIS_CLUSTER_NODES: 'r0:6379,r1:6380',
      QUEUE_PREFIX: '{otb}',
    });
    expect(config.redis.clusterNodes).toEqual([
      { host: 'r0', port: 6379 },
      { host: 'r1', port: 6380 },
    ]);
    expect(loadConfig(base).redis.clusterNodes).toBeUndefined();
    expect(problems({ ...base, REDIS_CLUSTER_NODES: 'r0:6379' })).toEqual([
      expect.stringMatching(/^QUEUE_PREFIX: must be a hash tag such as \{otb\}/) as unknown,
    ]);
    expect(problems({ ...base, REDIS_CLUSTER_NODES: 'r0' }).join()).toMatch(
      /REDIS_CLUSTER_NODES must be a comma-separated list of host:port/,
    );
    expect(
      problems({
        ...base,
        QUEUE_PREFIX: '{otb}',
        REDIS_CLUSTER_NODES: 'r0:6379',
        REDIS_SENTINELS: 's0:26379',
      }).join(),
    ).toMatch(/REDIS_CLUSTER_NODES: cannot be used together with REDIS_SENTINELS/);
  });

  it('parses retry schedules with units and Sentinel lists', () => {
    const config = loadConfig({
      ...base,
      DELIVERY_RETRY_SCHEDULE: '250ms, 2s,1m',
      REDIS_SENTINELS: 'a:26379,b:26380',
    });
    expect(config.delivery.retryScheduleMs).toEqual([250, 2000, 60000]);
    expect(config.redis.sentinels).toEqual([
      { host: 'a', port: 26379 },
      { host: 'b', port: 26380 },
    ]);
    expect(problems({ ...base, DELIVERY_RETRY_SCHEDULE: '5 minutes' }).join()).toMatch(
      /DELIVERY_RETRY_SCHEDULE/,
    );
  });

  it('does not turn the string "false" into true or a blank into zero', () => {
    expect(loadConfig({ ...base, PORT: '' }).port).toBe(3000);
    expect(problems({ ...base, WORKER_CONCURRENCY: 'false' }).join()).toMatch(/WORKER_CONCURRENCY/);
  });

  it('trusts no proxy by default, and the hops or ranges TRUST_PROXY names', () => {
    expect(loadConfig(base).trustProxy).toBeUndefined();
    expect(loadConfig({ ...base, TRUST_PROXY: ' ' }).trustProxy).toBeUndefined();
    expect(loadConfig({ ...base, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ ...base, TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
    ]);
    expect(problems({ ...base, TRUST_PROXY: 'true' })).toEqual([
      expect.stringMatching(/^TRUST_PROXY: .*"true" is not an IP address/),
    ]);
  });

  it('lists every variable it reads', () => {
    expect(knownEnvVars()).toEqual(
      expect.arrayContaining(['OPENTACT_EMAIL', 'ADMIN_API_KEY', 'QUEUE_PREFIX', 'APP_ROLE']),
    );
  });
});
