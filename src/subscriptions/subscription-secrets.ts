import type { Subscription, SubscriptionSecret } from './subscription.model';

export function isLiveSecret(secret: SubscriptionSecret, nowMs: number): boolean {
  return secret.expiresAt === undefined || Date.parse(secret.expiresAt) > nowMs;
}

/** The secrets a delivery is signed with now: the current one, and previous ones still overlapping. */
export function activeSecrets(sub: Pick<Subscription, 'secrets'>, nowMs: number): string[] {
  const [current, ...previous] = sub.secrets;
  const out = current ? [current.secret] : [];
  for (const s of previous) {
    if (isLiveSecret(s, nowMs)) {
      out.push(s.secret);
    }
  }
  return out;
}

/** Previous secrets kept signing at most, besides the current one (as Svix does). */
export const MAX_PREVIOUS_SECRETS = 10;

/** The stored view at `nowMs`: previous secrets past their overlap are gone. */
export function pruneSecrets(sub: Subscription, nowMs: number): Subscription {
  const [current, ...previous] = sub.secrets;
  const live = previous.filter((s) => isLiveSecret(s, nowMs));
  return live.length === previous.length ? sub : { ...sub, secrets: [current, ...live] };
}

/**
 * Rotation: `secret` becomes the current one and the old current keeps signing for `overlapMs`
 * more, with at most MAX_PREVIOUS_SECRETS previous secrets still live.
 */
export function withNewSecret(
  sub: Subscription,
  secret: string,
  now: Date,
  overlapMs: number,
): Subscription {
  const nowMs = now.getTime();
  const [current, ...previous] = sub.secrets;
  const retired: SubscriptionSecret = {
    ...current,
    expiresAt: new Date(nowMs + overlapMs).toISOString(),
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
