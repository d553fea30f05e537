import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/harness';
import { createSubscription, E2E_ADMIN_KEY, opentactEnv, until } from '../support/e2e-env';
import { waitForSubscriptions } from '../support/service-conditions';
import {
  killAllServices,
  metricSum,
  parseMetrics,
  type Sample,
  type ServiceProcess,
  startService,
} from '../support/process-harness';
import { RecordingReceiver } from '../support/recording-receiver';

/** Every series the issue lists, with its Prometheus type. */
const SERIES: Record<string, string> = {
  otb_frames_received_total: 'counter',
  otb_events_enqueued_total: 'counter',
  otb_events_duplicates_total: 'counter',
  otb_frames_quarantined_total: 'counter',
  otb_opentact_connection_state: 'gauge',
  otb_opentact_reconnects_total: 'counter',
  otb_opentact_auth_failures_total: 'counter',
  otb_deliveries_total: 'counter',
  otb_delivery_attempt_duration_seconds: 'histogram',
  otb_end_to_end_latency_seconds: 'histogram',
  otb_queue_jobs: 'gauge',
  otb_subscriptions_disabled_total: 'counter',
};

/**
 * Scrapes /metrics of a real process (APP_ROLE=all) before and after a flow that exercises every
 * path: events, a duplicate, a quarantined frame, deliveries that succeed, fail with 500 and hit a
 * 410, a dropped socket and a refused authentication.
 */
describe('/metrics of the real service moves with the traffic', () => {
  const prefix = uniquePrefix('e2e-metrics');
  let sim: OpentactSimulator;
  let receiver: RecordingReceiver;
  let app: ServiceProcess;

  const scrape = async (): Promise<{ samples: Sample[]; types: Map<string, string> }> => {
    const answer = await app.get<string>('/metrics');
    expect(answer.status).toBe(200);
    return parseMetrics(answer.body);
  };

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0 });
    receiver = new RecordingReceiver({
      ok: { status: 204 },
      fail: { status: 500 },
      gone: { status: 410 },
    });
    await Promise.all([sim.start(), receiver.start()]);
    app = await startService({
      name: 'all',
      env: {
        APP_ROLE: 'all',
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        ADMIN_API_KEY: E2E_ADMIN_KEY,
        // The failed delivery then waits in `delayed`, where the queue-depth gauge can see it.
        DELIVERY_RETRY_SCHEDULE: '10m',
        LOG_LEVEL: 'info',
        ...opentactEnv(sim),
      },
    });
  });

  afterAll(async () => {
    await killAllServices();
    await Promise.all([sim?.stop(), receiver?.stop()]);
    await deletePrefix(prefix);
  });

  it('exposes every listed series, and each moves as the events flow', async () => {
    await app.waitForReady(200);
    await Promise.all([
      createSubscription(app, { url: receiver.url('ok'), eventTypes: ['*'] }),
      createSubscription(app, { url: receiver.url('fail'), eventTypes: ['call.*'] }),
      createSubscription(app, { url: receiver.url('gone'), eventTypes: ['account.*'] }),
    ]);
    await waitForSubscriptions(app, 3);
    const before = await scrape();
    for (const [name, type] of Object.entries(SERIES)) {
      expect({ name, type: before.types.get(name) }).toEqual({ name, type });
    }
    expect(metricSum(before.samples, 'otb_opentact_connection_state', { state: 'open' })).toBe(1);

    const calls = sim.emitScenario('inbound-call');
    sim.emit(calls[0]); // the same uuid again: suppressed
    sim.emitScenario('balance');
    sim.emit('{"type": "call_state", not json');
    const events = calls.length + 1;

    await until(
      () =>
        new Set(receiver.on('ok').map((w) => w.webhookId)).size === events &&
        receiver.on('fail').length === calls.length &&
        receiver.on('gone').length === 1,
      20_000,
      'every delivery attempt',
    );
    // A dropped socket (reconnect) and a refused authentication.
    sim.dropAll();
    await until(() => sim.stats.authenticated === 1, 10_000, 'reconnection');
    sim.setAuthMode('refuse');
    sim.dropAll();
    await until(() => sim.stats.authRefused > 0, 10_000, 'a refused auth');
    sim.setAuthMode('accept');
    await app.waitForReady(200, 15_000);

    let after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}): number =>
      metricSum(after.samples, name, labels) - metricSum(before.samples, name, labels);
    await until(
      async () => {
        after = await scrape();
        return delta('otb_deliveries_total') >= events + calls.length + 1;
      },
      10_000,
      'delivery counters to settle',
    );

    const moved = {
      framesCall: delta('otb_frames_received_total', { frame_type: 'call_state' }),
      framesBalance: delta('otb_frames_received_total', { frame_type: 'balance' }),
      framesInvalid: delta('otb_frames_received_total', { frame_type: 'invalid' }),
      enqueued: delta('otb_events_enqueued_total'),
      enqueuedCallLive: delta('otb_events_enqueued_total', { event_type: 'call.live' }),
      duplicates: delta('otb_events_duplicates_total'),
      quarantinedNotJson: delta('otb_frames_quarantined_total', { reason: 'not_json' }),
      success2xx: delta('otb_deliveries_total', { outcome: 'success', status_class: '2xx' }),
      retry5xx: delta('otb_deliveries_total', { outcome: 'retry', status_class: '5xx' }),
      disabled4xx: delta('otb_deliveries_total', { outcome: 'disabled', status_class: '4xx' }),
      attempts2xx: delta('otb_delivery_attempt_duration_seconds_count', { status_class: '2xx' }),
      attempts5xx: delta('otb_delivery_attempt_duration_seconds_count', { status_class: '5xx' }),
      endToEnd: delta('otb_end_to_end_latency_seconds_count'),
      disabledGone: delta('otb_subscriptions_disabled_total', { reason: 'gone' }),
    };
    expect(moved).toEqual({
      framesCall: calls.length + 1,
      framesBalance: 1,
      framesInvalid: 1,
      enqueued: events,
      enqueuedCallLive: 1,
      duplicates: 1,
      quarantinedNotJson: 1,
      success2xx: events,
      retry5xx: calls.length,
      disabled4xx: 1,
      attempts2xx: events,
      attempts5xx: calls.length,
      endToEnd: events,
      disabledGone: 1,
    });
    expect(delta('otb_opentact_reconnects_total')).toBeGreaterThanOrEqual(2);
    expect(delta('otb_opentact_auth_failures_total')).toBeGreaterThanOrEqual(1);
    expect(metricSum(after.samples, 'otb_opentact_connection_state', { state: 'open' })).toBe(1);
    expect(metricSum(after.samples, 'otb_opentact_connection_state')).toBe(1);
    expect(delta('otb_end_to_end_latency_seconds_sum')).toBeGreaterThan(0);
    expect(
      metricSum(after.samples, 'otb_end_to_end_latency_seconds_bucket', { le: '+Inf' }),
    ).toBeGreaterThanOrEqual(events);

    // Queue depth per state, read from Redis at scrape time: the 500s wait for their retry.
    expect(
      metricSum(after.samples, 'otb_queue_jobs', { queue: 'deliveries', state: 'delayed' }),
    ).toBe(calls.length);
    // The event log holds every event (retained), plus the bridge's own notice that the 410
    // disabled a subscription; none is waiting for or inside the fan-out.
    expect(metricSum(after.samples, 'otb_event_log_entries')).toBe(events + 1);
    expect(metricSum(after.samples, 'otb_events_backlog')).toBe(0);
    expect(metricSum(after.samples, 'otb_events_in_fan_out')).toBe(0);
    const states = new Set(
      after.samples.filter((s) => s.name === 'otb_queue_jobs').map((s) => s.labels.state),
    );
    expect([...states].sort()).toEqual(
      ['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting'].sort(),
    );
  });
});
