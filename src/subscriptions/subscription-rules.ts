import type { FieldProblems } from '../api/validation';
import { KNOWN_EVENT_TYPES, PASSTHROUGH_PREFIX } from '../events/event-type.enum';
import { MATCH_ALL } from './subscription-matcher';

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
