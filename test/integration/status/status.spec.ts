import { OperationalStatsRepository } from '../../../src/metrics/operational-stats.repository';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { StatusDto } from '../../../src/status/dto/status.dto';
import {
  api,
  createSubscription,
  MAX_ATTEMPTS,
  startBridge,
  startSimulator,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

describe('GET /v1/status', () => {
  const prefix = uniquePrefix('status');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let ok: ProgrammableReceiver;
  let failing: ProgrammableReceiver;

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix);
    ok = await new ProgrammableReceiver(() => ({ status: 204 })).start();
    failing = await new ProgrammableReceiver(() => ({ status: 500 })).start();
    const a = await createSubscription(bridge, { url: ok.url(), eventTypes: ['*'] });
    const b = await createSubscription(bridge, { url: failing.url(), eventTypes: ['call.*'] });
    await waitForRegistry(bridge, [a.id, b.id]);
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await ok?.stop();
    await failing?.stop();
    await deletePrefix(prefix);
  });

  it('needs the admin key', async () => {
    expect((await api(bridge, 'GET', '/v1/status', undefined, {})).status).toBe(401);
  });

  it('reports the connection, the queues, the last hour of outcomes, subscriptions and quarantine', async () => {
    const calls = sim.emitScenario('inbound-call', 'newer').length;
    const sms = sim.emitScenario('inbound-sms', 'newer').length;
    sim.emit('not json at all');
    await waitFor(() => ok.requests.length >= calls + sms, 10_000, 'deliveries to the ok receiver');
    await waitFor(
      () => failing.requests.length >= calls,
      10_000,
      'first attempts to the failing one',
    );
    // Every retry of the failing endpoint has been made and its deliveries are dead.
    await waitForIdle(bridge);
    // Counts reach Redis every few seconds; here, at once.
    await bridge.app.get(OperationalStatsRepository).flush();

    const reply = await api<StatusDto>(bridge, 'GET', '/v1/status');
    expect(reply.status).toBe(200);
    const status = reply.body;
    expect(status.opentact.state).toBe('open');
    expect(status.opentact.connections).toHaveLength(1);
    expect(status.opentact.connections[0]).toMatchObject({ state: 'open', authenticated: true });
    // Retained: the events, and the bridge's own notice of each delivery that died.
    expect(status.events).toMatchObject({ backlog: 0, inFanOut: 0, retained: calls + sms + calls });
    expect(status.deliveries.lastHour).toEqual({
      success: calls + sms,
      retry: calls * (MAX_ATTEMPTS - 1),
      dead: calls,
      disabled: 0,
      skipped: 0,
    });
    expect(status.deliveries.perMinute).toHaveLength(60);
    const sum = status.deliveries.perMinute.reduce((n, m) => n + m.counts.success, 0);
    expect(sum).toBe(calls + sms);
    // Dead deliveries keep their job in the failed set, for retry and replay.
    expect(status.deliveries.queue).toMatchObject({ waiting: 0, delayed: 0, failed: calls });
    expect(status.subscriptions).toEqual({ total: 2, enabled: 2, disabled: 0, failing: 1 });
    expect(status.quarantine.total).toBe(1);
  });
});
