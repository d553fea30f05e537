import { Test } from '@nestjs/testing';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { OpentactConnection } from './opentact-connection.service';
import {
  CONNECTION_LISTENER,
  type ConnectionListener,
  FRAME_SINK,
} from './opentact-connection.types';
import { OpentactRestClient } from './opentact-rest.client';
import { PlatformModule } from './platform.module';
import { opentactTestConfig } from './platform.spec-fixture';
import { TokenProvider } from './token-provider.service';
import { WebSocketFactory } from './websocket.factory';

const config = {
  ingestBufferMax: 1_000,
  opentact: opentactTestConfig({
    credentials: { kind: 'token', token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig' },
    maxFrameBytes: 4_096,
  }),
} as unknown as AppConfig;

/** The wiring alone: nothing starts (no bootstrap hook runs), so no socket is opened. */
describe('PlatformModule', () => {
  function rootLogger(): { logger: Logger; child: jest.Mock } {
    const child = jest.fn(() => logger);
    const logger = { child } as unknown as Logger;
    return { logger, child };
  }

  async function compile(extra: { provide: unknown; useValue: unknown }[] = []) {
    const { logger, child } = rootLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        PlatformModule.forRoot({
          providers: [
            { provide: AppConfig, useValue: config },
            { provide: ROOT_LOGGER, useValue: logger },
            { provide: FRAME_SINK, useValue: { onFrame: () => Promise.resolve() } },
            ...extra.map((p) => ({ provide: p.provide as symbol, useValue: p.useValue })),
          ],
        }),
      ],
    }).compile();
    return { moduleRef, child };
  }

  const listenersOf = (connection: OpentactConnection): ConnectionListener[] =>
    connection['listeners']['listeners'];

  it('builds the REST client, token provider, socket factory and connection from the config', async () => {
    const { moduleRef, child } = await compile();
    expect(moduleRef.get(OpentactRestClient)).toBeInstanceOf(OpentactRestClient);
    const tokens = moduleRef.get(TokenProvider);
    expect(tokens).toBeInstanceOf(TokenProvider);
    // A configured token is handed out as it is, without a login.
    await expect(tokens.getToken()).resolves.toMatchObject({
      token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig',
    });
    const sockets = moduleRef.get(WebSocketFactory);
    expect(sockets).toBeInstanceOf(WebSocketFactory);
    expect(sockets.maxPayloadBytes).toBeGreaterThanOrEqual(4_096);
    const connection = moduleRef.get(OpentactConnection);
    expect(connection).toBeInstanceOf(OpentactConnection);
    expect(connection.status()).toMatchObject({ state: 'closed', authenticated: false });
    expect(child).toHaveBeenCalledWith({ component: 'opentact-connection' });
    // Neither a listener nor metrics were provided.
    expect(listenersOf(connection)).toEqual([]);
  });

  it('adds the provided connection listener, and counts subscription errors in the metrics', async () => {
    const metrics = new MetricsService();
    const listener: ConnectionListener = { onReconnect: jest.fn() };
    const { moduleRef } = await compile([
      { provide: CONNECTION_LISTENER, useValue: listener },
      { provide: MetricsService, useValue: metrics },
    ]);
    const listeners = listenersOf(moduleRef.get(OpentactConnection));
    expect(listeners).toHaveLength(2);
    expect(listeners[0]).toBe(listener);
    listeners[1].onSubscriptionError?.('HTTP 503');
    expect((await metrics.subscriptionErrors.get()).values[0]?.value).toBe(1);
  });
});
