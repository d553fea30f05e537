import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/redis-provider';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import {
  createSubscription,
  opentactEnv,
  spawnRedisAt,
  stopChild,
  until,
} from '../support/e2e-env';
import {
  killAllServices,
  runServiceToExit,
  type ServiceProcess,
  startService,
} from '../support/process-harness';
import { RecordingReceiver } from '../support/recording-receiver';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/**
 * A full run at LOG_LEVEL=debug (ingest, worker and api processes, a password-protected Redis,
 * subscriptions with custom headers, a rotation, failing deliveries, a token refresh, a refused
 * authentication, start-ups that fail), then every byte the processes wrote is searched for every
 * secret they were given or handed out.
 */
describe('no secret in the logs of a full run', () => {
  const email = 'secrets@opentact.local';
  const opentactPassword = `ot-pass-${hex(12)}`;
  const redisPassword = `redis-pass-${hex(12)}`;
  const adminKey = `admin-key-${hex(20)}`;
  const ownSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const customHeaderValue = `hdr-token-${hex(12)}`;
  const prefix = `t-e2e-secrets-${hex(4)}`;
  const outputs: { name: string; text: string }[] = [];

  let sim: OpentactSimulator;
  let receiver: RecordingReceiver;
  let redis: ChildProcess | undefined;
  let redisDir: string;
  let redisUrl: string;

  beforeAll(async () => {
    sim = new OpentactSimulator({
      port: 0,
      email,
      password: opentactPassword,
      // Short-lived tokens, so the run includes a refresh over a second socket.
      tokenTtlSeconds: 20,
    });
    receiver = new RecordingReceiver({ ok: { status: 204 }, fail: { status: 500 } });
    redisDir = mkdtempSync(join(tmpdir(), 'otb-secrets-redis-'));
    const port = await freePort();
    [redis] = await Promise.all([
      spawnRedisAt(port, redisDir, redisPassword),
      sim.start(),
      receiver.start(),
    ]);
    redisUrl = `redis://:${redisPassword}@127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await killAllServices();
    await stopChild(redis, 'SIGKILL');
    await Promise.all([sim?.stop(), receiver?.stop()]);
    rmSync(redisDir, { recursive: true, force: true });
  });

  it('prints no password, token, webhook secret, header value or admin key', async () => {
    const common = {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'debug',
      ADMIN_API_KEY: adminKey,
      DELIVERY_RETRY_SCHEDULE: '1s,1s,10m',
      DELIVERY_RETRY_JITTER: '0',
    };
    const [ingest, worker, api] = await Promise.all([
      startService({
        name: 'ingest',
        env: {
          ...common,
          APP_ROLE: 'ingest',
          ...opentactEnv(sim, { email, password: opentactPassword }),
          OPENTACT_SUBSCRIBE: 'call_state,sms',
          OPENTACT_TOKEN_REFRESH_MARGIN_MS: '17000',
        },
      }),
      startService({ name: 'worker', env: { ...common, APP_ROLE: 'worker' } }),
      startService({ name: 'api', env: { ...common, APP_ROLE: 'api' } }),
    ]);
    const services: ServiceProcess[] = [ingest, worker, api];
    await Promise.all(services.map((s) => s.waitForReady(200)));

    const ok = await createSubscription(
      api,
      {
        url: receiver.url('ok'),
        eventTypes: ['*'],
        secret: ownSecret,
        headers: { 'x-customer-token': customHeaderValue },
      },
      adminKey,
    );
    const failing = await createSubscription(
      api,
      { url: receiver.url('fail'), eventTypes: ['call.*'] },
      adminKey,
    );
    const auth = { authorization: `Bearer ${adminKey}` };
    const rotated = await api.request<{ secret: string }>(
      'POST',
      `/v1/subscriptions/${ok.id}/rotate-secret`,
      undefined,
      auth,
    );
    expect(rotated.status).toBe(200);
    const shown = await api.get<{ secret: string }>(`/v1/subscriptions/${failing.id}/secret`, auth);
    expect(shown.body.secret).toBe(failing.secret);
    // A wrong key that contains the real one, and a malformed body: both refused.
    expect(
      (await api.get('/v1/subscriptions', { authorization: `Bearer ${adminKey}x` })).status,
    ).toBe(401);
    expect(
      (await api.request('POST', '/v1/subscriptions', { url: 'nope', secret: ownSecret }, auth))
        .status,
    ).toBe(400);

    sim.emitScenario('all');
    await until(
      () => receiver.on('ok').length >= 9 && receiver.on('fail').length >= 3,
      20_000,
      'deliveries, and retries of the failing ones',
    );
    await ingest.waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('token refreshed'),
      15_000,
      'a token refresh over a second socket',
    );
    sim.setAuthMode('refuse');
    sim.dropAll();
    await until(() => sim.stats.authRefused > 0, 10_000, 'a refused authentication');
    sim.setAuthMode('accept');
    await ingest.waitForReady(200, 15_000);

    const exits = await Promise.all(services.map((s) => s.stop()));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    outputs.push(...services.map((s) => ({ name: s.name, text: s.text() })));

    // Start-ups that fail: a short admin key, and a wrong Redis password.
    const badKey = `short-${hex(4)}`;
    const configRun = await runServiceToExit('bad-config', {
      APP_ROLE: 'all',
      REDIS_URL: redisUrl,
      ADMIN_API_KEY: badKey,
      ...opentactEnv(sim, { email, password: opentactPassword }),
    });
    expect(configRun.exit.code).toBe(1);
    expect(configRun.output).toContain('ADMIN_API_KEY');
    outputs.push({ name: 'bad-config', text: configRun.output });

    const wrongRedisPassword = `wrong-redis-${hex(8)}`;
    const wrongRedis = await startService({
      name: 'wrong-redis-password',
      env: {
        ...common,
        APP_ROLE: 'worker',
        REDIS_URL: redisUrl.replace(redisPassword, wrongRedisPassword),
      },
    });
    await wrongRedis.waitForReady(503);
    await wrongRedis.waitForLog((l) => l.level === 'warn' || l.level === 'error', 10_000);
    await wrongRedis.stop();
    outputs.push({ name: wrongRedis.name, text: wrongRedis.text() });

    const secrets: Record<string, string> = {
      opentactPassword,
      basicAuth: Buffer.from(`${email}:${opentactPassword}`).toString('base64'),
      redisPassword,
      wrongRedisPassword,
      adminKey,
      badAdminKey: badKey,
      ownSecret,
      ownSecretKey: ownSecret.slice('whsec_'.length),
      rotatedSecret: rotated.body.secret,
      generatedSecret: failing.secret,
      customHeaderValue,
    };
    const issuedTokens = sim.issuedTokens;
    issuedTokens.forEach((token, i) => {
      secrets[`jwt${i}`] = token;
      secrets[`jwt${i}Signature`] = token.split('.')[2];
    });
    const leaks = outputs.flatMap(({ name, text }) =>
      Object.entries(secrets)
        .filter(([, value]) => text.includes(value))
        .map(([secret]) => `${secret} in the output of ${name}`),
    );
    expect(leaks).toEqual([]);

    // The search looked at real, verbose output: what it must contain is there.
    const all = outputs.map((o) => o.text).join('\n');
    expect(issuedTokens.length).toBeGreaterThanOrEqual(2);
    expect(all).toContain(ok.id);
    expect(all).toContain('subscription secret rotated');
    expect(all).toContain('Opentact authentication failed');
    expect(all).toContain('token refreshed');
    expect(all).toContain('retry scheduled');
    expect(all).toContain('"level":"debug"');
  });
});
