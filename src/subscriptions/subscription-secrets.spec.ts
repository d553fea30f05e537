import {
  activeSecrets,
  MAX_PREVIOUS_SECRETS,
  pruneSecrets,
  withNewSecret,
} from './subscription-secrets';
import type { Subscription } from './subscription.model';

const HOUR = 3_600_000;
const now = new Date('2026-03-01T12:00:00.000Z');
const later = new Date(now.getTime() + HOUR).toISOString();
const earlier = new Date(now.getTime() - HOUR).toISOString();

describe('subscription secrets', () => {
  it('activeSecrets puts the current secret first even if a previous one was listed oddly', () => {
    const sub = {
      secrets: [
        { secret: 'cur', createdAt: earlier },
        { secret: 'expired', createdAt: earlier, expiresAt: earlier },
        { secret: 'prev', createdAt: earlier, expiresAt: later },
      ],
    } as Subscription;
    expect(activeSecrets(sub, now.getTime())).toEqual(['cur', 'prev']);
  });

  it('pruneSecrets drops expired previous secrets, and returns the same object when none is', () => {
    const live = {
      secrets: [
        { secret: 'cur', createdAt: earlier },
        { secret: 'prev', createdAt: earlier, expiresAt: later },
      ],
    } as Subscription;
    expect(pruneSecrets(live, now.getTime())).toBe(live);
    const stale = {
      secrets: [...live.secrets, { secret: 'old', createdAt: earlier, expiresAt: earlier }],
    } as Subscription;
    expect(pruneSecrets(stale, now.getTime()).secrets.map((s) => s.secret)).toEqual([
      'cur',
      'prev',
    ]);
  });

  it('withNewSecret retires the current secret for the overlap and caps the previous ones', () => {
    let sub = { secrets: [{ secret: 's0', createdAt: now.toISOString() }] } as Subscription;
    for (let i = 1; i <= MAX_PREVIOUS_SECRETS + 2; i++) {
      sub = withNewSecret(sub, `s${i}`, now, HOUR);
    }
    expect(sub.secrets).toHaveLength(1 + MAX_PREVIOUS_SECRETS);
    expect(sub.secrets[0]).toEqual({
      secret: `s${MAX_PREVIOUS_SECRETS + 2}`,
      createdAt: now.toISOString(),
    });
    expect(sub.secrets[1].expiresAt).toBe(new Date(now.getTime() + HOUR).toISOString());
    expect(sub.updatedAt).toBe(now.toISOString());
  });
});
