import { type DynamicModule, Global, Inject, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { createRootLogger } from './logger';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** `@InjectLogger() logger: Logger`, then `this.logger = logger.child({ component: 'x' })`. */
export const InjectLogger = (): ParameterDecorator => Inject(ROOT_LOGGER);

@Global()
@Module({})
export class LoggingModule {
  static forRoot(logger?: Logger): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        {
          provide: ROOT_LOGGER,
          inject: [AppConfig],
          useFactory: (config: AppConfig): Logger => logger ?? createRootLogger(config.logLevel),
        },
      ],
      exports: [ROOT_LOGGER],
    };
  }
}
