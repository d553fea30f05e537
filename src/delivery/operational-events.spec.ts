import pino from 'pino';
import type { EventLog } from '../events/event-log';
import { EventType } from '../events/event-type.enum';
import { parseWebhookBody } from '../events/webhook-body';
import { type DeliveryDeadData, OperationalEvents } from './operational-events';

/** OperationalEvents over an event log double that records appends (or fails them). */
function setUp(fail?: Error) {
  const appended: { id: string; body: string }[][] = [];
  const log = {
    append: (entries: { id: string; body: string }[]) => {
      appended.push(entries);
      return fail ? Promise.reject(fail) : Promise.resolve();
    },
  } as unknown as EventLog;
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { events: new OperationalEvents(log, logger), appended, logs };
}

const dead: DeliveryDeadData = {
  deliveryId: 'dlv_7',
  eventId: 'evt_7',
  eventType: 'call.live',
  subscriptionId: 'sub_1',
  attempts: 6,
  lastStatusCode: 500,
  lastError: 'status 500',
};

describe('OperationalEvents', () => {
  it('appends a subscription.disabled event whose id is derived from the subscription and time', async () => {
    const { events, appended } = setUp();
    const before = Date.now();
    const data = {
      subscriptionId: 'sub_1',
      reason: 'endpoint answered 410 Gone',
      cause: 'gone' as const,
      disabledAt: '2026-03-01T12:00:00.000Z',
    };
    await events.subscriptionDisabled(data);
    expect(appended).toHaveLength(1);
    const [[entry]] = appended;
    const id = `bridge.subscription.disabled.sub_1.${Date.parse('2026-03-01T12:00:00.000Z')}`;
    expect(entry.id).toBe(id);
    const event = parseWebhookBody(entry.body);
    expect(event).toMatchObject({
      id,
      type: 'bridge.subscription.disabled',
      occurredAt: '2026-03-01T12:00:00.000Z',
      data,
      raw: {},
    });
    expect(Date.parse(event.receivedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(event.receivedAt)).toBeLessThanOrEqual(Date.now());
  });

  it('appends a delivery.dead event with an id per delivery and attempt count', async () => {
    const { events, appended } = setUp();
    await events.deliveryDead(dead, '2026-03-01T12:05:00.000Z');
    const [[entry]] = appended;
    expect(entry.id).toBe('bridge.delivery.dead.dlv_7.6');
    expect(parseWebhookBody(entry.body)).toMatchObject({
      id: 'bridge.delivery.dead.dlv_7.6',
      type: EventType.BridgeDeliveryDead,
      occurredAt: '2026-03-01T12:05:00.000Z',
      data: dead,
      raw: {},
    });
  });

  it('does not announce a bridge event that could not be delivered (no loops)', async () => {
    const { events, appended } = setUp();
    await events.deliveryDead(
      { ...dead, eventType: 'bridge.delivery.dead' },
      '2026-03-01T12:05:00Z',
    );
    await events.deliveryDead(
      { ...dead, eventType: 'bridge.subscription.disabled' },
      '2026-03-01T12:05:00Z',
    );
    expect(appended).toEqual([]);
    // Only the prefix counts: an Opentact type that merely contains "bridge." is announced.
    await events.deliveryDead({ ...dead, eventType: 'call.bridge.done' }, '2026-03-01T12:05:00Z');
    expect(appended).toHaveLength(1);
  });

  it('emits events of other parts of the bridge as given', async () => {
    const { events, appended } = setUp();
    await events.emit(
      EventType.BridgeOpentactDisconnected,
      'bridge.opentact.disconnected.1',
      '2026-03-01T12:00:00.000Z',
      { reason: 'closed' },
    );
    const [[entry]] = appended;
    expect(entry.id).toBe('bridge.opentact.disconnected.1');
    expect(parseWebhookBody(entry.body)).toMatchObject({
      type: 'bridge.opentact.disconnected',
      occurredAt: '2026-03-01T12:00:00.000Z',
      data: { reason: 'closed' },
    });
  });

  it('logs an append that fails instead of throwing, named by the event type', async () => {
    const { events, logs } = setUp(new Error('redis is down'));
    await expect(events.deliveryDead(dead, '2026-03-01T12:05:00Z')).resolves.toBeUndefined();
    const warnings = logs.filter((l) => l.msg === 'could not record an operational event');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 40,
      component: 'operational-events',
      source: 'bridge.delivery.dead',
      err: { message: 'redis is down' },
    });
  });
});
