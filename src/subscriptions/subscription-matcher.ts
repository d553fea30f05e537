import { BRIDGE_PREFIX } from '../events/event-type.enum';
import type { NormalizedEvent } from '../events/normalized-event';
import { FILTER_KEYS, type Subscription, type SubscriptionFilter } from './subscription.model';

/** What the matcher reads of an event; the rest of the event is irrelevant to routing. */
export type MatchableEvent = Pick<NormalizedEvent, 'type' | 'data'>;

export const MATCH_ALL = '*';
const GROUP_SUFFIX = '.*';

/** Event-type patterns turned into a set lookup plus a few prefix checks. */
export class EventTypeMatcher {
  private readonly all: boolean;
  private readonly exact: ReadonlySet<string>;
  /** `call.*` is kept as `call.`: a type matches when it starts with one of these. */
  private readonly prefixes: readonly string[];

  constructor(patterns: readonly string[]) {
    this.all = patterns.includes(MATCH_ALL);
    this.exact = new Set(patterns.filter((p) => !p.endsWith(GROUP_SUFFIX) && p !== MATCH_ALL));
    this.prefixes = patterns.filter((p) => p.endsWith(GROUP_SUFFIX)).map((p) => p.slice(0, -1));
  }

  matches(type: string): boolean {
    if (this.exact.has(type)) {
      return true;
    }
    // Operational events reach only those who name them, never a catch-all endpoint.
    if (this.all && !type.startsWith(BRIDGE_PREFIX)) {
      return true;
    }
    for (const prefix of this.prefixes) {
      if (type.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}

type CompiledFilter = readonly (readonly [key: string, accepted: ReadonlySet<string>])[];

/** Filter keys holding telephone numbers, which events and customers write with or without `+`. */
const NUMBER_KEYS: ReadonlySet<string> = new Set(['from', 'to', 'tn']);
const NUMBER = /^\+?(\d+)$/;

/** `+15550001111` and `15550001111` are one number; anything else (a SIP id) is kept as is. */
function numberKey(value: string): string {
  return NUMBER.exec(value.trim())?.[1] ?? value;
}

function compileFilter(filter: SubscriptionFilter | undefined): CompiledFilter {
  if (!filter) {
    return [];
  }
  const compiled: [string, ReadonlySet<string>][] = [];
  for (const key of FILTER_KEYS) {
    const wanted = filter[key];
    if (wanted !== undefined) {
      const values = Array.isArray(wanted) ? wanted : [wanted];
      compiled.push([key, new Set(NUMBER_KEYS.has(key) ? values.map(numberKey) : values)]);
    }
  }
  return compiled;
}

function dataField(data: MatchableEvent['data'], key: string): string | undefined {
  const value = (data as unknown as Readonly<Record<string, unknown>>)[key];
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

function passes(filter: CompiledFilter, event: MatchableEvent): boolean {
  return passesData(filter, event.data);
}

function passesData(filter: CompiledFilter, data: MatchableEvent['data']): boolean {
  for (const [key, accepted] of filter) {
    const value = dataField(data, key);
    if (value === undefined || !accepted.has(NUMBER_KEYS.has(key) ? numberKey(value) : value)) {
      return false;
    }
  }
  return true;
}

/** A subscription with its patterns and filter precompiled: built once per registry refresh. */
export class CompiledSubscription {
  private readonly types: EventTypeMatcher;
  private readonly filter: CompiledFilter;

  constructor(readonly subscription: Subscription) {
    this.types = new EventTypeMatcher(subscription.eventTypes);
    this.filter = compileFilter(subscription.filter);
  }

  get id(): string {
    return this.subscription.id;
  }

  matches(event: MatchableEvent): boolean {
    return this.types.matches(event.type) && passes(this.filter, event);
  }

  /**
   * The same decision in two steps, for a caller that has the type at hand and the data only at
   * a cost: `data` is called only when the type matches and the subscription filters on data.
   */
  matchesLazily(type: string, data: () => MatchableEvent['data']): boolean {
    if (!this.types.matches(type)) {
      return false;
    }
    return this.filter.length === 0 || passesData(this.filter, data());
  }
}

export function compileSubscription(subscription: Subscription): CompiledSubscription {
  return new CompiledSubscription(subscription);
}

/** One-off check; the hot path uses a compiled `EventTypeMatcher` instead. */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return new EventTypeMatcher(patterns).matches(type);
}

/** Every given key must match `event.data[key]`; a missing data field never matches. */
export function matchesFilter(
  filter: SubscriptionFilter | undefined,
  event: MatchableEvent,
): boolean {
  return passes(compileFilter(filter), event);
}
