/**
 * What orders an event: deliveries of events that share a key go one at a time to a subscription
 * with `ordering: per-key`. Documented in the README: the call for call.*, the message for
 * sms.*, the number order for tn.*, the account for account.*. Events without one are unordered.
 */
const KEY_FIELD: readonly (readonly [prefix: string, field: string, label: string])[] = [
  ['call.', 'callId', 'call'],
  ['sms.', 'messageId', 'sms'],
  ['tn.', 'orderId', 'tn'],
  ['account.', 'accountId', 'account'],
];

/** Keys longer than this are not ordered (they become Redis key names). */
const MAX_KEY_VALUE_LENGTH = 128;

export function orderingKeyOf(type: string, data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) {
    return undefined;
  }
  for (const [prefix, field, label] of KEY_FIELD) {
    if (type.startsWith(prefix)) {
      const value = (data as Record<string, unknown>)[field];
      return typeof value === 'string' && value !== '' && value.length <= MAX_KEY_VALUE_LENGTH
        ? `${label}:${value}`
        : undefined;
    }
  }
  return undefined;
}
