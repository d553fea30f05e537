import { type DeliveryRecord, DeliveryStatus } from '../../../src/delivery/delivery.model';
import { deliveryIdOf } from '../../../src/queue/queue.constants';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  api,
  createSubscription,
  MAX_ATTEMPTS,
  startBridge,
  startSimulator,
  type ValidationReply,
  waitForDelivery,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix } from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

/** Literal addresses no customer webhook may reach, whatever their spelling. */
const BLOCKED_LITERALS = [
  'http://10.0.0.1/',
  'http://169.254.169.254/latest',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[fd00:ec2::254]/',
  'http://100.64.0.1/',
  'http://0x7f000001/',
  'http://127.0.0.1/',
  'http://0.0.0.0/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://[fe80::1]/',
  'http://[64:ff9b::7f00:1]/',
  'http://[2002:7f00:1::]/',
  'http://localhost/',
  'http://api.localhost/',
];

const BAD_URLS = [
  'ftp://example.com/hook',
  'file:///etc/passwd',
  'http://user:pass@example.com/hook',
  'not a url',
  // Other spellings of 127.0.0.1 that the URL shape check already turns away.
  'http://2130706433/',
  'http://0177.0.0.1/',
];

describe('delivery: SSRF guard at create time and at connect time', () => {
  const prefix = uniquePrefix('delivery-ssrf');
  let sim: OpentactSimulator;
  /** Loopback not allowed: the production default. Runs every role. */
  let guarded: StartedApp;
  /** An admin API replica that still allows loopback (the allow-list was tightened later). */
  let lenient: StartedApp;
  let receiver: ProgrammableReceiver;

  beforeAll(async () => {
    sim = await startSimulator();
    guarded = await startBridge(sim, prefix, { DELIVERY_ALLOW_CIDRS: '' });
    lenient = await startBridge(sim, prefix, {
      APP_ROLE: 'api',
      DELIVERY_ALLOW_CIDRS: '127.0.0.1/32',
    });
    receiver = await new ProgrammableReceiver({ status: 200 }).start();
  });

  afterAll(async () => {
    await lenient?.app.close();
    await guarded?.app.close();
    await sim?.stop();
    await receiver?.stop();
    await deletePrefix(prefix);
  });

  it.each(BLOCKED_LITERALS)('refuses %s with a 400 naming url and the range', async (url) => {
    const reply = await api<ValidationReply>(guarded, 'POST', '/v1/subscriptions', {
      url,
      eventTypes: ['*'],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors?.map((e) => e.field)).toEqual(['url']);
    expect(reply.body.errors![0].problems.join(' ')).toMatch(
      /url is not allowed: .*(loopback|private|link-local|unique-local|carrier-grade|unspecified|NAT64|6to4)/,
    );
  });

  it.each(BAD_URLS)('refuses %s with a 400 naming url', async (url) => {
    const reply = await api<ValidationReply>(guarded, 'POST', '/v1/subscriptions', {
      url,
      eventTypes: ['*'],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors?.map((e) => e.field)).toEqual(['url']);
  });

  it('refuses a blocked URL on update too, and accepts a public host name', async () => {
    const sub = await createSubscription(guarded, {
      url: 'https://webhooks.example.com/opentact',
      eventTypes: ['tn.order_changed'],
      enabled: false,
    });
    const reply = await api<ValidationReply>(guarded, 'PATCH', `/v1/subscriptions/${sub.id}`, {
      url: 'http://169.254.169.254/latest/meta-data/',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors?.map((e) => e.field)).toEqual(['url']);
    expect((await api(guarded, 'DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(204);
  });

  it('allows loopback only where the operator allowed it', async () => {
    const url = receiver.url();
    const refused = await api<ValidationReply>(guarded, 'POST', '/v1/subscriptions', {
      url,
      eventTypes: ['*'],
    });
    expect(refused.status).toBe(400);
    const accepted = await api<{ id: string }>(lenient, 'POST', '/v1/subscriptions', {
      url,
      eventTypes: ['tn.order_changed'],
      enabled: false,
    });
    expect(accepted.status).toBe(201);
    expect((await api(lenient, 'DELETE', `/v1/subscriptions/${accepted.body.id}`)).status).toBe(
      204,
    );
  });

  it('refuses at connect time a name that resolves to loopback, and a stored loopback literal', async () => {
    const byName = await createSubscription(lenient, {
      url: receiver.url('/by-name', 'localhost'),
      eventTypes: ['account.*'],
    });
    const byLiteral = await createSubscription(lenient, {
      url: receiver.url('/by-literal'),
      eventTypes: ['account.*'],
    });
    await waitForRegistry(guarded, [byName.id, byLiteral.id]);

    const [frame] = sim.emitScenario('balance', 'newer');
    const eventId = frame.uuid as string;
    const isDead = (r: DeliveryRecord): boolean => r.status === DeliveryStatus.Dead;
    const records = await Promise.all(
      [byName.id, byLiteral.id].map((id) =>
        waitForDelivery(guarded, deliveryIdOf(eventId, id), isDead),
      ),
    );
    for (const record of records) {
      expect(record.attempts).toHaveLength(MAX_ATTEMPTS);
      for (const attempt of record.attempts!) {
        expect(attempt.statusCode).toBeUndefined();
        expect(attempt.error).toMatch(/^ssrf: refused to connect to/);
        expect(attempt.error).toMatch(/127\.0\.0\.1|::1/);
        expect(attempt.error).toMatch(/loopback/);
      }
    }
    expect(records[0].attempts![0].error).toMatch(/localhost/);
    expect(receiver.requests).toHaveLength(0);
  });
});
