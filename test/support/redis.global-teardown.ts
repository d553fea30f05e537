import type { ProvidedRedis } from '../../scripts/redis-provider';
import { PRIVATE_REDIS } from './redis.global-setup';

/** jest globalTeardown: stops the redis-server redis.global-setup.ts started, if it did. */
export default async function teardownRedis(): Promise<void> {
  const state = globalThis as typeof globalThis & { [PRIVATE_REDIS]?: ProvidedRedis };
  const redis = state[PRIVATE_REDIS];
  state[PRIVATE_REDIS] = undefined;
  await redis?.stop();
}
