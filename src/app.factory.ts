import 'reflect-metadata';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { type AppConfig } from './config/app-config';
import { runsApi } from './config/app-role';
import { createRootLogger, PinoNestLogger } from './logging/logger';
import { createValidationPipe } from './api/validation';
import { setupOpenApi } from './api/openapi';
import { requestLogMiddleware } from './api/request-log.middleware';
import { StreamWsAdapter } from './stream/stream-ws.adapter';
import { SERVICE_VERSION } from './version';

/**
 * Builds the Nest application for one role. main.ts, the demo and the end-to-end tests all start
 * the service through here, so they run the same wiring.
 */
export async function createApp(config: AppConfig, logger?: Logger): Promise<INestApplication> {
  const root = logger ?? createRootLogger(config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, root), {
    logger: new PinoNestLogger(root.child({ component: 'nest' })),
    abortOnError: false,
  });
  if (config.trustProxy !== undefined) {
    // request.ip becomes the client X-Forwarded-For names, as far as these proxies vouch for it.
    app.set('trust proxy', config.trustProxy);
  }
  app.useGlobalPipes(createValidationPipe());
  if (runsApi(config.role)) {
    app.use(requestLogMiddleware(root));
    app.useWebSocketAdapter(new StreamWsAdapter(app));
    setupOpenApi(app, SERVICE_VERSION);
  }
  return app;
}
