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
