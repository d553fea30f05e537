import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { Clock } from '../common/clock';
import {
  EndpointHealth,
  type EndpointHealthStore,
  MAX_SLOW_INLINE,
  SLOW_ATTEMPT_MS,
  SUCCESS_WRITE_INTERVAL_MS,
} from './endpoint-health';
import type { OperationalEvents, SubscriptionDisabledData } from './operational-events';

const DISABLE_AFTER_MS = 60_000;
const START = Date.parse('2026-03-01T12:00:00.000Z');

/** EndpointHealth over a settable clock and a store double that records every call. */
function setUp(opts: { failingSince?: string | null; disables?: boolean } = {}) {
  let nowMs = START;
  const clock: Clock = { now: () => new Date(nowMs) };
  const calls = {
    successes: [] as { id: string; at: number }[],
    failures: [] as { id: string; at: number }[],
    disables: [] as { id: string; reason: string; at: number }[],
    notices: [] as SubscriptionDisabledData[],
  };
  const store: EndpointHealthStore = {
    recordSuccess: (id, at) => {
      calls.successes.push({ id, at: at.getTime() });
      return Promise.resolve();
    },
    recordFailure: (id, at) => {
      calls.failures.push({ id, at: at.getTime() });
      return Promise.resolve({ failingSince: opts.failingSince ?? null });
    },
    disable: (id, reason, at) => {
      calls.disables.push({ id, reason, at: at.getTime() });
      return Promise.resolve(opts.disables ?? true);
    },
  };
  const operational = {
    subscriptionDisabled: (data: SubscriptionDisabledData) => {
      calls.notices.push(data);
      return Promise.resolve();
    },
  } as unknown as OperationalEvents;
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const metrics = new MetricsService();
  const config = { delivery: { disableAfterMs: DISABLE_AFTER_MS } } as AppConfig;
  const health = new EndpointHealth(config, store, metrics, operational, clock, logger);
  const disabledCount = async (reason: string): Promise<number> =>
    (await metrics.subscriptionsDisabled.get()).values.find((v) => v.labels.reason === reason)
      ?.value ?? 0;
  return {
    health,
    calls,
    logs,
    disabledCount,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('EndpointHealth: the inline decision', () => {
  it('lets an endpoint with nothing in flight and no failure be attempted inline', () => {
    const { health } = setUp();
    expect(health.canAttemptInline('sub_1')).toBe(true);
  });

  it('sends an endpoint whose last attempt failed through the queue until one succeeds', () => {
    const { health } = setUp();
    health.finished(health.started('sub_1'), false);
    expect(health.canAttemptInline('sub_1')).toBe(false);
    expect(health.canAttemptInline('sub_2')).toBe(true);
    health.finished(health.started('sub_1'), true);
    expect(health.canAttemptInline('sub_1')).toBe(true);
  });

  it('counts attempts as slow only once they have been in flight longer than SLOW_ATTEMPT_MS', () => {
    const { health, advance } = setUp();
    expect(MAX_SLOW_INLINE).toBe(2);
    health.started('sub_1');
    health.started('sub_1');
    advance(SLOW_ATTEMPT_MS);
    // Exactly at the threshold they are not slow yet.
    expect(health.canAttemptInline('sub_1')).toBe(true);
    advance(1);
    expect(health.canAttemptInline('sub_1')).toBe(false);
    expect(health.canAttemptInline('sub_2')).toBe(true);
  });

  it('needs two slow attempts at once: one slow attempt alone keeps the endpoint inline', () => {
    const { health, advance } = setUp();
    health.started('sub_1');
    advance(SLOW_ATTEMPT_MS + 1);
    // A fresh attempt beside the slow one is not slow.
    health.started('sub_1');
    expect(health.canAttemptInline('sub_1')).toBe(true);
    advance(SLOW_ATTEMPT_MS + 1);
    expect(health.canAttemptInline('sub_1')).toBe(false);
  });

  it('forgets attempts that finished, each by its own ticket', () => {
    const { health, advance } = setUp();
    const first = health.started('sub_1');
    const second = health.started('sub_1');
    const third = health.started('sub_1');
    expect(new Set([first.key, second.key, third.key]).size).toBe(3);
    expect(first.subscriptionId).toBe('sub_1');
    advance(SLOW_ATTEMPT_MS + 1);
    health.finished(first, true);
    expect(health.canAttemptInline('sub_1')).toBe(false);
    health.finished(second, true);
    expect(health.canAttemptInline('sub_1')).toBe(true);
    health.finished(third, true);
    // Nothing in flight any more: later attempts start a fresh count.
    health.started('sub_1');
    expect(health.canAttemptInline('sub_1')).toBe(true);
  });

  it('holds nothing for a subscription once its attempts are done (memory stays bounded)', () => {
    const { health } = setUp();
    const inflight = (health as unknown as { inflight: Map<string, unknown> }).inflight;
    const tickets = ['sub_1', 'sub_1', 'sub_2'].map((id) => health.started(id));
    expect([...inflight.keys()].sort()).toEqual(['sub_1', 'sub_2']);
    tickets.forEach((t) => health.finished(t, true));
    expect(inflight.size).toBe(0);
  });

  it('tolerates a ticket finished twice', () => {
    const { health } = setUp();
    const ticket = health.started('sub_1');
    health.finished(ticket, true);
    health.finished(ticket, false);
    expect(health.canAttemptInline('sub_1')).toBe(false);
  });
});

describe('EndpointHealth: success writes', () => {
  it('writes a success at once, then at most once per SUCCESS_WRITE_INTERVAL_MS per subscription', async () => {
    const { health, calls, advance } = setUp();
    await health.succeeded('sub_1');
    await health.succeeded('sub_2');
    advance(SUCCESS_WRITE_INTERVAL_MS - 1);
    await health.succeeded('sub_1');
    expect(calls.successes).toEqual([
      { id: 'sub_1', at: START },
      { id: 'sub_2', at: START },
    ]);
    advance(1);
    await health.succeeded('sub_1');
    expect(calls.successes).toEqual([
      { id: 'sub_1', at: START },
      { id: 'sub_2', at: START },
      { id: 'sub_1', at: START + SUCCESS_WRITE_INTERVAL_MS },
    ]);
  });
});

describe('EndpointHealth: failure runs and auto-disable', () => {
  it('records the failure and does nothing more while the run is not failing yet', async () => {
    const { health, calls, disabledCount } = setUp({ failingSince: null });
    await expect(health.failed('sub_1')).resolves.toBeUndefined();
    expect(calls.failures).toEqual([{ id: 'sub_1', at: START }]);
    expect(calls.disables).toEqual([]);
    expect(await disabledCount('failing')).toBe(0);
  });

  it('keeps a subscription failing for less than DELIVERY_DISABLE_AFTER', async () => {
    const since = new Date(START - DISABLE_AFTER_MS + 1).toISOString();
    const { health, calls } = setUp({ failingSince: since });
    await expect(health.failed('sub_1')).resolves.toBeUndefined();
    expect(calls.disables).toEqual([]);
    expect(calls.notices).toEqual([]);
  });

  it('disables a subscription failing for DELIVERY_DISABLE_AFTER, counts it and announces it', async () => {
    const since = new Date(START - DISABLE_AFTER_MS).toISOString();
    const { health, calls, logs, disabledCount } = setUp({ failingSince: since });
    const reason = `failing without a success since ${since}`;
    await expect(health.failed('sub_1')).resolves.toBe(reason);
    expect(calls.disables).toEqual([{ id: 'sub_1', reason, at: START }]);
    expect(await disabledCount('failing')).toBe(1);
    expect(await disabledCount('gone')).toBe(0);
    expect(calls.notices).toEqual([
      {
        subscriptionId: 'sub_1',
        reason,
        cause: 'failing',
        disabledAt: new Date(START).toISOString(),
      },
    ]);
    const warning = logs.find((l) => l.msg === 'subscription disabled: failing for too long');
    expect(warning).toMatchObject({
      level: 40,
      component: 'endpoint-health',
      subscriptionId: 'sub_1',
      failingSince: since,
    });
  });

  it('leaves counting and announcing to the process whose disable took effect', async () => {
    const since = new Date(START - 2 * DISABLE_AFTER_MS).toISOString();
    const { health, calls, logs, disabledCount } = setUp({ failingSince: since, disables: false });
    await expect(health.failed('sub_1')).resolves.toBeUndefined();
    expect(calls.disables).toHaveLength(1);
    expect(await disabledCount('failing')).toBe(0);
    expect(calls.notices).toEqual([]);
    expect(logs.filter((l) => l.level === 40)).toEqual([]);
  });
});

describe('EndpointHealth: 410 Gone', () => {
  it('disables the subscription at once, counts it as gone and announces it', async () => {
    const { health, calls, logs, disabledCount } = setUp();
    await health.gone('sub_1', 'endpoint answered 410 Gone');
    expect(calls.disables).toEqual([
      { id: 'sub_1', reason: 'endpoint answered 410 Gone', at: START },
    ]);
    expect(await disabledCount('gone')).toBe(1);
    expect(await disabledCount('failing')).toBe(0);
    expect(calls.notices).toEqual([
      {
        subscriptionId: 'sub_1',
        reason: 'endpoint answered 410 Gone',
        cause: 'gone',
        disabledAt: new Date(START).toISOString(),
      },
    ]);
    const warning = logs.find((l) => l.msg === 'subscription disabled: endpoint is gone');
    expect(warning).toMatchObject({
      level: 40,
      component: 'endpoint-health',
      subscriptionId: 'sub_1',
      reason: 'endpoint answered 410 Gone',
    });
  });

  it('neither counts nor announces when the subscription was already disabled', async () => {
    const { health, calls, logs, disabledCount } = setUp({ disables: false });
    await health.gone('sub_1', 'endpoint answered 410 Gone');
    expect(calls.disables).toHaveLength(1);
    expect(await disabledCount('gone')).toBe(0);
    expect(calls.notices).toEqual([]);
    expect(logs.filter((l) => l.level === 40)).toEqual([]);
  });
});
