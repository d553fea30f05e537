import { SubscriptionRecords } from './subscription-records';
import { httpStatusOf } from './simulator.spec-fixture';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

describe('SubscriptionRecords', () => {
  let now: number;
  let records: SubscriptionRecords;

  beforeEach(() => {
    now = T0;
    records = new SubscriptionRecords(60, () => now);
  });

  it('creates a new entry per request, with the default expiry when none is asked for', () => {
    const a = records.create({ type: 'sms', channel: 'wss', is_active: true });
    const b = records.create({
      type: 'sms',
      channel: 'wss',
      is_active: false,
      expired_on: '2027-01-01T00:00:00.000Z',
    });
    const c = records.create({
      type: 'balance',
      channel: 'wss',
      is_active: true,
      expired_on: null,
    });
    expect(a.uuid).not.toBe(b.uuid);
    expect(a).toMatchObject({
      created_on: '2026-01-01T00:00:00.000Z',
      modified_on: '2026-01-01T00:00:00.000Z',
      expired_on: '2026-01-01T00:01:00.000Z',
    });
    expect(b.expired_on).toBe('2027-01-01T00:00:00.000Z');
    expect(c.expired_on).toBeNull();
    expect(records.all).toHaveLength(3);
  });

  it.each([
    ['not an object', []],
    ['no type', { channel: 'wss', is_active: true }],
    ['blank channel', { type: 'sms', channel: ' ', is_active: true }],
    ['is_active not boolean', { type: 'sms', channel: 'wss', is_active: 'yes' }],
    ['bad expiry', { type: 'sms', channel: 'wss', is_active: true, expired_on: 'soon' }],
  ])('answers 400 to a create with %s', (_why, body) => {
    expect(httpStatusOf(() => records.create(body))).toBe(400);
    expect(records.all).toHaveLength(0);
  });

  it('updates is_active and expired_on only, and 404s an unknown uuid', () => {
    const record = records.create({ type: 'sms', channel: 'wss', is_active: true });
    now = T0 + 5_000;
    const updated = records.update(record.uuid, { is_active: false, type: 'balance' });
    expect(updated).toMatchObject({
      type: 'sms',
      is_active: false,
      modified_on: '2026-01-01T00:00:05.000Z',
      expired_on: record.expired_on,
    });
    expect(httpStatusOf(() => records.update(record.uuid, { is_active: 1 }))).toBe(400);
    expect(httpStatusOf(() => records.update('missing', {}))).toBe(404);
    expect(httpStatusOf(() => records.assertExists('missing'))).toBe(404);
  });

  it('removes an entry, answering it, and 404s an unknown uuid', () => {
    const record = records.create({ type: 'sms', channel: 'wss', is_active: true });
    expect(records.remove(record.uuid)).toEqual(record);
    expect(records.all).toHaveLength(0);
    expect(httpStatusOf(() => records.remove(record.uuid))).toBe(404);
  });

  it('subscribes the types of active, unexpired WSS entries only', () => {
    records.create({ type: 'sms', channel: 'wss', is_active: true });
    records.create({ type: 'balance', channel: 'wss', is_active: false });
    records.create({ type: 'call_state', channel: 'webhook', is_active: true });
    records.create({ type: 'tn_order', channel: 'wss', is_active: true, expired_on: null });
    expect(records.subscribedTypes()).toEqual(new Set(['sms', 'tn_order']));
    expect(records.isSubscribed(undefined)).toBe(true);
    expect(records.isSubscribed('balance')).toBe(false);
    now = T0 + 60_000;
    expect(records.subscribedTypes()).toEqual(new Set(['tn_order']));
  });

  it('lets the named types lapse (all when none are named) and counts them', () => {
    records.create({ type: 'sms', channel: 'wss', is_active: true });
    records.create({ type: 'tn_order', channel: 'wss', is_active: true, expired_on: null });
    expect(records.expire(['sms'])).toBe(1);
    expect(records.subscribedTypes()).toEqual(new Set(['tn_order']));
    expect(records.all[0].expired_on).toBe('2025-12-31T23:59:59.000Z');
    expect(records.expire()).toBe(2);
    expect(records.subscribedTypes().size).toBe(0);
  });
});
