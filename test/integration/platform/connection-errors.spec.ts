import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import type { StatusDto } from '../../../src/status/dto/status.dto';
import { api } from '../../support/delivery-app';
import {
  deletePrefix,
  startApp,
  type StartedApp,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { closedLoopbackPort, LoopbackOpentact } from '../../support/loopback-opentact';

const PASSWORD = 'loopback-password-77c1';

interface LogLine {
  level: number;
  msg: string;
  url?: string;
  cause?: string;
  err?: { code?: string; message?: string };
}

describe('a WSS that cannot be reached', () => {
  let rest: LoopbackOpentact;
  let app: StartedApp | undefined;
  const prefix = uniquePrefix('connection-errors');

  beforeAll(async () => {
    rest = new LoopbackOpentact();
    await rest.start();
  });

  afterAll(async () => {
    await app?.app.close();
    await rest.stop();
    await deletePrefix(prefix);
  });

  it('is explained once at warn with the URL and the cause, and named by readiness and status', async () => {
    const port = await closedLoopbackPort();
    const url = `ws://127.0.0.1:${port}/stream`;
    app = await startApp({
      APP_ROLE: 'all',
      OPENTACT_REST_URL: rest.restUrl,
      OPENTACT_WSS_URL: `${url}?token=not-for-logs`,
      OPENTACT_EMAIL: 'ops@example.com',
      OPENTACT_PASSWORD: PASSWORD,
      OPENTACT_RECONNECT_BASE_MS: '20',
      OPENTACT_RECONNECT_MAX_MS: '50',
      QUEUE_PREFIX: prefix,
    });
    const started = app;
    const connection = started.app.get(OpentactConnection);
    await waitFor(() => connection.status().reconnectCount >= 5, 10_000, 'five reconnects');

    const lines = started.logs.map((l) => JSON.parse(l) as LogLine);
    const warned = lines.filter((l) => l.msg === 'could not connect to the Opentact WSS');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      level: 40,
      url: `${url}?[redacted]`,
      cause: 'ECONNREFUSED',
      err: { code: 'ECONNREFUSED' },
    });
    // No line per attempt at warn or above.
    expect(lines.filter((l) => l.level >= 40)).toHaveLength(1);

    const res = await request(`${started.url}/health/ready`);
    expect(res.statusCode).toBe(503);
    const body = (await res.body.json()) as {
      details: Record<string, { status: string; message?: string }>;
    };
    expect(body.details.opentact.status).toBe('down');
    expect(body.details.opentact.message).toContain('ECONNREFUSED');
    expect(body.details.opentact.message).toContain(`${url}?[redacted]`);

    const status = await waitFor(
      async () => {
        const reply = await api<StatusDto>(started, 'GET', '/v1/status');
        const c = reply.body.opentact?.connections?.[0];
        return c?.lastError?.includes('ECONNREFUSED') ? c : undefined;
      },
      10_000,
      '/v1/status to name the cause',
    );
    expect(status.authenticated).toBe(false);

    const all = started.logs.join('\n');
    expect(all).not.toContain('not-for-logs');
    expect(all).not.toContain(PASSWORD);
  });
});

describe('a WSS that answers, but not as a WebSocket', () => {
  let rest: LoopbackOpentact;
  let server: Server;
  let port: number;
  let app: StartedApp | undefined;
  const prefix = uniquePrefix('connection-errors-upgrade');

  beforeAll(async () => {
    rest = new LoopbackOpentact();
    await rest.start();
    // Refuses every upgrade with 401, and speaks plain HTTP to a TLS client.
    server = createServer((_req, res) => res.writeHead(400).end());
    server.on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await app?.app.close();
    app = undefined;
    await deletePrefix(prefix);
  });

  afterAll(async () => {
    await rest.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    ['a refused upgrade', 'ws', /upgrade refused: HTTP 401/],
    ['TLS to a plain HTTP port', 'wss', /EPROTO \(TLS: wrong version number\)/],
  ])('names %s as the cause, once', async (_name, scheme, cause) => {
    app = await startApp({
      APP_ROLE: 'ingest',
      OPENTACT_REST_URL: rest.restUrl,
      OPENTACT_WSS_URL: `${scheme}://127.0.0.1:${port}`,
      OPENTACT_EMAIL: 'ops@example.com',
      OPENTACT_PASSWORD: PASSWORD,
      OPENTACT_RECONNECT_BASE_MS: '20',
      OPENTACT_RECONNECT_MAX_MS: '50',
      QUEUE_PREFIX: prefix,
    });
    const connection = app.app.get(OpentactConnection);
    await waitFor(() => connection.status().reconnectCount >= 3, 10_000, 'three reconnects');
    const warned = app.logs
      .map((l) => JSON.parse(l) as LogLine)
      .filter((l) => l.msg === 'could not connect to the Opentact WSS');
    expect(warned).toHaveLength(1);
    expect(warned[0].url).toBe(`${scheme}://127.0.0.1:${port}`);
    expect(warned[0].cause).toMatch(cause);
    expect(connection.status().lastError).toMatch(cause);
  });
});
