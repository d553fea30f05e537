import { type DynamicModule, Module, type ModuleMetadata, type Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { Clock, ClockModule } from '../common/clock';
import { OpentactConnection } from './opentact-connection.service';
import {
  CONNECTION_LISTENER,
  type ConnectionListener,
  FRAME_SINK,
  type FrameSink,
} from './opentact-connection.types';
import { OpentactRestClient } from './opentact-rest.client';
import { OpentactSubscriptionsClient } from './opentact-subscriptions.client';
import { subscriptionMetricsListener } from './subscription-metrics.listener';
import { TokenProvider } from './token-provider.service';
import { WebSocketFactory } from './websocket.factory';

export interface PlatformModuleOptions {
  /** Modules that export `FRAME_SINK` (and, optionally, `CONNECTION_LISTENER`). */
  imports?: ModuleMetadata['imports'];
  /** Providers added to this module, e.g. `{ provide: FRAME_SINK, useExisting: EventIngestor }`. */
  providers?: Provider[];
}

/**
 * Opentact: REST client, token provider, socket factory and the live connection. The frame sink
 * comes from outside, so this module never depends on ingest:
 *
 *   PlatformModule.forRoot({ imports: [IngestModule] })          // IngestModule exports FRAME_SINK
 *
 * The connection starts in `onApplicationBootstrap` and stops in `onModuleDestroy`, before
 * BullMQ closes its queues in `onApplicationShutdown`. Everything is built by factories here, so
 * unit tests construct the same classes directly; the connection's listeners are added here.
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformModuleOptions = {}): DynamicModule {
    return {
      module: PlatformModule,
      imports: [ClockModule, ...(options.imports ?? [])],
      providers: [
        ...(options.providers ?? []),
        {
          provide: OpentactRestClient,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => new OpentactRestClient(config.opentact),
        },
        {
          provide: OpentactSubscriptionsClient,
          inject: [AppConfig, Clock],
          useFactory: (config: AppConfig, clock: Clock) =>
            new OpentactSubscriptionsClient(config.opentact, {}, clock),
        },
        {
          provide: TokenProvider,
          inject: [AppConfig, OpentactRestClient, Clock],
          useFactory: (config: AppConfig, rest: OpentactRestClient, clock: Clock) =>
            new TokenProvider(config.opentact, rest, clock),
        },
        {
          provide: WebSocketFactory,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => new WebSocketFactory(config.opentact),
        },
        {
          provide: OpentactConnection,
          inject: [
            AppConfig,
            TokenProvider,
            OpentactSubscriptionsClient,
            WebSocketFactory,
            FRAME_SINK,
            ROOT_LOGGER,
            Clock,
            { token: CONNECTION_LISTENER, optional: true },
            { token: MetricsService, optional: true },
          ],
          useFactory: (
            config: AppConfig,
            tokens: TokenProvider,
            rest: OpentactSubscriptionsClient,
            sockets: WebSocketFactory,
            sink: FrameSink,
            logger: Logger,
            clock: Clock,
            listener?: ConnectionListener,
            metrics?: MetricsService,
          ) => {
            const connection = new OpentactConnection(
              {
                config: config.opentact,
                ingestBufferMax: config.ingestBufferMax,
                logger: logger.child({ component: 'opentact-connection' }),
              },
              tokens,
              rest,
              sockets,
              sink,
              clock,
            );
            if (listener) {
              connection.addListener(listener);
            }
            if (metrics) {
              connection.addListener(subscriptionMetricsListener(metrics));
            }
            return connection;
          },
        },
      ],
      exports: [OpentactConnection, OpentactRestClient, OpentactSubscriptionsClient, TokenProvider],
    };
  }
}
