import type {
  CreatedSubscription,
  RotatedSecret,
  Subscription,
  SubscriptionFilter,
  TestSent,
} from '../admin-api.types';
import { renderFields, renderTable } from './table.formatter';
import type { TimeFormatter } from './time.formatter';

function state(subscription: Subscription): string {
  if (subscription.enabled) {
    return subscription.failingSince ? 'enabled, failing' : 'enabled';
  }
  return subscription.disabledReason ? `disabled (${subscription.disabledReason})` : 'disabled';
}

function filterText(filter: SubscriptionFilter | undefined): string | undefined {
  if (!filter) {
    return undefined;
  }
  const parts = Object.entries(filter)
    .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
    .map(([field, value]) => `${field}=${Array.isArray(value) ? value.join(',') : value}`);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

export function formatSubscriptionTable(
  subscriptions: Subscription[],
  time: TimeFormatter,
): string {
  if (subscriptions.length === 0) {
    return 'No subscriptions.';
  }
  return renderTable(
    [
      { header: 'ID' },
      { header: 'STATE', max: 40 },
      { header: 'URL', max: 60 },
      { header: 'EVENT TYPES', max: 40 },
      { header: 'LAST SUCCESS' },
      { header: 'CREATED' },
    ],
    subscriptions.map((s) => [
      s.id,
      state(s),
      s.url,
      s.eventTypes.join(','),
      time.short(s.lastSuccessAt),
      time.short(s.createdAt),
    ]),
  );
}

export function formatSubscription(subscription: Subscription, time: TimeFormatter): string {
  const s = subscription;
  const headers = Object.entries(s.headers ?? {}).map(([name, value]) => `${name}=${value}`);
  return renderFields([
    ['ID', s.id],
    ['URL', s.url],
    ['Event types', s.eventTypes.join(', ')],
    ['Description', s.description],
    ['State', state(s)],
    ['Disabled at', time.long(s.disabledAt)],
    ['Failing since', time.long(s.failingSince)],
    ['Last success', time.long(s.lastSuccessAt)],
    ['Headers', headers.join(' ')],
    ['Filter', filterText(s.filter)],
    ['Ordering', s.ordering],
    ['Rate limit', s.rateLimitPerSecond === undefined ? undefined : `${s.rateLimitPerSecond}/s`],
    ['Max in flight', s.maxInFlight === undefined ? undefined : String(s.maxInFlight)],
    ['Paused until', time.long(s.pausedUntil)],
    ['Source', s.source],
    ['Secret', `${s.secretPreview} (preview)`],
    ...(s.previousSecrets ?? []).map((p): [string, string] => [
      'Previous secret',
      `${p.secretPreview} signs until ${time.long(p.expiresAt)}`,
    ]),
    ['Created', time.long(s.createdAt)],
    ['Updated', time.long(s.updatedAt)],
  ]);
}

export function formatCreated(created: CreatedSubscription, time: TimeFormatter): string {
  return [
    formatSubscription(created, time),
    '',
    `Signing secret: ${created.secret}`,
    'Give it to the receiver to verify signatures; the API shows it again at',
    `GET /v1/subscriptions/${created.id}/secret.`,
  ].join('\n');
}

export function formatRotated(id: string, rotated: RotatedSecret, time: TimeFormatter): string {
  return [
    `New signing secret of ${id}: ${rotated.secret}`,
    `The previous secret keeps signing until ${time.long(rotated.previousSecretExpiresAt)}.`,
  ].join('\n');
}

export function formatTestSent(id: string, sent: TestSent): string {
  return [
    `Test event ${sent.eventId} queued for ${id}.`,
    `Delivery: ${sent.deliveryId}`,
    `Follow it with: opentact-bridge deliveries show ${sent.deliveryId}`,
  ].join('\n');
}
