import { type DeliveryRecord, DeliveryStatus } from '../../../src/delivery/delivery.model';
import type { NormalizedEvent } from '../../../src/events/normalized-event';
import type { QuarantinedFrame } from '../../../src/events/quarantine.repository';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { SubscriptionListResponseDto } from '../../../src/subscriptions/dto/subscription-response.dto';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  type ValidationReply,
  verifyWithBothLibraries,
  waitForDelivery,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
import {
  deletePrefix,
  type StartedApp,
  TEST_ADMIN_KEY,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

const SOME_ID = 'sub_doesNotMatterForAuth00000';

/** One route of each family and verb; none may answer without the key. */
const ROUTES: [method: string, path: string, body?: unknown][] = [
  ['GET', '/v1/subscriptions'],
  ['POST', '/v1/subscriptions', { url: 'https://example.com/hook', eventTypes: ['*'] }],
  ['GET', `/v1/subscriptions/${SOME_ID}`],
  ['PATCH', `/v1/subscriptions/${SOME_ID}`, { enabled: false }],
  ['DELETE', `/v1/subscriptions/${SOME_ID}`],
  ['POST', `/v1/subscriptions/${SOME_ID}/rotate-secret`],
  ['GET', `/v1/subscriptions/${SOME_ID}/secret`],
  ['POST', `/v1/subscriptions/${SOME_ID}/test`],
  ['POST', `/v1/subscriptions/${SOME_ID}/replay`, { since: '2026-01-01T00:00:00Z' }],
  ['GET', '/v1/deliveries'],
  ['GET', '/v1/deliveries/d_x'],
  ['POST', '/v1/deliveries/d_x/retry'],
  ['GET', '/v1/events/e_x'],
  ['GET', '/v1/quarantine'],
];

const BAD_CREDENTIALS: [name: string, headers: Record<string, string>][] = [
  ['no key', { 'content-type': 'application/json' }],
  [
    'a wrong key',
    { authorization: `Bearer ${TEST_ADMIN_KEY}x`, 'content-type': 'application/json' },
  ],
  [
    'another scheme',
    { authorization: `Basic ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
  ],
];

function fieldsOf(reply: { body: ValidationReply }): string[] {
  return (reply.body.errors ?? []).map((e) => e.field).sort();
}

describe('delivery: the admin API', () => {
  const prefix = uniquePrefix('delivery-admin');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let target: ProgrammableReceiver;
  let bystander: ProgrammableReceiver;

  beforeAll(async () => {
    sim = await startSimulator();
    // This file sends dozens of requests without a valid key on purpose: the limit on failed
    // authentications (test/integration/api/admin-limits.spec.ts) must not turn them into 429s.
    bridge = await startBridge(sim, prefix, { ADMIN_AUTH_MAX_FAILURES: '1000' });
    target = await new ProgrammableReceiver({ status: 204 }).start();
    bystander = await new ProgrammableReceiver({ status: 204 }).start();
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all([target?.stop(), bystander?.stop()]);
    await deletePrefix(prefix);
  });

  describe.each(BAD_CREDENTIALS)('with %s', (_name, headers) => {
    // Rows as objects: a row shorter than the test's parameter list would make jest wait for `done`.
    const rows = ROUTES.map(([method, path, body]) => ({ method, path, body }));
    it.each(rows)('$method $path is 401', async ({ method, path, body }) => {
      const reply = await api<{ statusCode: number; message: string }>(
        bridge,
        method,
        path,
        body,
        headers,
      );
      expect(reply.status).toBe(401);
      expect(reply.body.statusCode).toBe(401);
      expect(JSON.stringify(reply.body)).not.toContain(TEST_ADMIN_KEY);
    });
  });

  it('created nothing for the refused requests', async () => {
    const list = await api<SubscriptionListResponseDto>(bridge, 'GET', '/v1/subscriptions');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
  });

  it('keeps /health/live and /metrics open without a key', async () => {
    const live = await api<{ status: string }>(bridge, 'GET', '/health/live', undefined, {});
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('ok');
    const metrics = await api<string>(bridge, 'GET', '/metrics', undefined, {});
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('otb_');
  });

  it('names every bad field of a subscription body', async () => {
    const shape = await api<ValidationReply>(bridge, 'POST', '/v1/subscriptions', {
      url: 'not a url',
      eventTypes: 'call.*',
      enabled: 'false',
      filter: { direction: 5 },
      headers: ['X-Tenant'],
      eventType: ['call.*'],
    });
    expect(shape.status).toBe(400);
    expect(shape.body.message).toBe('validation failed');
    expect(fieldsOf(shape)).toEqual([
      'enabled',
      'eventType',
      'eventTypes',
      'filter.direction',
      'headers',
      'url',
    ]);

    const rules = await api<ValidationReply>(bridge, 'POST', '/v1/subscriptions', {
      url: 'http://169.254.169.254/latest',
      eventTypes: ['call.*', 'call.nope', 'call.*'],
      headers: { 'webhook-id': 'mine', 'X-Ok': 'fine' },
      secret: 'whsec_short',
    });
    expect(rules.status).toBe(400);
    expect(fieldsOf(rules)).toEqual([
      'eventTypes[1]',
      'eventTypes[2]',
      'headers.webhook-id',
      'secret',
      'url',
    ]);
    expect(JSON.stringify(rules.body)).not.toContain('whsec_short');

    const missing = await api<ValidationReply>(bridge, 'POST', '/v1/subscriptions', {});
    expect(missing.status).toBe(400);
    expect(fieldsOf(missing)).toEqual(['eventTypes', 'url']);
  });

  it('names every bad field of a replay body and a deliveries query', async () => {
    const sub = await createSubscription(bridge, {
      url: bystander.url(),
      eventTypes: ['tn.order_changed'],
      enabled: false,
    });
    const replay = (body: unknown): Promise<{ status: number; body: ValidationReply }> =>
      api<ValidationReply>(bridge, 'POST', `/v1/subscriptions/${sub.id}/replay`, body);

    const dates = await replay({
      since: 'yesterday',
      until: '2026-13-45T00:00:00Z',
      scope: 'some',
    });
    expect(dates.status).toBe(400);
    expect(fieldsOf(dates)).toEqual(['scope', 'since', 'until']);
    const backwards = await replay({
      since: '2026-02-01T00:00:00Z',
      until: '2026-01-01T00:00:00Z',
    });
    expect(backwards.status).toBe(400);
    expect(fieldsOf(backwards)).toEqual(['until']);
    expect(fieldsOf(await replay({}))).toEqual(['since']);
    const unknown = await api(bridge, 'POST', '/v1/subscriptions/sub_unknown/replay', {
      since: '2026-01-01T00:00:00Z',
    });
    expect(unknown.status).toBe(404);

    const query = await api<ValidationReply>(bridge, 'GET', '/v1/deliveries?status=bogus&limit=0');
    expect(query.status).toBe(400);
    expect(fieldsOf(query)).toEqual(['limit', 'status']);
    for (const limit of ['101', 'abc', '1.5']) {
      const bad = await api<ValidationReply>(bridge, 'GET', `/v1/deliveries?limit=${limit}`);
      expect({ limit, status: bad.status, fields: fieldsOf(bad) }).toEqual({
        limit,
        status: 400,
        fields: ['limit'],
      });
    }
    expect((await api(bridge, 'GET', '/v1/deliveries?limit=100&status=dead')).status).toBe(200);
    const window = await api<ValidationReply>(
      bridge,
      'GET',
      '/v1/deliveries?since=yesterday&until=2026-13-45T00:00:00Z',
    );
    expect(window.status).toBe(400);
    expect(fieldsOf(window)).toEqual(['since', 'until']);
    // A cursor that is not one the API handed out is the client's mistake, not a 500.
    const foreign = [
      'not a cursor',
      Buffer.from('not json').toString('base64url'),
      Buffer.from('["12", 34]').toString('base64url'),
      Buffer.from('["1e9", "d_x"]').toString('base64url'),
    ];
    for (const cursor of foreign) {
      const bad = await api<ValidationReply>(
        bridge,
        'GET',
        `/v1/deliveries?cursor=${encodeURIComponent(cursor)}`,
      );
      expect({ cursor, status: bad.status, fields: fieldsOf(bad) }).toEqual({
        cursor,
        status: 400,
        fields: ['cursor'],
      });
    }
    // A well-formed cursor naming a delivery that does not exist still pages from its time.
    const unknownId = Buffer.from(JSON.stringify([String(Date.now()), 'd_gone'])).toString(
      'base64url',
    );
    expect((await api(bridge, 'GET', `/v1/deliveries?cursor=${unknownId}`)).status).toBe(200);
    expect((await api(bridge, 'GET', '/v1/deliveries/d_unknown')).status).toBe(404);
    expect((await api(bridge, 'POST', '/v1/deliveries/d_unknown/retry')).status).toBe(404);
    expect((await api(bridge, 'DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(204);
  });

  it('serves a retained event by id, and lists a quarantined frame', async () => {
    const [frame] = sim.emitScenario('inbound-sms', 'newer');
    const id = frame.uuid as string;
    const event = await waitFor(
      async () => {
        const reply = await api<NormalizedEvent>(bridge, 'GET', `/v1/events/${id}`);
        return reply.status === 200 ? reply.body : undefined;
      },
      5_000,
      'the event to be retained',
    );
    expect(Object.keys(event).sort()).toEqual(
      ['data', 'id', 'occurredAt', 'raw', 'receivedAt', 'type'].sort(),
    );
    expect(event).toMatchObject({ id, type: 'sms.inbound', data: { direction: 'inbound' } });
    expect(event.raw).toEqual(frame);
    expect((await api(bridge, 'GET', '/v1/events/not-an-event')).status).toBe(404);

    const junk = `this is { not json ${id}`;
    sim.emit(junk);
    type QuarantinePage = {
      total: number;
      countsByReason: Record<string, number>;
      items: QuarantinedFrame[];
    };
    const page = await waitFor(
      async () => {
        const reply = await api<QuarantinePage>(bridge, 'GET', '/v1/quarantine');
        return reply.status === 200 && reply.body.total >= 1 ? reply.body : undefined;
      },
      5_000,
      'the frame to be quarantined',
    );
    expect(page.total).toBe(1);
    expect(page.countsByReason).toEqual({ not_json: 1 });
    expect(page.items[0]).toMatchObject({ reason: 'not_json', binary: false });
    expect(Buffer.from(page.items[0].rawBase64, 'base64').toString('utf8')).toBe(junk);
    const paged = await api<QuarantinePage>(bridge, 'GET', '/v1/quarantine?offset=1&limit=5');
    expect(paged.body.items).toEqual([]);
    expect((await api(bridge, 'GET', '/v1/quarantine?limit=0')).status).toBe(400);
  });

  it('sends a webhook.test event to the one subscription asked for', async () => {
    const asked = await createSubscription(bridge, {
      url: target.url(),
      eventTypes: ['sms.inbound'],
    });
    const everything = await createSubscription(bridge, {
      url: bystander.url(),
      eventTypes: ['*'],
    });
    await waitForRegistry(bridge, [asked.id, everything.id]);

    const reply = await api<{ eventId: string; deliveryId: string }>(
      bridge,
      'POST',
      `/v1/subscriptions/${asked.id}/test`,
    );
    expect(reply.status).toBe(202);
    const { eventId, deliveryId } = reply.body;
    const record = await waitForDelivery(
      bridge,
      deliveryId,
      (r: DeliveryRecord) => r.status === DeliveryStatus.Succeeded,
    );
    expect(record).toMatchObject({ eventId, eventType: 'webhook.test', subscriptionId: asked.id });
    const [request] = target.forWebhook(eventId);
    verifyWithBothLibraries(asked.secret, request);
    const body = JSON.parse(request.body) as NormalizedEvent;
    expect(body).toMatchObject({
      id: eventId,
      type: 'webhook.test',
      data: { subscriptionId: asked.id },
    });
    expect(Object.keys(body)).toEqual(['id', 'type', 'occurredAt', 'receivedAt', 'data', 'raw']);

    // The fan-out finished with that one delivery: the '*' subscription got nothing.
    await waitForIdle(bridge, 5_000);
    expect(bystander.forWebhook(eventId)).toHaveLength(0);
    expect(target.requests).toHaveLength(1);
    const listed = await api<{ data: DeliveryRecord[] }>(
      bridge,
      'GET',
      `/v1/deliveries?subscriptionId=${everything.id}`,
    );
    expect(listed.body.data).toEqual([]);
    expect((await api(bridge, 'POST', '/v1/subscriptions/sub_unknown/test')).status).toBe(404);
  });

  it('refuses a test event for a disabled subscription instead of naming a delivery that never comes', async () => {
    const off = await createSubscription(bridge, {
      url: target.url(),
      eventTypes: ['*'],
      enabled: false,
    });
    const before = target.requests.length;
    const reply = await api<{ message: string }>(
      bridge,
      'POST',
      `/v1/subscriptions/${off.id}/test`,
    );
    expect(reply.status).toBe(409);
    expect(reply.body.message).toMatch(/disabled/);
    const listed = await api<{ data: DeliveryRecord[] }>(
      bridge,
      'GET',
      `/v1/deliveries?subscriptionId=${off.id}`,
    );
    expect(listed.body.data).toEqual([]);
    expect(target.requests).toHaveLength(before);
  });
});
