import { Webhook as SvixWebhook } from 'svix';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { DeliveryRecord } from '../../src/delivery/delivery.model';
import { EventLog } from '../../src/events/event-log';
import { OpentactConnection } from '../../src/platform/opentact-connection.service';
import { DeliveryQueue } from '../../src/queue/delivery-queue';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import type {
  CreatedSubscriptionResponseDto,
  SubscriptionResponseDto,
} from '../../src/subscriptions/dto/subscription-response.dto';
import { SubscriptionRegistry } from '../../src/subscriptions/subscription-registry.service';
import { adminHeaders, startApp, type StartedApp, waitFor } from './harness';
import { opentactEnv } from './simulator-login';
import type { RecordedRequest } from './webhook-receivers';

/** A compressed schedule: 4 attempts over 1.2 s instead of 8 over a day and a half. */
export const FAST_SCHEDULE = ['200ms', '400ms', '600ms'];
export const MAX_ATTEMPTS = FAST_SCHEDULE.length + 1;

/** The whole service (APP_ROLE all) against a simulator, with the retry schedule compressed. */
export function deliveryEnv(
  sim: OpentactSimulator,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    APP_ROLE: 'all',
    ...opentactEnv(sim),
    QUEUE_PREFIX: prefix,
    DELIVERY_RETRY_SCHEDULE: FAST_SCHEDULE.join(','),
    DELIVERY_RETRY_JITTER: '0',
    DELIVERY_TIMEOUT_MS: '2000',
    ...extra,
  };
}

/** Starts the service and waits until its WSS is authenticated, so emitted frames are read. */
export async function startBridge(
  sim: OpentactSimulator,
  prefix: string,
  extra: Record<string, string> = {},
): Promise<StartedApp> {
  const started = await startApp(deliveryEnv(sim, prefix, extra));
  if (extra.APP_ROLE === undefined || extra.APP_ROLE === 'all' || extra.APP_ROLE === 'ingest') {
    await waitFor(
      () => started.app.get(OpentactConnection).isAuthenticated(),
      10_000,
      'the bridge to authenticate with the simulator',
    );
  }
  return started;
}

export interface ApiReply<T> {
  status: number;
  body: T;
}

/** One admin API call over real HTTP; `headers: {}` sends no key at all. */
export async function api<T = Record<string, unknown>>(
  started: Pick<StartedApp, 'url'>,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = adminHeaders(),
): Promise<ApiReply<T>> {
  const res = await fetch(`${started.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics): keep the text
  }
  return { status: res.status, body: parsed as T };
}

export interface FieldError {
  field: string;
  problems: string[];
}

export interface ValidationReply {
  statusCode: number;
  message: string;
  errors?: FieldError[];
}

export async function createSubscription(
  started: StartedApp,
  body: Record<string, unknown>,
): Promise<CreatedSubscriptionResponseDto> {
  const reply = await api<CreatedSubscriptionResponseDto>(
    started,
    'POST',
    '/v1/subscriptions',
    body,
  );
  if (reply.status !== 201) {
    throw new Error(`create subscription: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

export async function getSubscription(
  started: StartedApp,
  id: string,
): Promise<SubscriptionResponseDto> {
  const reply = await api<SubscriptionResponseDto>(started, 'GET', `/v1/subscriptions/${id}`);
  expect(reply.status).toBe(200);
  return reply.body;
}

/**
 * Waits until the fan-out's snapshot holds exactly these enabled subscriptions: a change reaches
 * it by pub/sub a moment after the API answered, and an event fanned out before that would miss.
 */
export async function waitForRegistry(started: StartedApp, ids: string[]): Promise<void> {
  const registry = started.app.get(SubscriptionRegistry);
  const wanted = [...ids].sort().join(',');
  await waitFor(
    async () =>
      (await registry.getEnabled())
        .map((s) => s.id)
        .sort()
        .join(',') === wanted,
    5_000,
    `the registry to hold ${ids.length} subscriptions`,
  );
}

export async function getDelivery(started: StartedApp, id: string): Promise<DeliveryRecord> {
  const reply = await api<DeliveryRecord>(started, 'GET', `/v1/deliveries/${id}`);
  if (reply.status !== 200) {
    throw new Error(`get delivery ${id}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

/** Polls GET /v1/deliveries/:id until `done` holds. */
export async function waitForDelivery(
  started: StartedApp,
  id: string,
  done: (record: DeliveryRecord) => boolean,
  timeoutMs = 10_000,
  what = `delivery ${id}`,
): Promise<DeliveryRecord> {
  return waitFor(
    async () => {
      const reply = await api<DeliveryRecord>(started, 'GET', `/v1/deliveries/${id}`);
      return reply.status === 200 && done(reply.body) ? reply.body : undefined;
    },
    timeoutMs,
    what,
  );
}

/** Verifies a received webhook with both official libraries; throws if either refuses it. */
export function verifyWithBothLibraries(secret: string, request: RecordedRequest): void {
  const headers = {
    'webhook-id': request.headers['webhook-id'] ?? '',
    'webhook-timestamp': request.headers['webhook-timestamp'] ?? '',
    'webhook-signature': request.headers['webhook-signature'] ?? '',
  };
  new StandardWebhook(secret).verify(request.body, headers);
  new SvixWebhook(secret).verify(request.body, headers);
}

/**
 * Waits until the fan-out has read and finished every event in the log and no delivery job is
 * waiting, running or delayed: everything sent so far has had its attempts.
 */
export async function waitForIdle(started: StartedApp, timeoutMs = 10_000): Promise<void> {
  const log = started.app.get(EventLog);
  const queue = started.app.get(DeliveryQueue);
  await waitFor(
    async () => {
      const [stats, jobs] = await Promise.all([log.stats(), queue.counts()]);
      return (
        stats.backlog === 0 &&
        stats.pending === 0 &&
        jobs.waiting + jobs.active + jobs.delayed + jobs.prioritized === 0
      );
    },
    timeoutMs,
    'the event log and the deliveries queue to drain',
  );
}

/** A fresh simulator on an ephemeral port. */
export async function startSimulator(): Promise<OpentactSimulator> {
  const sim = new OpentactSimulator({ port: 0 });
  await sim.start();
  return sim;
}
