import pino from 'pino';
import { loadConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { SubscriptionRules } from './subscription-rules';
import type { Subscription } from './subscription.model';
import type { SubscriptionPage } from './subscriptions.repository';
import {
  type HealthStore,
  type SubscriptionStore,
  SubscriptionsService,
} from './subscriptions.service';

export class FakeClock extends Clock {
  constructor(public t = new Date('2026-03-01T12:00:00.000Z')) {
    super();
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t = new Date(this.t.getTime() + ms);
  }
}

const clone = (s: Subscription): Subscription => JSON.parse(JSON.stringify(s)) as Subscription;

/** Storage double: a map, copying on the way in and out as Redis would. */
export class FakeStore implements SubscriptionStore, HealthStore {
  readonly docs = new Map<string, Subscription>();
  readonly cleared: string[] = [];
  writes = 0;

  get(id: string): Promise<Subscription | undefined> {
    const doc = this.docs.get(id);
    return Promise.resolve(doc ? clone(doc) : undefined);
  }
  list(options: { limit: number; cursor?: string }): Promise<SubscriptionPage> {
    const all = [...this.docs.values()];
    const start = options.cursor ? Number(options.cursor) : 0;
    const items = all.slice(start, start + options.limit).map(clone);
    const next = start + options.limit;
    return Promise.resolve(next < all.length ? { items, nextCursor: String(next) } : { items });
  }
  insert(sub: Subscription): Promise<boolean> {
    if (this.docs.has(sub.id)) {
      return Promise.resolve(false);
    }
    this.writes++;
    this.docs.set(sub.id, clone(sub));
    return Promise.resolve(true);
  }
  async update(
    id: string,
    mutate: (s: Subscription) => Subscription,
  ): Promise<Subscription | undefined> {
    const current = await this.get(id);
    if (!current) {
      return undefined;
    }
    const next = mutate(current);
    if (next !== current) {
      this.writes++;
      this.docs.set(id, clone(next));
    }
    return clone(next);
  }
  delete(id: string): Promise<boolean> {
    return Promise.resolve(this.docs.delete(id));
  }
  clearFailure(id: string): Promise<void> {
    this.cleared.push(id);
    return Promise.resolve();
  }
  readonly paused = new Map<string, number>();
  pausedUntil(nowMs: number): Promise<Map<string, number>> {
    return Promise.resolve(new Map([...this.paused].filter(([, until]) => until > nowMs)));
  }
}

/** The service on doubles, and the config, rules and logger the folder's other parts take. */
export function setupService(allowCidrs = '') {
  const config = loadConfig({
    OPENTACT_TOKEN: 'a.b.c',
    ADMIN_API_KEY: 'k'.repeat(40),
    DELIVERY_ALLOW_CIDRS: allowCidrs,
  });
  const store = new FakeStore();
  const clock = new FakeClock();
  const logger = pino({ level: 'silent' });
  const rules = new SubscriptionRules(config);
  const service = new SubscriptionsService(store, store, rules, config, clock, logger);
  return { store, clock, service, config, rules, logger };
}
