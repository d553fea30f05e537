import { RequestValidationError } from '../api/validation';
import { generateSecret, isValidSecret } from '../webhook-security/webhook-signer';
import type { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { SubscriptionExistsError, SubscriptionNotFoundError } from './subscription-errors';
import { activeSecrets, MAX_PREVIOUS_SECRETS } from './subscription-secrets';
import { DisabledReason } from './subscription.model';
import { setupService as setup } from './subscriptions.spec-fixture';

const HOUR = 3_600_000;
const OVERLAP = 24 * HOUR;

const body = (over: Partial<CreateSubscriptionDto> = {}): CreateSubscriptionDto => ({
  url: 'https://hooks.example.com/opentact',
  eventTypes: ['call.*'],
  ...over,
});

async function validationErrorOf(promise: Promise<unknown>): Promise<RequestValidationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RequestValidationError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('SubscriptionsService.create', () => {
  it('generates an id and a valid secret, enabled by default', async () => {
    const { service, store } = setup();
    const sub = await service.create(body({ description: 'billing' }));
    expect(sub.id).toMatch(/^sub_[A-Za-z0-9_-]{24}$/);
    expect(sub.secrets).toHaveLength(1);
    expect(isValidSecret(sub.secrets[0].secret)).toBe(true);
    expect(sub.secrets[0].expiresAt).toBeUndefined();
    expect(sub).toMatchObject({
      enabled: true,
      source: 'api',
      headers: {},
      description: 'billing',
    });
    expect(store.docs.get(sub.id)).toEqual(sub);
  });

  it('keeps a given valid secret and refuses an invalid one without echoing it', async () => {
    const { service } = setup();
    const secret = generateSecret();
    expect((await service.create(body({ secret }))).secrets[0].secret).toBe(secret);

    const error = await validationErrorOf(service.create(body({ secret: 'whsec_tooshort' })));
    expect(error.getStatus()).toBe(400);
    expect(error.errors).toEqual([{ field: 'secret', problems: [expect.any(String)] }]);
    expect(JSON.stringify(error.getResponse())).not.toContain('tooshort');
  });

  it('starts disabled with a reason when asked to', async () => {
    const { service } = setup();
    const sub = await service.create(body({ enabled: false }));
    expect(sub).toMatchObject({ enabled: false, disabledReason: DisabledReason.Admin });
  });

  it('refuses a taken id', async () => {
    const { service } = setup();
    await service.create(body(), { id: 'fixed' });
    await expect(service.create(body(), { id: 'fixed' })).rejects.toBeInstanceOf(
      SubscriptionExistsError,
    );
  });

  it.each<[string, Partial<CreateSubscriptionDto>, string[]]>([
    ['metadata address', { url: 'http://169.254.169.254/latest' }, ['url']],
    ['mapped loopback', { url: 'http://[::ffff:127.0.0.1]/' }, ['url']],
    ['private address', { url: 'https://10.1.2.3/hook' }, ['url']],
    [
      'unknown event type',
      { eventTypes: ['call.*', 'calls.ringing', 'nope.*'] },
      ['eventTypes[1]', 'eventTypes[2]'],
    ],
    ['duplicate event type', { eventTypes: ['sms.inbound', 'sms.inbound'] }, ['eventTypes[1]']],
    [
      'reserved header',
      { headers: { 'Webhook-Signature': 'x', Host: 'evil' } },
      ['headers.Webhook-Signature', 'headers.Host'],
    ],
    ['bad header name', { headers: { 'bad name': 'x' } }, ['headers.bad name']],
    ['header injection', { headers: { 'X-A': 'a\r\nX-B: b' } }, ['headers.X-A']],
    ['same header twice', { headers: { 'X-A': '1', 'x-a': '2' } }, ['headers.x-a']],
  ])('refuses a %s, naming the field', async (_name, over, fields) => {
    const { service, store } = setup();
    const error = await validationErrorOf(service.create(body(over)));
    expect(error.errors.map((e) => e.field)).toEqual(fields);
    expect(store.writes).toBe(0);
  });

  it.each([
    [['*']],
    [['opentact.*', 'opentact.fax_received']],
    [['sms.*', 'call.hangup', 'account.*', 'tn.order_changed', 'webhook.test']],
  ])('accepts event types %j', async (eventTypes) => {
    const { service } = setup();
    await expect(service.create(body({ eventTypes }))).resolves.toMatchObject({ eventTypes });
  });

  it('accepts a loopback URL when the operator allows it', async () => {
    const { service } = setup('127.0.0.1/32');
    await expect(
      service.create(body({ url: 'http://127.0.0.1:9999/hook' })),
    ).resolves.toBeDefined();
    await expect(
      service.create(body({ url: 'http://[::ffff:127.0.0.1]/' })),
    ).resolves.toBeDefined();
  });

  it('accepts custom headers that are not reserved', async () => {
    const { service } = setup();
    const sub = await service.create(
      body({ headers: { Authorization: 'Bearer t', 'X-Tenant': 'acme' } }),
    );
    expect(sub.headers).toEqual({ Authorization: 'Bearer t', 'X-Tenant': 'acme' });
  });
});

describe('SubscriptionsService secrets', () => {
  it('rotates: new current first, the old one expires after the overlap', async () => {
    const { service, clock } = setup();
    const sub = await service.create(body());
    const old = sub.secrets[0].secret;
    clock.advance(HOUR);
    const rotated = await service.rotateSecret(sub.id);

    expect(rotated.secret).not.toBe(old);
    expect(rotated.previousSecretExpiresAt).toBe(
      new Date(clock.t.getTime() + OVERLAP).toISOString(),
    );
    expect(rotated.subscription.secrets.map((s) => s.secret)).toEqual([rotated.secret, old]);
    expect(rotated.subscription.secrets[0].expiresAt).toBeUndefined();
    expect(rotated.subscription.secrets[1].expiresAt).toBe(rotated.previousSecretExpiresAt);
    expect(activeSecrets(rotated.subscription, clock.now().getTime())).toEqual([
      rotated.secret,
      old,
    ]);
    expect(await service.currentSecret(sub.id)).toBe(rotated.secret);

    clock.advance(OVERLAP - 1);
    expect(activeSecrets(rotated.subscription, clock.now().getTime())).toEqual([
      rotated.secret,
      old,
    ]);
    clock.advance(1);
    expect(activeSecrets(rotated.subscription, clock.now().getTime())).toEqual([rotated.secret]);
  });

  it('prunes expired previous secrets on read and on the next write', async () => {
    const { service, clock, store } = setup();
    const sub = await service.create(body());
    await service.rotateSecret(sub.id);
    clock.advance(OVERLAP + 1);

    expect((await service.get(sub.id)).secrets).toHaveLength(1);
    expect(store.docs.get(sub.id)!.secrets).toHaveLength(2); // a read does not write
    expect((await service.list({ limit: 10 })).data[0].secrets).toHaveLength(1);

    await service.update(sub.id, { description: 'x' });
    expect(store.docs.get(sub.id)!.secrets).toHaveLength(1);
  });

  it('keeps at most 10 previous secrets, newest first', async () => {
    const { service, clock } = setup();
    const sub = await service.create(body());
    const currents: string[] = [sub.secrets[0].secret];
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      currents.unshift((await service.rotateSecret(sub.id)).secret);
    }
    const stored = await service.get(sub.id);
    expect(stored.secrets).toHaveLength(1 + MAX_PREVIOUS_SECRETS);
    expect(stored.secrets.map((s) => s.secret)).toEqual(
      currents.slice(0, 1 + MAX_PREVIOUS_SECRETS),
    );
    expect(activeSecrets(stored, clock.now().getTime())).toEqual(
      currents.slice(0, 1 + MAX_PREVIOUS_SECRETS),
    );
  });

  it('404s for unknown ids', async () => {
    const { service } = setup();
    await expect(service.rotateSecret('sub_missing')).rejects.toBeInstanceOf(
      SubscriptionNotFoundError,
    );
    await expect(service.get('sub_missing')).rejects.toBeInstanceOf(SubscriptionNotFoundError);
    await expect(service.delete('sub_missing')).rejects.toBeInstanceOf(SubscriptionNotFoundError);
    await expect(service.update('sub_missing', {})).rejects.toBeInstanceOf(
      SubscriptionNotFoundError,
    );
  });
});

describe('SubscriptionsService.update', () => {
  it('applies only the given fields and clears with null', async () => {
    const { service, clock } = setup();
    const sub = await service.create(
      body({ description: 'd', filter: { direction: 'inbound' }, headers: { 'X-A': '1' } }),
    );
    clock.advance(1000);
    const updated = await service.update(sub.id, {
      eventTypes: ['sms.*'],
      description: null,
      filter: null,
    });
    expect(updated).toMatchObject({ url: sub.url, eventTypes: ['sms.*'], headers: { 'X-A': '1' } });
    expect(updated.description).toBeUndefined();
    expect(updated.filter).toBeUndefined();
    expect(updated.updatedAt).toBe(clock.now().toISOString());
    expect(updated.createdAt).toBe(sub.createdAt);
  });

  it('validates the patched fields only', async () => {
    const { service } = setup();
    const sub = await service.create(body());
    const error = await validationErrorOf(
      service.update(sub.id, { url: 'http://192.168.1.1/', headers: { 'content-type': 'x' } }),
    );
    expect(error.errors.map((e) => e.field)).toEqual(['url', 'headers.content-type']);
  });

  it('re-enabling clears the reason and the failure run', async () => {
    const { service, store } = setup();
    const sub = await service.create(body());
    store.docs.set(sub.id, {
      ...sub,
      enabled: false,
      disabledReason: 'failing for 5 days',
      disabledAt: sub.createdAt,
      failingSince: sub.createdAt,
    });
    const updated = await service.update(sub.id, { enabled: true });
    expect(updated.enabled).toBe(true);
    expect(updated.disabledReason).toBeUndefined();
    expect(updated.disabledAt).toBeUndefined();
    expect(updated.failingSince).toBeUndefined();
    expect(store.cleared).toEqual([sub.id]);
  });

  it('disabling records who did it', async () => {
    const { service } = setup();
    const sub = await service.create(body());
    const updated = await service.update(sub.id, { enabled: false });
    expect(updated).toMatchObject({ enabled: false, disabledReason: DisabledReason.Admin });
  });

  it('does not write when nothing changes', async () => {
    const { service, store } = setup();
    const sub = await service.create(body());
    const writes = store.writes;
    await service.update(sub.id, { url: sub.url });
    expect(store.writes).toBe(writes);
  });
});
