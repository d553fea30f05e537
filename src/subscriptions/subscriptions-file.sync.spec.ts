import type { SubscriptionsFileLoader } from './subscriptions-file.loader';
import { generateSecret } from '../webhook-security/webhook-signer';
import { SubscriptionsFileSync } from './subscriptions-file.sync';
import { DisabledReason } from './subscription.model';
import { setupService } from './subscriptions.spec-fixture';

function setup() {
  const parts = setupService();
  const loader = {} as SubscriptionsFileLoader; // upsert reads no file
  const sync = new SubscriptionsFileSync(
    parts.config,
    loader,
    parts.service,
    parts.rules,
    parts.logger,
  );
  return { ...parts, sync };
}

describe('SubscriptionsFileSync.upsert', () => {
  const declared = (over: Record<string, unknown> = {}) => ({
    id: 'billing',
    url: 'https://hooks.example.com/billing',
    eventTypes: ['account.*'],
    ...over,
  });

  it('creates, then updates fields and keeps the secret, then reports unchanged', async () => {
    const { store, sync } = setup();
    expect(await sync.upsert(declared())).toBe('created');
    const created = store.docs.get('billing')!;
    expect(created.source).toBe('file');

    expect(await sync.upsert(declared({ eventTypes: ['account.*', 'tn.*'] }))).toBe('updated');
    const updated = store.docs.get('billing')!;
    expect(updated.eventTypes).toEqual(['account.*', 'tn.*']);
    expect(updated.secrets).toEqual(created.secrets);
    expect(updated.createdAt).toBe(created.createdAt);

    expect(await sync.upsert(declared({ eventTypes: ['account.*', 'tn.*'] }))).toBe('unchanged');
  });

  it('a secret in the file replaces the current one, the old one overlapping', async () => {
    const { store, sync } = setup();
    await sync.upsert(declared());
    const old = store.docs.get('billing')!.secrets[0].secret;
    const given = generateSecret();
    expect(await sync.upsert(declared({ secret: given }))).toBe('updated');
    expect(store.docs.get('billing')!.secrets.map((s) => s.secret)).toEqual([given, old]);
    expect(await sync.upsert(declared({ secret: given }))).toBe('unchanged');
  });

  it('turns off with enabled: false and back on only if the file turned it off', async () => {
    const { service, store, sync } = setup();
    await sync.upsert(declared());
    await sync.upsert(declared({ enabled: false }));
    expect(store.docs.get('billing')).toMatchObject({
      enabled: false,
      disabledReason: DisabledReason.File,
    });
    await sync.upsert(declared());
    expect(store.docs.get('billing')!.enabled).toBe(true);

    await service.update('billing', { enabled: false });
    await sync.upsert(declared({ enabled: true }));
    expect(store.docs.get('billing')).toMatchObject({
      enabled: false,
      disabledReason: DisabledReason.Admin,
    });
  });
});
