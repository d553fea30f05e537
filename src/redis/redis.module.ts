import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { closeBullClusters, createRedis } from './redis-connection.factory';

/** Injection token of the shared command connection for the service's own keys. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** Inject the shared ioredis client: `@InjectRedis() private readonly redis: Redis`. */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
    await closeBullClusters(this.config.redis);
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Redis =>
        createRedis(config.redis, { purpose: 'client', connectionName: 'otb-client' }),
    },
    RedisCloser,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
