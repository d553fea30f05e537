import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { type FieldProblems, RequestValidationError } from '../api/validation';
import { AppConfig } from '../config/app-config';
import { SsrfGuard } from '../webhook-security/ssrf-guard';
import { generateSecret, isValidSecret } from '../webhook-security/webhook-signer';
import { InjectLogger } from '../logging/logging.module';
import { Clock } from '../common/clock';
import type { CreateSubscriptionDto } from './dto/create-subscription.dto';
import type { DeclaredSubscriptionDto } from './dto/declared-subscription.dto';
import type { SubscriptionFilterDto } from './dto/subscription-filter.dto';
import type { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import {
  SubscriptionExistsError,
  SubscriptionNotFoundError,
  TooManySubscriptionsError,
} from './subscription-errors';
import { eventTypeProblems, headerProblems } from './subscription-rules';
import {
  DisabledReason,
  FILTER_KEYS,
  type Subscription,
  type SubscriptionFilter,
  type SubscriptionSecret,
  type SubscriptionSource,
} from './subscription.model';
import {
  InvalidCursorError,
  SubscriptionLimitError,
  SubscriptionsRepository,
} from './subscriptions.repository';
import { SubscriptionHealthRepository } from './subscription-health.repository';
import { activeSecrets, isLiveSecret } from './subscription-secrets';

/** Previous secrets kept signing at most, besides the current one (as Svix does). */
export const MAX_PREVIOUS_SECRETS = 10;

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

export type DeclaredOutcome = 'created' | 'updated' | 'unchanged';

function newId(): string {
  // 18 random bytes are exactly 24 base64url characters.
  return `sub_${randomBytes(18).toString('base64url')}`;
}

function normalizeFilter(
  filter: SubscriptionFilterDto | SubscriptionFilter | null | undefined,
): SubscriptionFilter | undefined {
  if (!filter) {
    return undefined;
  }
  const out: SubscriptionFilter = {};
  for (const key of FILTER_KEYS) {
    const value = filter[key];
    if (value !== undefined) {
      out[key] = Array.isArray(value) ? [...value] : value;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Ordering and limits from a create body or a patch: absent keeps what is there, `null` clears a
 * limit, `none` is stored as absent (the default).
 */
function applyDeliveryOptions(
  sub: Subscription,
  input: {
    ordering?: Subscription['ordering'];
    rateLimitPerSecond?: number | null;
    maxInFlight?: number | null;
  },
): void {
  if (input.ordering !== undefined) {
    if (input.ordering === 'per-key') {
      sub.ordering = 'per-key';
    } else {
      delete sub.ordering;
    }
  }
  for (const key of ['rateLimitPerSecond', 'maxInFlight'] as const) {
    const value = input[key];
    if (value === null) {
      delete sub[key];
    } else if (value !== undefined) {
      sub[key] = value;
    }
  }
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

/** The fields a configuration change compares; health and timestamps are left out. */
function configOf(sub: Subscription): string {
  return JSON.stringify([
    sub.url,
    sub.eventTypes,
    sub.description ?? null,
    sub.headers,
    sub.filter ?? null,
    sub.ordering ?? 'none',
    sub.rateLimitPerSecond ?? null,
    sub.maxInFlight ?? null,
    sub.enabled,
    sub.disabledReason ?? null,
    sub.source,
    sub.secrets,
  ]);
}

/**
 * Customer webhook subscriptions: the rules (SSRF, event types, headers, secrets), rotation, and
 * the upsert of operator-declared subscriptions. Storage is the repository's job.
 */
@Injectable()
export class SubscriptionsService {
  private readonly guard: SsrfGuard;
  private readonly overlapMs: number;
  private readonly maxSubscriptions: number;
  private readonly logger: Logger;

  constructor(
    @Inject(SubscriptionsRepository) private readonly store: SubscriptionStore,
    @Inject(SubscriptionHealthRepository) private readonly health: HealthStore,
    config: AppConfig,
    private readonly clock: Clock,
    @InjectLogger() logger: Logger,
  ) {
    this.guard = new SsrfGuard(config.delivery.allowCidrs);
    this.overlapMs = config.delivery.secretRotationOverlapMs;
    this.maxSubscriptions = config.maxSubscriptions;
    this.logger = logger.child({ component: 'subscriptions' });
  }

  /** Every rule a body breaks beyond its DTO's shape; empty when it may be stored. */
  findProblems(
    input: Partial<Pick<CreateSubscriptionDto, 'url' | 'eventTypes' | 'headers' | 'secret'>>,
  ): FieldProblems[] {
    const problems: FieldProblems[] = [];
    if (input.url !== undefined) {
      const verdict = this.guard.checkUrl(input.url);
      if (!verdict.allowed) {
        problems.push({ field: 'url', problems: [`url is not allowed: ${verdict.reason}`] });
      }
    }
    if (input.eventTypes !== undefined) {
      problems.push(...eventTypeProblems(input.eventTypes));
    }
    if (input.headers !== undefined) {
      problems.push(...headerProblems(input.headers));
    }
    if (input.secret !== undefined && !isValidSecret(input.secret)) {
      // Never echo the value: it may be a real secret with a typo.
      problems.push({
        field: 'secret',
        problems: ['secret must be "whsec_" followed by the base64 of 24 to 64 random bytes'],
      });
    }
    return problems;
  }

  async create(
    input: CreateSubscriptionDto,
    options: { id?: string; source?: SubscriptionSource } = {},
  ): Promise<Subscription> {
    this.assertValid(input);
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
    return withPause(this.pruneSecrets(sub, this.clock.now()), paused);
  }

  async list(options: { limit: number; cursor?: string }): Promise<SubscriptionListing> {
    try {
      const now = this.clock.now();
      const [page, paused] = await Promise.all([
        this.store.list(options),
        this.health.pausedUntil(now.getTime()),
      ]);
      return {
        data: page.items.map((sub) => withPause(this.pruneSecrets(sub, now), paused)),
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
    this.assertValid({
      url: patch.url,
      eventTypes: patch.eventTypes,
      headers: patch.headers,
    });
    let reenabled = false;
    const updated = await this.store.update(id, (stored) => {
      const now = this.clock.now();
      const current = this.pruneSecrets(stored, now);
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
      reenabled = false;
      if (patch.enabled !== undefined) {
        reenabled = this.applyEnabled(next, patch.enabled, DisabledReason.Admin, now);
      }
      return configOf(next) === configOf(stored) ? stored : next;
    });
    if (!updated) {
      throw new SubscriptionNotFoundError(id);
    }
    if (reenabled) {
      await this.health.clearFailure(id);
      delete updated.failingSince;
    }
    this.logger.info({ subscriptionId: id, fields: Object.keys(patch) }, 'subscription updated');
    return this.pruneSecrets(updated, this.clock.now());
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
    const updated = await this.store.update(id, (stored) => {
      const now = this.clock.now();
      previousSecretExpiresAt = new Date(now.getTime() + this.overlapMs).toISOString();
      return this.withNewSecret(stored, secret, now);
    });
    if (!updated) {
      throw new SubscriptionNotFoundError(id);
    }
    this.logger.info({ subscriptionId: id }, 'subscription secret rotated');
    return {
      subscription: this.pruneSecrets(updated, this.clock.now()),
      secret,
      previousSecretExpiresAt,
    };
  }

  async currentSecret(id: string): Promise<string> {
    return (await this.get(id)).secrets[0].secret;
  }

  /** The secrets to sign with at `now`: the current one first, then those still overlapping. */
  activeSecrets(sub: Subscription, now: Date): string[] {
    return activeSecrets(sub, now.getTime());
  }

  /**
   * Makes a SUBSCRIPTIONS_FILE entry true in storage. The file owns the configuration fields; the
   * secret is kept unless the file gives one. `enabled: false` turns it off, and only a
   * subscription the file itself turned off is turned back on by it: one that failed for days or
   * that an operator switched off stays off until someone decides otherwise.
   */
  async upsertDeclared(entry: DeclaredSubscriptionDto): Promise<DeclaredOutcome> {
    this.assertValid(entry);
    if (!(await this.store.get(entry.id))) {
      try {
        await this.create(entry, { id: entry.id, source: 'file' });
        return 'created';
      } catch (error) {
        // Another replica created it a moment ago: update it like any existing one.
        if (!(error instanceof SubscriptionExistsError)) {
          throw error;
        }
      }
    }
    let reenabled = false;
    let changed = false;
    const updated = await this.store.update(entry.id, (stored) => {
      const now = this.clock.now();
      let next: Subscription = {
        ...this.pruneSecrets(stored, now),
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
        next = this.withNewSecret(next, entry.secret, now);
      }
      reenabled = false;
      if (entry.enabled === false) {
        this.applyEnabled(next, false, DisabledReason.File, now);
      } else if (!next.enabled && next.disabledReason === DisabledReason.File) {
        reenabled = this.applyEnabled(next, true, DisabledReason.File, now);
      }
      changed = configOf(next) !== configOf(stored);
      return changed ? next : stored;
    });
    if (!updated) {
      // Deleted between the two reads: start over, which creates it.
      return this.upsertDeclared(entry);
    }
    if (reenabled) {
      await this.health.clearFailure(entry.id);
    }
    return changed ? 'updated' : 'unchanged';
  }

  /** The stored view at `now`: previous secrets past their overlap are gone. */
  pruneSecrets(sub: Subscription, now: Date): Subscription {
    const nowMs = now.getTime();
    const [current, ...previous] = sub.secrets;
    const live = previous.filter((s) => isLiveSecret(s, nowMs));
    return live.length === previous.length ? sub : { ...sub, secrets: [current, ...live] };
  }

  private withNewSecret(sub: Subscription, secret: string, now: Date): Subscription {
    const nowMs = now.getTime();
    const [current, ...previous] = sub.secrets;
    const retired: SubscriptionSecret = {
      ...current,
      expiresAt: new Date(nowMs + this.overlapMs).toISOString(),
    };
    const kept = [retired, ...previous]
      .filter((s) => isLiveSecret(s, nowMs))
      .slice(0, MAX_PREVIOUS_SECRETS);
    return {
      ...sub,
      secrets: [{ secret, createdAt: now.toISOString() }, ...kept],
      updatedAt: now.toISOString(),
    };
  }

  /** Returns true when this turned a disabled subscription on. */
  private applyEnabled(sub: Subscription, enabled: boolean, reason: string, now: Date): boolean {
    if (enabled === sub.enabled) {
      return false;
    }
    sub.enabled = enabled;
    if (enabled) {
      delete sub.disabledReason;
      delete sub.disabledAt;
      delete sub.failingSince;
      return true;
    }
    sub.disabledReason = reason;
    sub.disabledAt = now.toISOString();
    return false;
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

  private assertValid(input: Parameters<SubscriptionsService['findProblems']>[0]): void {
    const problems = this.findProblems(input);
    if (problems.length > 0) {
      throw new RequestValidationError(problems);
    }
  }
}
