import { type DeliveryRecord, DeliveryStatus } from '../../../src/delivery/delivery.model';
import { DeliveryQueue } from '../../../src/queue/delivery-queue';
import { deliveryIdOf } from '../../../src/queue/queue.constants';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  api,
  createSubscription,
  FAST_SCHEDULE,
  getDelivery,
  getSubscription,
  MAX_ATTEMPTS,
  startBridge,
  startSimulator,
  waitForDelivery,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import {
  closedPort,
  ProgrammableReceiver,
  type RecordedRequest,
} from '../../support/webhook-receivers';

const TIMEOUT_MS = 500;
const MAX_RESPONSE_BYTES = 100;
const SCHEDULE_MS = [200, 400, 600];
const BIG_BODY = `${'e'.repeat(60)}${'x'.repeat(940)}`;

type Case =
  | 'ok200'
  | 'ok204'
  | 'redirect'
  | 'gone'
  | 'busy429'
  | 'busy503'
  | 'error500'
  | 'timeout'
  | 'refused';

const CASES: Case[] = [
  'ok200',
  'ok204',
  'redirect',
  'gone',
  'busy429',
  'busy503',
  'error500',
  'timeout',
  'refused',
];

function gaps(requests: RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i].at);
}

function isFinal(record: DeliveryRecord): boolean {
  return record.status === DeliveryStatus.Succeeded || record.status === DeliveryStatus.Dead;
}

describe('delivery: every outcome rule, on a compressed schedule', () => {
  const prefix = uniquePrefix('delivery-outcomes');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  const receivers = new Map<Case | 'redirectTarget', ProgrammableReceiver>();
  const subs = new Map<Case, string>();
  const deliveries = new Map<Case, DeliveryRecord>();
  let eventId: string;
  let refusedUrl: string;
  let busy503RetryAt: number;

  const receiver = (name: Case | 'redirectTarget'): ProgrammableReceiver => receivers.get(name)!;
  const deliveryId = (name: Case): string => deliveryIdOf(eventId, subs.get(name)!);

  beforeAll(async () => {
    expect(FAST_SCHEDULE).toHaveLength(SCHEDULE_MS.length);
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, {
      DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS),
      DELIVERY_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES),
    });
    const target = await new ProgrammableReceiver({ status: 200 }).start();
    receivers.set('redirectTarget', target);
    const scripts: Record<Exclude<Case, 'refused'>, ProgrammableReceiver> = {
      ok200: new ProgrammableReceiver({ status: 200, body: 'thanks' }),
      ok204: new ProgrammableReceiver({ status: 204 }),
      redirect: new ProgrammableReceiver({ status: 302, headers: { location: target.url() } }),
      gone: new ProgrammableReceiver({ status: 410, body: 'gone' }),
      busy429: new ProgrammableReceiver({ status: 200 }),
      busy503: new ProgrammableReceiver({ status: 200 }),
      error500: new ProgrammableReceiver({ status: 500, body: BIG_BODY }),
      timeout: new ProgrammableReceiver({ hang: true }),
    };
    for (const [name, r] of Object.entries(scripts)) {
      receivers.set(name as Case, await r.start());
    }
    receiver('busy429').replyOnce({ status: 429, headers: { 'retry-after': '1' } });
    // An HTTP-date about two seconds ahead (whole seconds, so 1 to 2 s from now).
    receiver('busy503').respondWith((request) => {
      if (request.index > 0) {
        return { status: 200 };
      }
      busy503RetryAt = Math.floor((Date.now() + 2_000) / 1000) * 1000;
      return { status: 503, headers: { 'retry-after': new Date(busy503RetryAt).toUTCString() } };
    });
    refusedUrl = `http://127.0.0.1:${await closedPort()}/hook`;

    for (const name of CASES) {
      const url = name === 'refused' ? refusedUrl : receiver(name).url();
      const sub = await createSubscription(bridge, {
        url,
        eventTypes: ['account.balance_changed'],
        description: name,
      });
      subs.set(name, sub.id);
    }
    await waitForRegistry(bridge, [...subs.values()]);

    const [frame] = sim.emitScenario('balance', 'newer');
    eventId = frame.uuid as string;
    for (const name of CASES) {
      deliveries.set(
        name,
        await waitForDelivery(bridge, deliveryId(name), isFinal, 15_000, `${name} to finish`),
      );
    }
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all([...receivers.values()].map((r) => r.stop()));
    await deletePrefix(prefix);
  });

  it.each(['ok200', 'ok204'] as const)('%s is delivered on the first attempt', (name) => {
    const record = deliveries.get(name)!;
    expect(record.status).toBe(DeliveryStatus.Succeeded);
    expect(record.attemptCount).toBe(1);
    expect(record.lastStatusCode).toBe(name === 'ok200' ? 200 : 204);
    expect(record.attempts).toHaveLength(1);
    expect(receiver(name).requests).toHaveLength(1);
  });

  it('records each attempt with time, status, duration, error and the response body', () => {
    const [ok] = deliveries.get('ok200')!.attempts!;
    expect(ok).toMatchObject({ attempt: 1, statusCode: 200, responseBody: 'thanks' });
    expect(Date.parse(ok.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);
    expect(ok.error).toBeUndefined();
    expect(ok.responseTruncated).toBeUndefined();
  });

  it('does not follow a 3xx: retried on the schedule, then dead; the Location is never hit', () => {
    const record = deliveries.get('redirect')!;
    expect(record.status).toBe(DeliveryStatus.Dead);
    expect(record.attemptCount).toBe(MAX_ATTEMPTS);
    expect(record.attempts!.map((a) => a.statusCode)).toEqual(Array(MAX_ATTEMPTS).fill(302));
    expect(record.attempts![0].error).toMatch(/redirect/);
    expect(receiver('redirect').requests).toHaveLength(MAX_ATTEMPTS);
    expect(receiver('redirectTarget').requests).toHaveLength(0);
  });

  it('410 Gone kills the delivery at once and disables the subscription', async () => {
    const record = deliveries.get('gone')!;
    expect(record.status).toBe(DeliveryStatus.Dead);
    expect(record.attemptCount).toBe(1);
    expect(record.attempts).toHaveLength(1);
    expect(record.attempts![0]).toMatchObject({ statusCode: 410, responseBody: 'gone' });
    expect(record.attempts![0].error).toMatch(/410/);
    expect(record.attempts![0].nextAttemptAt).toBeUndefined();
    const sub = await getSubscription(bridge, subs.get('gone')!);
    expect(sub.enabled).toBe(false);
    expect(sub.disabledReason).toMatch(/410/);
    expect(sub.disabledAt).toBeDefined();
    // The first attempt is made by the fan-out itself: a 410 there leaves no retry job behind.
    expect(await bridge.app.get(DeliveryQueue).stateOf(deliveryId('gone'))).toBeUndefined();
    expect(receiver('gone').requests).toHaveLength(1);
  });

  it('429 with Retry-After: 1 waits at least a second, longer than the schedule asks', () => {
    const requests = receiver('busy429').requests;
    expect(requests).toHaveLength(2);
    const [gap] = gaps(requests);
    expect(gap).toBeGreaterThanOrEqual(1_000);
    expect(gap).toBeLessThan(3_000);
    const record = deliveries.get('busy429')!;
    expect(record.status).toBe(DeliveryStatus.Succeeded);
    expect(record.attempts!.map((a) => a.statusCode)).toEqual([429, 200]);
    const first = record.attempts![0];
    expect(Date.parse(first.nextAttemptAt!) - Date.parse(first.at)).toBeGreaterThanOrEqual(1_000);
  });

  it('503 with an HTTP-date Retry-After waits until that date', () => {
    const requests = receiver('busy503').requests;
    expect(requests).toHaveLength(2);
    expect(busy503RetryAt - requests[0].at).toBeGreaterThan(SCHEDULE_MS[0]);
    // The date has whole seconds; allow for the clock read between receiver and worker.
    expect(requests[1].at).toBeGreaterThanOrEqual(busy503RetryAt - 50);
    const record = deliveries.get('busy503')!;
    expect(record.status).toBe(DeliveryStatus.Succeeded);
    expect(record.attempts!.map((a) => a.statusCode)).toEqual([503, 200]);
  });

  it('500 is retried on the schedule (schedule length + 1 attempts), then dead, bodies truncated', () => {
    const requests = receiver('error500').requests;
    expect(requests).toHaveLength(MAX_ATTEMPTS);
    gaps(requests).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(SCHEDULE_MS[i] - 5));
    // Every request of one delivery carries the same webhook-id.
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));
    const record = deliveries.get('error500')!;
    expect(record.status).toBe(DeliveryStatus.Dead);
    expect(record.attemptCount).toBe(MAX_ATTEMPTS);
    expect(record.lastStatusCode).toBe(500);
    expect(record.nextAttemptAt).toBeUndefined();
    const attempts = record.attempts!;
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    for (const [i, attempt] of attempts.entries()) {
      expect(attempt.statusCode).toBe(500);
      expect(attempt.error).toMatch(/500/);
      expect(attempt.responseBody).toBe(BIG_BODY.slice(0, MAX_RESPONSE_BYTES));
      expect(attempt.responseTruncated).toBe(true);
      expect(typeof attempt.durationMs).toBe('number');
      if (i < attempts.length - 1) {
        expect(Date.parse(attempt.nextAttemptAt!)).toBeGreaterThan(Date.parse(attempt.at));
      } else {
        expect(attempt.nextAttemptAt).toBeUndefined();
      }
    }
  });

  it('a receiver that never answers times out, is retried, then dead', () => {
    expect(receiver('timeout').requests).toHaveLength(MAX_ATTEMPTS);
    const record = deliveries.get('timeout')!;
    expect(record.status).toBe(DeliveryStatus.Dead);
    expect(record.attempts).toHaveLength(MAX_ATTEMPTS);
    for (const attempt of record.attempts!) {
      expect(attempt.statusCode).toBeUndefined();
      expect(attempt.error).toMatch(/timeout/i);
      expect(attempt.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(attempt.durationMs).toBeLessThan(TIMEOUT_MS + 1_000);
    }
  });

  it('a refused connection is retried, then dead', () => {
    const record = deliveries.get('refused')!;
    expect(record.status).toBe(DeliveryStatus.Dead);
    expect(record.attempts).toHaveLength(MAX_ATTEMPTS);
    for (const attempt of record.attempts!) {
      expect(attempt.statusCode).toBeUndefined();
      expect(attempt.error).toMatch(/ECONNREFUSED/);
    }
    expect(record.lastError).toMatch(/ECONNREFUSED/);
  });

  it('lists deliveries filtered by subscription, status and event type, with a cursor', async () => {
    type Page = { data: DeliveryRecord[]; nextCursor?: string };
    const dead = await api<Page>(bridge, 'GET', '/v1/deliveries?status=dead');
    expect(dead.status).toBe(200);
    const deadNames: Case[] = ['redirect', 'gone', 'error500', 'timeout', 'refused'];
    expect(dead.body.data.map((d) => d.id).sort()).toEqual(deadNames.map(deliveryId).sort());
    expect(dead.body.data.every((d) => d.status === DeliveryStatus.Dead)).toBe(true);
    // The list is a summary; the attempts are on GET /v1/deliveries/:id.
    expect(dead.body.data[0].attempts).toBeUndefined();

    const one = await api<Page>(
      bridge,
      'GET',
      `/v1/deliveries?subscriptionId=${subs.get('error500')}&status=dead&eventType=account.balance_changed`,
    );
    expect(one.body.data.map((d) => d.id)).toEqual([deliveryId('error500')]);
    const notDead = await api<Page>(
      bridge,
      'GET',
      `/v1/deliveries?subscriptionId=${subs.get('ok200')}&status=dead`,
    );
    expect(notDead.body.data).toEqual([]);
    const otherType = await api<Page>(bridge, 'GET', '/v1/deliveries?eventType=call.live');
    expect(otherType.body.data).toEqual([]);
    const succeeded = await api<Page>(
      bridge,
      'GET',
      '/v1/deliveries?status=succeeded&eventType=account.balance_changed',
    );
    expect(succeeded.body.data.map((d) => d.id).sort()).toEqual(
      (['ok200', 'ok204', 'busy429', 'busy503'] as Case[]).map(deliveryId).sort(),
    );

    const firstPage = await api<Page>(bridge, 'GET', '/v1/deliveries?status=dead&limit=2');
    expect(firstPage.body.data).toHaveLength(2);
    expect(firstPage.body.nextCursor).toBeDefined();
    const seen = firstPage.body.data.map((d) => d.id);
    let cursor = firstPage.body.nextCursor;
    for (let page = 0; cursor && page < 5; page++) {
      const next = await api<Page>(
        bridge,
        'GET',
        `/v1/deliveries?status=dead&limit=2&cursor=${encodeURIComponent(cursor)}`,
      );
      seen.push(...next.body.data.map((d) => d.id));
      cursor = next.body.nextCursor;
    }
    expect(seen.sort()).toEqual(deadNames.map(deliveryId).sort());

    // A time window on the creation time: the fan-out created all of them in one millisecond.
    const createdMs = Date.parse(dead.body.data[0].createdAt);
    const inWindow = async (since: number, until: number): Promise<string[]> =>
      (
        await api<Page>(
          bridge,
          'GET',
          `/v1/deliveries?status=dead&since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}`,
        )
      ).body.data.map((d) => d.id);
    expect((await inWindow(createdMs, createdMs)).sort()).toEqual(deadNames.map(deliveryId).sort());
    expect(await inWindow(createdMs + 1, createdMs + 60_000)).toEqual([]);
    expect(await inWindow(createdMs - 60_000, createdMs - 1)).toEqual([]);
  });

  it('sends nothing more to a subscription its 410 disabled', async () => {
    const before = receiver('gone').requests.length;
    const [frame] = sim.emitScenario('balance', 'newer');
    const next = frame.uuid as string;
    await waitForDelivery(
      bridge,
      deliveryIdOf(next, subs.get('ok200')!),
      (r) => r.status === DeliveryStatus.Succeeded,
    );
    await waitFor(
      () => receiver('ok204').forWebhook(next).length === 1,
      5_000,
      'the other subscriptions',
    );
    expect(receiver('gone').requests).toHaveLength(before);
    await expect(getDelivery(bridge, deliveryIdOf(next, subs.get('gone')!))).rejects.toThrow(/404/);
  });
});
