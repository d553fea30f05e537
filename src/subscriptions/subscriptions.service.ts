import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RequestValidationError } from '../api/validation';
import { AppConfig } from '../config/app-config';
import { generateSecret } from '../webhook-security/webhook-signer';
import { InjectLogger } from '../logging/logging.module';
import { Clock } from '../common/clock';
import type { CreateSubscriptionDto } from './dto/create-subscription.dto';
import type { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import {
  SubscriptionExistsError,
  SubscriptionNotFoundError,
  TooManySubscriptionsError,
} from './subscription-errors';
import { SubscriptionHealthRepository } from './subscription-health.repository';
import {
  applyDeliveryOptions,
  applyEnabled,
  normalizeFilter,
  sameConfig,
  SubscriptionRules,
} from './subscription-rules';
import { pruneSecrets, withNewSecret } from './subscription-secrets';
import { DisabledReason, type Subscription, type SubscriptionSource } from './subscription.model';
import {
  InvalidCursorError,
  SubscriptionLimitError,
  SubscriptionsRepository,
} from './subscriptions.repository';

/** What the service needs of storage; the repository in production, a map in unit tests. */
export type SubscriptionStore = Pick<
  SubscriptionsRepository,
  'get' | 'list' | 'insert' | 'update' | 'delete'
>;

/** What the service needs of delivery health: pauses to show, failure runs to end. */
export type HealthStore = Pick<SubscriptionHealthRepository, 'clearFailure' | 'pausedUntil'>;

export interface SubscriptionListing {
  data: Subscription[];
  nextCursor: string | null;
}

export interface RotatedSecret {
  subscription: Subscription;
  secret: string;
  previousSecretExpiresAt: string;
}

/** What `modify` stored, and whether the edit changed the configuration at all. */
export interface Modified {
  subscription: Subscription;
  changed: boolean;
}

function newId(): string {
  // 18 random bytes are exactly 24 base64url characters.
  return `sub_${randomBytes(18).toString('base64url')}`;
}

/** Adds `pausedUntil` when a receiver's Retry-After is holding the subscription back. */
function withPause(sub: Subscription, paused: ReadonlyMap<string, number>): Subscription {
  const until = paused.get(sub.id);
  return until === undefined ? sub : { ...sub, pausedUntil: new Date(until).toISOString() };
}

function urlHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid)';
  }
}

/**
 * Customer webhook subscriptions: create, read, list, change, delete. The rules a body must
 * satisfy are SubscriptionRules', rotation is subscription-secrets', the SUBSCRIPTIONS_FILE
 * upsert is SubscriptionsFileSync's, and storage is the repositories'.
 */
@Injectable()
export class SubscriptionsService {
  private readonly overlapMs: number;
  private readonly maxSubscriptions: number;
  private readonly logger: Logger;

  constructor(
    @Inject(SubscriptionsRepository) private readonly store: SubscriptionStore,
    @Inject(SubscriptionHealthRepository) private readonly health: HealthStore,
    private readonly rules: SubscriptionRules,
    config: AppConfig,
    private readonly clock: Clock,
    @InjectLogger() logger: Logger,
  ) {
    this.overlapMs = config.delivery.secretRotationOverlapMs;
    this.maxSubscriptions = config.maxSubscriptions;
    this.logger = logger.child({ component: 'subscriptions' });
  }

  async create(
    input: CreateSubscriptionDto,
    options: { id?: string; source?: SubscriptionSource } = {},
  ): Promise<Subscription> {
    this.rules.assertValid(input);
    const sub = this.build(input, options.id ?? newId(), options.source ?? 'api');
    // Declared subscriptions count toward the cap but are never refused by it: the operator who
    // wrote the file chose them, and refusing one would stop the process starting.
    const maxCount = sub.source === 'api' ? this.maxSubscriptions : undefined;
    let inserted: boolean;
    try {
      inserted = await this.store.insert(sub, { maxCount });
    } catch (error) {
      if (error instanceof SubscriptionLimitError) {
        throw new TooManySubscriptionsError(error.maxCount);
      }
      throw error;
    }
    if (!inserted) {
      throw new SubscriptionExistsError(sub.id);
    }
    this.logger.info(
      {
        subscriptionId: sub.id,
        host: urlHost(sub.url),
        eventTypes: sub.eventTypes,
        source: sub.source,
      },
      'subscription created',
    );
    return sub;
  }

  async get(id: string): Promise<Subscription> {
    const [sub, paused] = await Promise.all([
      this.store.get(id),
      this.health.pausedUntil(this.clock.now().getTime()),
    ]);
    if (!sub) {
      throw new SubscriptionNotFoundError(id);
    }
    return withPause(pruneSecrets(sub, this.clock.now().getTime()), paused);
  }

  async list(options: { limit: number; cursor?: string }): Promise<SubscriptionListing> {
    try {
      const nowMs = this.clock.now().getTime();
      const [page, paused] = await Promise.all([
        this.store.list(options),
        this.health.pausedUntil(nowMs),
      ]);
      return {
        data: page.items.map((sub) => withPause(pruneSecrets(sub, nowMs), paused)),
        nextCursor: page.nextCursor ?? null,
      };
    } catch (error) {
      if (error instanceof InvalidCursorError) {
        throw new RequestValidationError([{ field: 'cursor', problems: [error.message] }]);
      }
      throw error;
    }
  }

  /** PATCH: absent fields are kept. Turning a disabled subscription on clears why it was off. */
  async update(id: string, patch: UpdateSubscriptionDto): Promise<Subscription> {
    this.rules.assertValid({
      url: patch.url,
      eventTypes: patch.eventTypes,
      headers: patch.headers,
    });
    const modified = await this.modify(id, (current, now) => {
      const next: Subscription = { ...current, updatedAt: now.toISOString() };
      if (patch.url !== undefined) {
        next.url = patch.url;
      }
      if (patch.eventTypes !== undefined) {
        next.eventTypes = [...patch.eventTypes];
      }
      if (patch.description !== undefined) {
        next.description = patch.description ?? undefined;
      }
      if (patch.headers !== undefined) {
        next.headers = { ...patch.headers };
      }
      if (patch.filter !== undefined) {
        next.filter = normalizeFilter(patch.filter);
      }
      applyDeliveryOptions(next, patch);
      if (patch.enabled !== undefined) {
        applyEnabled(next, patch.enabled, DisabledReason.Admin, now);
      }
      return next;
    });
    if (!modified) {
      throw new SubscriptionNotFoundError(id);
    }
    this.logger.info({ subscriptionId: id, fields: Object.keys(patch) }, 'subscription updated');
    return modified.subscription;
  }

  /**
   * Read-modify-write of one subscription: `edit` gets the stored one (secrets past their overlap
   * left out) and the time, and returns the next one; nothing is written when the configuration
   * stays the same. Turning a disabled subscription on also ends its failure run. Undefined when
   * the id is unknown.
   */
  async modify(
    id: string,
    edit: (current: Subscription, now: Date) => Subscription,
  ): Promise<Modified | undefined> {
    let reenabled = false;
    let changed = false;
    const updated = await this.store.update(id, (stored) => {
      const now = this.clock.now();
      const next = edit(pruneSecrets(stored, now.getTime()), now);
      reenabled = !stored.enabled && next.enabled;
      changed = !sameConfig(next, stored);
      return changed ? next : stored;
    });
    if (!updated) {
      return undefined;
    }
    if (reenabled) {
      await this.health.clearFailure(id);
      delete updated.failingSince;
    }
    return { subscription: pruneSecrets(updated, this.clock.now().getTime()), changed };
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.delete(id))) {
      throw new SubscriptionNotFoundError(id);
    }
    this.logger.info({ subscriptionId: id }, 'subscription deleted');
  }

  /** A new current secret; the old one keeps signing for the rotation overlap. */
  async rotateSecret(id: string): Promise<RotatedSecret> {
    const secret = generateSecret();
    let previousSecretExpiresAt = '';
    const modified = await this.modify(id, (current, now) => {
      previousSecretExpiresAt = new Date(now.getTime() + this.overlapMs).toISOString();
      return withNewSecret(current, secret, now, this.overlapMs);
    });
    if (!modified) {
      throw new SubscriptionNotFoundError(id);
    }
    this.logger.info({ subscriptionId: id }, 'subscription secret rotated');
    return { subscription: modified.subscription, secret, previousSecretExpiresAt };
  }

  async currentSecret(id: string): Promise<string> {
    return (await this.get(id)).secrets[0].secret;
  }

  private build(
    input: CreateSubscriptionDto,
    id: string,
    source: SubscriptionSource,
  ): Subscription {
    const now = this.clock.now().toISOString();
    const sub: Subscription = {
      id,
      url: input.url,
      eventTypes: [...input.eventTypes],
      secrets: [{ secret: input.secret ?? generateSecret(), createdAt: now }],
      headers: { ...(input.headers ?? {}) },
      enabled: input.enabled ?? true,
      source,
      createdAt: now,
      updatedAt: now,
    };
    if (input.description !== undefined && input.description !== null) {
      sub.description = input.description;
    }
    const filter = normalizeFilter(input.filter);
    if (filter) {
      sub.filter = filter;
    }
    applyDeliveryOptions(sub, input);
    if (!sub.enabled) {
      sub.disabledReason = source === 'file' ? DisabledReason.File : DisabledReason.Admin;
      sub.disabledAt = now;
    }
    return sub;
  }
}
