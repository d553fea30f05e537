import { redisKey } from '../redis/redis-connection.factory';

/**
 * Every Redis key and channel of the subscriptions folder, under the configured prefix. The
 * documents repository, the health repository and the change feed take their names from here,
 * and so do specs and the bench that look at them.
 */
export class SubscriptionKeys {
  /** The namespace under the prefix that every name below lives in. */
  static readonly NAMESPACE = 'subscriptions';

  /** Hash: id → the subscription document (JSON, without delivery health). */
  readonly documents: string;
  /** Sorted set: id scored by createdAt (ms), for paging. */
  readonly byCreated: string;
  /** Counter bumped by every configuration write. */
  readonly version: string;
  /** Hash: id → start of the current failure run (ISO). */
  readonly failingSince: string;
  /** Hash: id → the last successful delivery (ISO). */
  readonly lastSuccess: string;
  /** Hash: id → until when (ms) a receiver's Retry-After holds deliveries back. */
  readonly pausedUntil: string;
  /** Channel: a configuration write happened (the message is the new version). */
  readonly changedChannel: string;
  /** Channel: a pause was recorded (`<id>:<until ms>`). */
  readonly pausedChannel: string;

  constructor(prefix: string) {
    const ns = SubscriptionKeys.NAMESPACE;
    this.documents = redisKey(prefix, ns);
    this.byCreated = redisKey(prefix, ns, 'by-created');
    this.version = redisKey(prefix, ns, 'version');
    this.failingSince = redisKey(prefix, ns, 'failing-since');
    this.lastSuccess = redisKey(prefix, ns, 'last-success');
    this.pausedUntil = redisKey(prefix, ns, 'paused-until');
    // Channels are not keys, but are built the same way so the prefix namespaces them too.
    this.changedChannel = redisKey(prefix, ns, 'changed');
    this.pausedChannel = redisKey(prefix, ns, 'paused');
  }
}
