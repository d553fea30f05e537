import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { InjectLogger } from '../logging/logging.module';
import { Clock } from '../common/clock';
import {
  compileSubscription,
  type CompiledSubscription,
  type MatchableEvent,
} from './subscription-matcher';
import { type ChangeFeed, SubscriptionsFeed } from './subscriptions.feed';
import { SubscriptionsRepository } from './subscriptions.repository';

/** What the registry reads; the repository in production. */
export type SnapshotSource = Pick<SubscriptionsRepository, 'snapshot' | 'version'>;

/** What tells the registry a snapshot went stale; the change feed in production. */
export type ChangeSource = Pick<SubscriptionsFeed, 'watchChanges'>;

/** How often, at most, the version key is read when no change message came in. */
export const VERSION_CHECK_INTERVAL_MS = 1_000;
const FEED_CLOSE_WAIT_MS = 1_000;

/**
 * The enabled subscriptions, compiled, held in memory for the fan-out. A change published by
 * any process marks the snapshot stale; the version key is also read at most once a second in
 * case a message was lost. Between changes a lookup costs no Redis round trip.
 */
@Injectable()
export class SubscriptionRegistry implements OnModuleInit, OnModuleDestroy {
  private enabled: CompiledSubscription[] = [];
  private enabledById = new Map<string, CompiledSubscription>();
  private version: string | undefined;
  /** Bumped by every change message; a refresh that started before the bump is not enough. */
  private changes = 0;
  private loadedChanges = -1;
  private lastCheckMs = 0;
  private inflight?: Promise<void>;
  private feed?: Promise<ChangeFeed>;
  private readonly logger: Logger;

  constructor(
    @Inject(SubscriptionsRepository) private readonly repository: SnapshotSource,
    @Inject(SubscriptionsFeed) private readonly changeFeed: ChangeSource,
    private readonly clock: Clock,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'subscription-registry' });
  }

  /**
   * Start-up does not wait for Redis (workers start paused and readiness reports the outage): the
   * feed subscribes once Redis answers, and the first getEnabled() loads the snapshot.
   */
  onModuleInit(): void {
    this.feed = this.changeFeed.watchChanges(() => {
      this.changes++;
      this.refreshInBackground();
    });
    this.feed.catch(() => undefined);
    this.refreshInBackground();
  }

  async onModuleDestroy(): Promise<void> {
    // A feed still waiting for Redis is not waited for: the process is stopping.
    const feed = this.feed;
    this.feed = undefined;
    const started = await Promise.race([
      feed?.catch(() => undefined),
      new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), FEED_CLOSE_WAIT_MS).unref(),
      ),
    ]);
    await started?.close();
  }

  /** The enabled subscriptions, fresh to within a change message or one second. */
  async getEnabled(): Promise<CompiledSubscription[]> {
    if (this.loadedChanges !== this.changes) {
      await this.refresh();
    } else if (this.clock.now().getTime() - this.lastCheckMs >= VERSION_CHECK_INTERVAL_MS) {
      await this.checkVersion();
    }
    return this.enabled;
  }

  /** One enabled subscription from the snapshot, or undefined (unknown, disabled, or too new). */
  async findEnabled(id: string): Promise<CompiledSubscription | undefined> {
    await this.getEnabled();
    return this.enabledById.get(id);
  }

  /**
   * The enabled subscriptions `event` should go to, from the snapshot in hand (synchronous, for
   * the hot path). A due freshness check runs in the background.
   */
  matching(event: MatchableEvent): CompiledSubscription[] {
    if (
      this.loadedChanges !== this.changes ||
      this.clock.now().getTime() - this.lastCheckMs >= VERSION_CHECK_INTERVAL_MS
    ) {
      this.refreshInBackground(true);
    }
    return this.enabled.filter((sub) => sub.matches(event));
  }

  private refreshInBackground(checkOnly = false): void {
    const work =
      checkOnly && this.loadedChanges === this.changes ? this.checkVersion() : this.refresh();
    work.catch((error: unknown) => {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not refresh subscriptions; keeping the previous snapshot',
      );
    });
  }

  private async checkVersion(): Promise<void> {
    if (this.inflight) {
      return this.inflight;
    }
    this.lastCheckMs = this.clock.now().getTime();
    const version = await this.repository.version();
    if (version !== this.version) {
      await this.refresh();
    }
  }

  /** One load at a time; a change that arrives during a load causes one more. */
  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    do {
      const target = this.changes;
      this.lastCheckMs = this.clock.now().getTime();
      const snapshot = await this.repository.snapshot();
      this.enabled = snapshot.subscriptions.filter((s) => s.enabled).map(compileSubscription);
      this.enabledById = new Map(this.enabled.map((sub) => [sub.id, sub]));
      if (snapshot.version !== this.version) {
        // Rare (a subscription changed), and what an operator or a test waits for after a change.
        this.logger.info(
          { enabled: this.enabled.length, version: snapshot.version },
          'subscriptions loaded',
        );
      }
      this.version = snapshot.version;
      this.loadedChanges = target;
    } while (this.loadedChanges !== this.changes);
  }
}
