import { RequestValidationError } from '../api/validation';
import { loadConfig } from '../config/app-config';
import { generateSecret } from '../webhook-security/webhook-signer';
import {
  applyDeliveryOptions,
  applyEnabled,
  normalizeFilter,
  sameConfig,
  SubscriptionRules,
} from './subscription-rules';
import { DisabledReason, type Subscription } from './subscription.model';

const rules = new SubscriptionRules(
  loadConfig({ OPENTACT_TOKEN: 'a.b.c', ADMIN_API_KEY: 'k'.repeat(40) }),
);

const base = (): Subscription => ({
  id: 'sub_a',
  url: 'https://hooks.example.com/a',
  eventTypes: ['call.*'],
  secrets: [{ secret: 'whsec_x', createdAt: '2026-03-01T00:00:00.000Z' }],
  headers: {},
  enabled: true,
  source: 'api',
  createdAt: '2026-03-01T00:00:00.000Z',
  updatedAt: '2026-03-01T00:00:00.000Z',
});

describe('SubscriptionRules', () => {
  it('names every field a body breaks, and never echoes a secret', () => {
    const problems = rules.findProblems({
      url: 'http://10.0.0.1/',
      eventTypes: ['call.*', 'nope'],
      headers: { 'webhook-id': 'x' },
      secret: 'whsec_tooshort',
    });
    expect(problems.map((p) => p.field)).toEqual([
      'url',
      'eventTypes[1]',
      'headers.webhook-id',
      'secret',
    ]);
    expect(JSON.stringify(problems)).not.toContain('tooshort');
  });

  it('checks only the fields given, and passes a valid body', () => {
    expect(rules.findProblems({})).toEqual([]);
    expect(() =>
      rules.assertValid({
        url: 'https://hooks.example.com/a',
        eventTypes: ['sms.*'],
        secret: generateSecret(),
      }),
    ).not.toThrow();
    expect(() => rules.assertValid({ eventTypes: ['bogus'] })).toThrow(RequestValidationError);
  });
});

describe('subscription field rules', () => {
  it('normalizeFilter keeps known keys only and is absent when empty', () => {
    const list = ['+1555'];
    const filter = normalizeFilter({ direction: 'inbound', to: list });
    expect(filter).toEqual({ direction: 'inbound', to: ['+1555'] });
    expect(filter!.to).not.toBe(list);
    expect(normalizeFilter({})).toBeUndefined();
    expect(normalizeFilter(null)).toBeUndefined();
  });

  it('applyDeliveryOptions: absent keeps, null clears, none is stored as absent', () => {
    const sub = { ...base(), ordering: 'per-key' as const, maxInFlight: 3 };
    applyDeliveryOptions(sub, { rateLimitPerSecond: 5 });
    expect(sub).toMatchObject({ ordering: 'per-key', maxInFlight: 3, rateLimitPerSecond: 5 });
    applyDeliveryOptions(sub, { ordering: 'none', maxInFlight: null });
    expect(sub.ordering).toBeUndefined();
    expect(sub.maxInFlight).toBeUndefined();
    expect(sub.rateLimitPerSecond).toBe(5);
  });

  it('applyEnabled records who turned it off, and turning on clears that and the failure run', () => {
    const now = new Date('2026-03-02T00:00:00.000Z');
    const sub = base();
    expect(applyEnabled(sub, false, DisabledReason.File, now)).toBe(false);
    expect(sub).toMatchObject({
      enabled: false,
      disabledReason: DisabledReason.File,
      disabledAt: now.toISOString(),
    });
    sub.failingSince = now.toISOString();
    expect(applyEnabled(sub, true, DisabledReason.File, now)).toBe(true);
    expect(sub.disabledReason).toBeUndefined();
    expect(sub.disabledAt).toBeUndefined();
    expect(sub.failingSince).toBeUndefined();
    expect(applyEnabled(sub, true, DisabledReason.File, now)).toBe(false);
  });

  it('sameConfig ignores timestamps and health, not configuration', () => {
    const a = base();
    expect(sameConfig(a, { ...a, updatedAt: 'later', lastSuccessAt: 'x' })).toBe(true);
    expect(sameConfig(a, { ...a, eventTypes: ['sms.*'] })).toBe(false);
    expect(sameConfig(a, { ...a, secrets: [] })).toBe(false);
  });
});
