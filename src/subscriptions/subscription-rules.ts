import { Injectable } from '@nestjs/common';
import { type FieldProblems, RequestValidationError } from '../api/validation';
import { AppConfig } from '../config/app-config';
import { KNOWN_EVENT_TYPES, PASSTHROUGH_PREFIX } from '../events/event-type.enum';
import { SsrfGuard } from '../webhook-security/ssrf-guard';
import { isValidSecret } from '../webhook-security/webhook-signer';
import type { CreateSubscriptionDto } from './dto/create-subscription.dto';
import type { SubscriptionFilterDto } from './dto/subscription-filter.dto';
import { MATCH_ALL } from './subscription-matcher';
import { FILTER_KEYS, type Subscription, type SubscriptionFilter } from './subscription.model';

/** Headers the sender sets itself; a customer header must never replace them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'user-agent',
  'connection',
  'transfer-encoding',
]);

/**
 * Connection-level (hop-by-hop) headers, which belong to one connection rather than to the
 * webhook: undici throws on Keep-Alive, Upgrade and Expect, so a subscription carrying one would
 * fail every delivery; TE, Trailer and Proxy-* (matched by prefix) mean nothing to a receiver.
 */
export const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
]);

function isTransportHeader(lower: string): boolean {
  return TRANSPORT_HEADERS.has(lower) || lower.startsWith('proxy-');
}

/** `call`, `sms`, ... and `opentact` for passthrough kinds: what `<group>.*` may name. */
export const EVENT_GROUPS: readonly string[] = [
  ...new Set([...KNOWN_EVENT_TYPES.map((t) => t.split('.')[0]), PASSTHROUGH_PREFIX.slice(0, -1)]),
].sort();

const KNOWN: ReadonlySet<string> = new Set(KNOWN_EVENT_TYPES);
const PASSTHROUGH = /^opentact\.[a-z0-9_.-]+$/i;
/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab: no CR/LF (header injection) nor anything fetch would refuse. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
export const MAX_HEADER_VALUE_LENGTH = 2048;

function eventTypeProblem(entry: string): string | undefined {
  if (entry === MATCH_ALL || KNOWN.has(entry) || PASSTHROUGH.test(entry)) {
    return undefined;
  }
  if (entry.endsWith('.*') && EVENT_GROUPS.includes(entry.slice(0, -2))) {
    return undefined;
  }
  return (
    `${JSON.stringify(entry)} is not an event type: use one of ${KNOWN_EVENT_TYPES.join(', ')}, ` +
    `opentact.<kind>, "*", or a group pattern (${EVENT_GROUPS.map((g) => `${g}.*`).join(', ')})`
  );
}

/** Names each unknown entry by its index, so `eventTypes[1]` points at the typo. */
export function eventTypeProblems(eventTypes: readonly string[]): FieldProblems[] {
  const out: FieldProblems[] = [];
  const seen = new Set<string>();
  eventTypes.forEach((entry, index) => {
    const problems: string[] = [];
    const problem = eventTypeProblem(entry);
    if (problem) {
      problems.push(problem);
    }
    if (seen.has(entry)) {
      problems.push(`${JSON.stringify(entry)} is listed twice`);
    }
    seen.add(entry);
    if (problems.length > 0) {
      out.push({ field: `eventTypes[${index}]`, problems });
    }
  });
  return out;
}

export function headerProblems(headers: Readonly<Record<string, string>>): FieldProblems[] {
  const out: FieldProblems[] = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    const problems: string[] = [];
    if (!HEADER_NAME.test(name)) {
      problems.push('is not a valid HTTP header name');
    } else if (RESERVED_HEADERS.has(lower)) {
      problems.push(`${lower} is set by the bridge itself and cannot be overridden`);
    } else if (isTransportHeader(lower)) {
      problems.push(
        `${lower} is a connection-level header, which a webhook request cannot carry; remove it`,
      );
    }
    if (seen.has(lower)) {
      problems.push('is given twice (header names are case-insensitive)');
    }
    seen.add(lower);
    if (!HEADER_VALUE.test(value)) {
      problems.push('value must be printable ASCII without line breaks');
    }
    if (value.length > MAX_HEADER_VALUE_LENGTH) {
      problems.push(`value must be at most ${MAX_HEADER_VALUE_LENGTH} characters`);
    }
    if (problems.length > 0) {
      out.push({ field: `headers.${name}`, problems });
    }
  }
  return out;
}

/** The fields of a body the rules look at; every one is optional (a patch gives some). */
export type CheckedFields = Partial<
  Pick<CreateSubscriptionDto, 'url' | 'eventTypes' | 'headers' | 'secret'>
>;

/**
 * What a subscription body must satisfy beyond its DTO's shape: an allowed URL (SSRF), known
 * event types, headers the sender may carry, a well-formed secret.
 */
@Injectable()
export class SubscriptionRules {
  private readonly guard: SsrfGuard;

  constructor(config: AppConfig) {
    this.guard = new SsrfGuard(config.delivery.allowCidrs);
  }

  /** Every rule a body breaks; empty when it may be stored. */
  findProblems(input: CheckedFields): FieldProblems[] {
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

  /** Throws the request's validation error when the body breaks a rule. */
  assertValid(input: CheckedFields): void {
    const problems = this.findProblems(input);
    if (problems.length > 0) {
      throw new RequestValidationError(problems);
    }
  }
}

/** The filter as stored: only known keys, lists copied, absent when empty. */
export function normalizeFilter(
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
export function applyDeliveryOptions(
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

/**
 * Turns `sub` on or off. Off records why and when; on clears that and the failure run. Returns
 * true when this turned a disabled subscription on.
 */
export function applyEnabled(
  sub: Subscription,
  enabled: boolean,
  reason: string,
  now: Date,
): boolean {
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

/** Whether two subscriptions configure the same thing; health and timestamps are left out. */
export function sameConfig(a: Subscription, b: Subscription): boolean {
  return configOf(a) === configOf(b);
}

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
