import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import { InjectRedis } from '../redis/redis.module';
import { SubscriptionKeys } from './subscription-keys';

/** A live subscription to change notifications; close it on shutdown. */
export interface ChangeFeed {
  close(): Promise<void>;
}

/**
 * The pub/sub feed every process learns of subscription changes from: the repositories publish
 * on it after a write, the registry and the limiter watch it. Messages are a hint, never the
 * record: a reader that misses one (disconnected, or a publish that failed) catches up from
 * Redis on its periodic check, so a publish that fails is logged and not thrown after the write
 * it announces has succeeded.
 */
@Injectable()
export class SubscriptionsFeed {
  private readonly keys: SubscriptionKeys;
  private readonly logger: Logger;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
    @InjectLogger() logger: Logger,
  ) {
    this.keys = new SubscriptionKeys(config.redis.prefix);
    this.logger = logger.child({ component: 'subscriptions-feed' });
  }

  /** A configuration write stored `version`. */
  async publishChange(version: number): Promise<void> {
    await this.publish(this.keys.changedChannel, String(version));
  }

  /** A pause of `id` grew to `untilMs`. */
  async publishPause(id: string, untilMs: number): Promise<void> {
    await this.publish(this.keys.pausedChannel, `${id}:${untilMs}`);
  }

  /**
   * Calls `onChange` on every published change, and after every (re)connect, since messages sent
   * while disconnected are lost.
   */
  watchChanges(onChange: () => void): Promise<ChangeFeed> {
    return this.watch(
      this.keys.changedChannel,
      'otb-subscriptions-feed',
      'subscription change feed connection error',
      () => onChange(),
      onChange,
    );
  }

  /** Calls `onPause` for every pause any process records. */
  watchPauses(onPause: (id: string, untilMs: number) => void): Promise<ChangeFeed> {
    return this.watch(
      this.keys.pausedChannel,
      'otb-pauses-feed',
      'pause feed connection error',
      (message) => {
        const at = message.lastIndexOf(':');
        if (at > 0) {
          onPause(message.slice(0, at), Number(message.slice(at + 1)));
        }
      },
    );
  }

  private async publish(channel: string, message: string): Promise<void> {
    try {
      await this.redis.publish(channel, message);
    } catch (error) {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error), channel },
        'could not publish a subscriptions change; readers catch up on their periodic check',
      );
    }
  }

  /** Pub/sub needs a connection of its own. */
  private async watch(
    channel: string,
    connectionName: string,
    errorMessage: string,
    onMessage: (message: string) => void,
    onReady?: () => void,
  ): Promise<ChangeFeed> {
    // Waits for Redis however long it is away (the shared client gives up after 3 tries).
    const subscriber = this.redis.duplicate({ connectionName, maxRetriesPerRequest: null });
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) {
        onMessage(message);
      }
    });
    if (onReady) {
      subscriber.on('ready', onReady);
    }
    subscriber.on('error', (error: Error) => {
      this.logger.warn({ err: error.message }, errorMessage);
    });
    await subscriber.subscribe(channel);
    return {
      close: async () => {
        await subscriber.quit().catch(() => subscriber.disconnect());
      },
    };
  }
}
