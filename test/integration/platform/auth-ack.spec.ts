import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import type { StatusDto } from '../../../src/status/dto/status.dto';
import { AUTH_RESPONSE } from '../../fixtures/opentact-frames';
import { api } from '../../support/delivery-app';
import {
  deletePrefix,
  metricTotal,
  readiness,
  startApp,
  type StartedApp,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { type AckScript, LoopbackOpentact } from '../../support/loopback-opentact';

const PASSWORD = 'loopback-password-3f9a';
const CONNECTION = 'd7411060-f28c-443d-adef-0da909d43dbe@223.182.88.88';

const authFailuresCounted = (app: StartedApp): Promise<number> =>
  metricTotal(app, 'otb_opentact_auth_failures_total');

describe('the auth acknowledgement, judged over a real WSS', () => {
  let server: LoopbackOpentact;
  let app: StartedApp | undefined;
  const prefixes: string[] = [];

  async function start(ack: AckScript): Promise<StartedApp> {
    server = new LoopbackOpentact(ack);
    await server.start();
    const prefix = uniquePrefix('auth-ack');
    prefixes.push(prefix);
    app = await startApp({
      APP_ROLE: 'all',
      OPENTACT_REST_URL: server.restUrl,
      OPENTACT_WSS_URL: server.wssUrl,
      OPENTACT_EMAIL: 'ops@example.com',
      OPENTACT_PASSWORD: PASSWORD,
      OPENTACT_AUTH_FAILURE_BACKOFF_MS: '200',
      OPENTACT_RECONNECT_BASE_MS: '50',
      OPENTACT_RECONNECT_MAX_MS: '100',
      QUEUE_PREFIX: prefix,
    });
    return app;
  }

  afterEach(async () => {
    await app?.app.close();
    app = undefined;
    await server.stop();
    await Promise.all(prefixes.splice(0).map((p) => deletePrefix(p)));
  });

  it.each([
    [
      '"failed auth: jwt expired" with a connection payload',
      { ...AUTH_RESPONSE, message: `WSS connection ${CONNECTION} - failed auth: jwt expired` },
      'failed auth: jwt expired',
    ],
    [
      '"auth not successful"',
      { type: 'auth', message: `WSS connection ${CONNECTION} - auth not successful` },
      'auth not successful',
    ],
  ])('%s: not authenticated, unready, counted, and a fresh login', async (_name, ack, wording) => {
    // The server keeps the socket open after its ack: only the ack can tell.
    const started = await start(() => JSON.stringify(ack));
    await waitFor(() => server.authTokens.length >= 1, 10_000, 'the first auth frame');
    await waitFor(
      async () => (await authFailuresCounted(started)) >= 1,
      5_000,
      'a counted failure',
    );

    expect(started.app.get(OpentactConnection).isAuthenticated()).toBe(false);
    const ready = await readiness(started);
    expect(ready.status).toBe(503);
    expect(ready.body.details?.opentact.status).toBe('down');
    expect(ready.body.details?.opentact.message).toContain(wording);

    const status = await waitFor(
      async () => {
        const reply = await api<StatusDto>(started, 'GET', '/v1/status');
        const c = reply.body.opentact?.connections?.[0];
        return c && (c.authFailures ?? 0) >= 1 ? reply.body : undefined;
      },
      10_000,
      '/v1/status to count the failure',
    );
    expect(status.opentact.state).toBe('down');
    expect(status.opentact.connections[0]).toMatchObject({ authenticated: false });
    expect(status.opentact.connections[0].lastError).toContain(wording);

    // After the refusal the bridge logs in afresh and offers the new token.
    await waitFor(() => server.logins >= 2, 5_000, 'a fresh login');
    await waitFor(() => server.authTokens.length >= 2, 5_000, 'a second auth frame');
    expect(new Set(server.authTokens).size).toBe(server.authTokens.length);

    const logs = started.logs.join('\n');
    expect(logs).toContain('Opentact authentication failed');
    expect(logs).not.toContain(PASSWORD);
    for (const token of server.authTokens) {
      expect(logs).not.toContain(token);
    }
  });

  it('accepts an ack of an unknown shape without a failure signal, and warns about it', async () => {
    const started = await start(() =>
      JSON.stringify({
        type: 'auth',
        message: 'welcome, ops@example.com',
        payload: { uuid: 'c1' },
      }),
    );
    const connection = started.app.get(OpentactConnection);
    await waitFor(() => connection.isAuthenticated(), 10_000, 'authenticated');
    expect((await readiness(started)).body.details?.opentact.status).toBe('up');
    const warned = started.logs
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.msg.includes('undocumented shape'));
    expect(warned).toHaveLength(1);
    expect(warned[0].level).toBe(40);
    expect(await authFailuresCounted(started)).toBe(0);
    expect(server.logins).toBe(1);
  });
});
