import type {
  CreatedSubscriptionResponseDto,
  SubscriptionResponseDto,
} from './dto/subscription-response.dto';
import type { Subscription } from './subscription.model';

const PREVIEW_CHARS = 'whsec_'.length + 3;

/** Enough to tell secrets apart, far too little to sign with. */
export function secretPreview(secret: string): string {
  return `${secret.slice(0, PREVIEW_CHARS)}…`;
}

/** The API view: secrets appear only as previews. */
export function presentSubscription(sub: Subscription): SubscriptionResponseDto {
  const [current, ...previous] = sub.secrets;
  return {
    id: sub.id,
    url: sub.url,
    eventTypes: sub.eventTypes,
    description: sub.description,
    headers: sub.headers,
    filter: sub.filter,
    ordering: sub.ordering ?? 'none',
    rateLimitPerSecond: sub.rateLimitPerSecond,
    maxInFlight: sub.maxInFlight,
    pausedUntil: sub.pausedUntil,
    enabled: sub.enabled,
    disabledReason: sub.disabledReason,
    disabledAt: sub.disabledAt,
    source: sub.source,
    createdAt: sub.createdAt,
    updatedAt: sub.updatedAt,
    failingSince: sub.failingSince,
    lastSuccessAt: sub.lastSuccessAt,
    secretPreview: current ? secretPreview(current.secret) : '',
    previousSecrets: previous.map((s) => ({
      secretPreview: secretPreview(s.secret),
      createdAt: s.createdAt,
      expiresAt: s.expiresAt ?? s.createdAt,
    })),
  };
}

/** The create response is the one place, with rotate and GET …/secret, that shows a full secret. */
export function presentCreated(sub: Subscription): CreatedSubscriptionResponseDto {
  return { ...presentSubscription(sub), secret: sub.secrets[0].secret };
}
