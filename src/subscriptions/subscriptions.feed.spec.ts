import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { SubscriptionKeys } from './subscription-keys';
import { SubscriptionsFeed } from './subscriptions.feed';

/** A pub/sub connection double: what `subscribe` was called with, and a way to deliver. */
class FakeSubscriber extends EventEmitter {
  channels: string[] = [];
  quitted = false;
  subscribe(channel: string): Promise<number> {
    this.channels.push(channel);
    return Promise.resolve(1);
  }
  quit(): Promise<'OK'> {
    this.quitted = true;
    return Promise.resolve('OK');
  }
  disconnect(): void {}
}

function setup(publish: (channel: string, message: string) => Promise<number>) {
  const subscribers: FakeSubscriber[] = [];
  const published: [string, string][] = [];
  const redis = {
    duplicate: () => {
      const subscriber = new FakeSubscriber();
      subscribers.push(subscriber);
      return subscriber;
    },
    publish: (channel: string, message: string) => {
      published.push([channel, message]);
      return publish(channel, message);
    },
  } as unknown as Redis;
  const config = { redis: { prefix: 'otb' } } as AppConfig;
  const feed = new SubscriptionsFeed(redis, config, pino({ level: 'silent' }));
  return { feed, subscribers, published, keys: new SubscriptionKeys('otb') };
}

describe('SubscriptionsFeed', () => {
  it('publishes changes and pauses on their own channels', async () => {
    const { feed, published, keys } = setup(() => Promise.resolve(1));
    await feed.publishChange(7);
    await feed.publishPause('sub_a', 1_234);
    expect(published).toEqual([
      [keys.changedChannel, '7'],
      [keys.pausedChannel, 'sub_a:1234'],
    ]);
  });

  it('a publish that fails does not fail the write it announces', async () => {
    const { feed } = setup(() => Promise.reject(new Error('connection lost')));
    await expect(feed.publishChange(1)).resolves.toBeUndefined();
  });

  it('calls the change listener per message on its channel and after every (re)connect', async () => {
    const { feed, subscribers, keys } = setup(() => Promise.resolve(1));
    let calls = 0;
    const watch = await feed.watchChanges(() => calls++);
    const [subscriber] = subscribers;
    expect(subscriber.channels).toEqual([keys.changedChannel]);
    subscriber.emit('message', keys.changedChannel, '3');
    subscriber.emit('message', keys.pausedChannel, 'sub_a:1');
    subscriber.emit('ready');
    expect(calls).toBe(2);
    await watch.close();
    expect(subscriber.quitted).toBe(true);
  });

  it('hands the pause listener the id (which may hold colons) and the time', async () => {
    const { feed, subscribers, keys } = setup(() => Promise.resolve(1));
    const pauses: [string, number][] = [];
    await feed.watchPauses((id, untilMs) => pauses.push([id, untilMs]));
    const [subscriber] = subscribers;
    expect(subscriber.channels).toEqual([keys.pausedChannel]);
    subscriber.emit('message', keys.pausedChannel, 'billing:eu:1700000000000');
    subscriber.emit('message', keys.pausedChannel, 'garbage');
    subscriber.emit('message', keys.changedChannel, 'sub_b:5');
    subscriber.emit('ready');
    expect(pauses).toEqual([['billing:eu', 1_700_000_000_000]]);
  });
});

describe('SubscriptionKeys', () => {
  it('names every key and channel once, under the prefix', () => {
    const keys = new SubscriptionKeys('{otb}');
    const names = Object.values(keys) as string[];
    expect(names).toHaveLength(8);
    expect(new Set(names).size).toBe(names.length);
    names.forEach((name) =>
      expect(name.startsWith(`{otb}:${SubscriptionKeys.NAMESPACE}`)).toBe(true),
    );
  });
});
