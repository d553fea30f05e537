import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import type { DeclaredSubscriptionDto } from './dto/declared-subscription.dto';
import { SubscriptionExistsError } from './subscription-errors';
import {
  applyDeliveryOptions,
  applyEnabled,
  normalizeFilter,
  SubscriptionRules,
} from './subscription-rules';
import { withNewSecret } from './subscription-secrets';
import { DisabledReason, type Subscription } from './subscription.model';
import { SubscriptionsFileError, SubscriptionsFileLoader } from './subscriptions-file.loader';
import { SubscriptionsService } from './subscriptions.service';

export type DeclaredOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Upserts the subscriptions declared in SUBSCRIPTIONS_FILE at start-up. Every entry is checked
 * (including the SSRF and event-type rules) before anything is written, so a bad file changes
 * nothing and stops start-up. Subscriptions removed from the file are left alone.
 */
@Injectable()
export class SubscriptionsFileSync implements OnApplicationBootstrap {
  private readonly overlapMs: number;
  private readonly logger: Logger;

  constructor(
    private readonly config: AppConfig,
    private readonly loader: SubscriptionsFileLoader,
    private readonly service: SubscriptionsService,
    private readonly rules: SubscriptionRules,
    @InjectLogger() logger: Logger,
  ) {
    this.overlapMs = config.delivery.secretRotationOverlapMs;
    this.logger = logger.child({ component: 'subscriptions-file' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const path = this.config.subscriptionsFile;
    if (path) {
      await this.sync(path);
    }
  }

  async sync(path: string): Promise<Record<DeclaredOutcome, number>> {
    const entries = await this.loader.load(path);
    this.check(path, entries);
    const counts: Record<DeclaredOutcome, number> = { created: 0, updated: 0, unchanged: 0 };
    for (const entry of entries) {
      counts[await this.upsert(entry)]++;
    }
    this.logger.info({ file: path, ...counts }, 'subscriptions file applied');
    return counts;
  }

  /**
   * Makes one entry true in storage. The file owns the configuration fields; the secret is kept
   * unless the file gives one. `enabled: false` turns it off, and only a subscription the file
   * itself turned off is turned back on by it: one that failed for days or that an operator
   * switched off stays off until someone decides otherwise.
   */
  async upsert(entry: DeclaredSubscriptionDto): Promise<DeclaredOutcome> {
    this.rules.assertValid(entry);
    for (;;) {
      const modified = await this.service.modify(entry.id, (current, now) =>
        this.declared(current, entry, now),
      );
      if (modified) {
        return modified.changed ? 'updated' : 'unchanged';
      }
      try {
        await this.service.create(entry, { id: entry.id, source: 'file' });
        return 'created';
      } catch (error) {
        // Another replica created it a moment ago: update it like any existing one.
        if (!(error instanceof SubscriptionExistsError)) {
          throw error;
        }
      }
    }
  }

  /** `current` as the file declares it. */
  private declared(current: Subscription, entry: DeclaredSubscriptionDto, now: Date): Subscription {
    let next: Subscription = {
      ...current,
      url: entry.url,
      eventTypes: [...entry.eventTypes],
      description: entry.description ?? undefined,
      headers: { ...(entry.headers ?? {}) },
      filter: normalizeFilter(entry.filter),
      source: 'file',
      updatedAt: now.toISOString(),
    };
    // The file owns these too: what it leaves out is off.
    applyDeliveryOptions(next, {
      ordering: entry.ordering ?? 'none',
      rateLimitPerSecond: entry.rateLimitPerSecond ?? null,
      maxInFlight: entry.maxInFlight ?? null,
    });
    if (entry.secret !== undefined && entry.secret !== next.secrets[0]?.secret) {
      next = withNewSecret(next, entry.secret, now, this.overlapMs);
    }
    if (entry.enabled === false) {
      applyEnabled(next, false, DisabledReason.File, now);
    } else if (!next.enabled && next.disabledReason === DisabledReason.File) {
      applyEnabled(next, true, DisabledReason.File, now);
    }
    return next;
  }

  private check(path: string, entries: DeclaredSubscriptionDto[]): void {
    const problems = entries.flatMap((entry, index) =>
      this.rules
        .findProblems(entry)
        .map(
          ({ field, problems: list }) =>
            `subscriptions[${index}] (id ${JSON.stringify(entry.id)}): ${field}: ${list.join('; ')}`,
        ),
    );
    if (problems.length > 0) {
      throw new SubscriptionsFileError(path, problems);
    }
  }
}
