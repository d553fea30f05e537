import { randomUUID } from 'node:crypto';
import { entityStateAlias } from '../../../src/events/entity-state-alias';
import { MetricsService } from '../../../src/metrics/metrics.service';
import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import { buildFrame } from '../../../src/simulator/frame-factory';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { StatusDto } from '../../../src/status/dto/status.dto';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { OpentactRestProxy } from '../../support/rest-proxy';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

interface Delivered {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** Quick reconnects, so a refused WSS comes back within a second of being allowed. */
const FAST_LINK = { OPENTACT_RECONNECT_BASE_MS: '100', OPENTACT_RECONNECT_MAX_MS: '500' };

function delivered(receiver: ProgrammableReceiver): Delivered[] {
  return receiver.requests.map((r) => JSON.parse(r.body) as Delivered);
}

/** How many deliveries reached the receiver per entity state (`<entity id>:<type>:<state>`). */
function perEntityState(receiver: ProgrammableReceiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of delivered(receiver)) {
    const entity = event.data.callId ?? event.data.messageId;
    const key = `${String(entity)}:${event.type}:${String(event.data.state)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function counter(app: StartedApp, name: string, labels: Record<string, string> = {}) {
  const metric = await app.app.get(MetricsService).registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

function authenticated(app: StartedApp): boolean {
  return app.app.get(OpentactConnection).isAuthenticated();
}

/** Cuts the WSS of every app for `ms` and waits until each has noticed. */
async function outage(sim: OpentactSimulator, apps: StartedApp[], ms: number): Promise<void> {
  sim.refuseConnections(ms);
  await waitFor(() => apps.every((a) => !authenticated(a)), 5_000, 'the links to drop');
}

/** Records, without a frame, `sms` inbound SMS and calls that go init → ringing → live. */
function missWhileDown(sim: OpentactSimulator, sms: number, calls: number): number {
  for (let i = 0; i < sms; i++) {
    sim.recordInboundSms();
  }
  for (let i = 0; i < calls; i++) {
    const callId = sim.recordCallState('init');
    sim.recordCallState('ringing', callId);
    sim.recordCallState('live', callId);
  }
  return sms + calls * 3;
}

describe('recovery: what the WSS missed, from the REST searches', () => {
  let sim: OpentactSimulator;
  const prefixes: string[] = [];
  const apps: StartedApp[] = [];
  const receivers: ProgrammableReceiver[] = [];

  async function setUp(
    extra: Record<string, string> = {},
  ): Promise<{ app: StartedApp; receiver: ProgrammableReceiver; prefix: string }> {
    const prefix = uniquePrefix('recovery');
    prefixes.push(prefix);
    const app = await startBridge(sim, prefix, { ...FAST_LINK, ...extra });
    apps.push(app);
    const receiver = await new ProgrammableReceiver({ status: 200 }).start();
    receivers.push(receiver);
    const sub = await createSubscription(app, {
      url: receiver.url(),
      eventTypes: ['call.*', 'sms.*'],
    });
    await waitForRegistry(app, [sub.id]);
    return { app, receiver, prefix };
  }

  beforeEach(async () => {
    sim = await startSimulator();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
    await sim.stop();
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
    await Promise.all(prefixes.splice(0).map((p) => deletePrefix(p)));
  });

  it('fills a gap exactly once: every missed state delivered, recovered, nothing seen on the WSS repeated', async () => {
    const { app, receiver } = await setUp();
    const [live] = sim.emitScenario('inbound-sms', 'newer');
    await waitFor(() => receiver.requests.length === 1, 10_000, 'the live SMS');

    await outage(sim, [app], 1_500);
    const missed = missWhileDown(sim, 5, 2);
    // Sent while no client is connected: lost on the WSS, kept by Opentact.
    const [unheard] = sim.emitScenario('inbound-sms', 'older');
    await waitFor(() => authenticated(app), 10_000, 'the link to come back');
    await waitFor(() => receiver.requests.length >= 1 + missed + 1, 15_000, 'the recovered events');
    await waitForIdle(app);

    const events = delivered(receiver);
    expect(events).toHaveLength(1 + missed + 1);
    expect([...perEntityState(receiver).values()].every((n) => n === 1)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // The SMS read live is within the searched window (the margin), and still delivered once.
    expect(events.filter((e) => e.data.messageId === (live.sms as { uuid: string }).uuid)).toEqual([
      expect.objectContaining({ id: live.uuid }),
    ]);
    const recovered = events.filter((e) => e.data.recovered === true);
    expect(recovered).toHaveLength(missed + 1);
    expect(recovered.map((e) => e.type).sort()).toEqual(
      [
        ...Array<string>(6).fill('sms.inbound'),
        ...Array<string>(2).fill('call.initiated'),
        ...Array<string>(2).fill('call.ringing'),
        ...Array<string>(2).fill('call.live'),
      ].sort(),
    );
    expect(
      recovered.some((e) => e.data.messageId === (unheard.payload as { uuid: string }).uuid),
    ).toBe(true);

    const status = await api<StatusDto>(app, 'GET', '/v1/status');
    expect(status.body.recovery.lastGap).toMatchObject({
      state: 'done',
      recovered: missed + 1,
      errors: 0,
    });
    expect(status.body.recovery.lastGap?.gapSeconds).toBeGreaterThan(0);
    expect(status.body.recovery.openGaps).toBe(0);
    expect(await counter(app, 'otb_recovery_events_total', { outcome: 'appended' })).toBe(
      missed + 1,
    );
    expect(await counter(app, 'otb_recovery_gaps_total')).toBeGreaterThanOrEqual(1);
  });

  it('delivers a recovered state once when the WSS also delivers it late', async () => {
    const { app, receiver } = await setUp();
    await outage(sim, [app], 1_000);
    const sms = sim.recordInboundSms();
    await waitFor(() => authenticated(app), 10_000, 'the link to come back');
    await waitFor(() => receiver.requests.length === 1, 15_000, 'the recovered SMS');

    // The same message and state, late on the socket, under its own envelope id.
    const late = buildFrame('sms_inbound', 'newer', undefined, { smsUuid: String(sms.uuid) });
    sim.emit(late);
    sim.emitScenario('inbound-sms', 'newer');
    await waitFor(() => receiver.requests.length >= 2, 10_000, 'the next live SMS');
    await waitForIdle(app);
    const events = delivered(receiver);
    expect(events).toHaveLength(2);
    const forSms = events.filter((e) => e.data.messageId === sms.uuid);
    expect(forSms).toHaveLength(1);
    expect(forSms[0].data.recovered).toBe(true);
  });

  it('retries failed searches with backoff and still fills the gap', async () => {
    const { app, receiver } = await setUp();
    await outage(sim, [app], 1_000);
    const missed = missWhileDown(sim, 3, 1);
    sim.setSearchFault(503, 3);
    await waitFor(() => authenticated(app), 10_000, 'the link to come back');
    await waitFor(() => receiver.requests.length >= missed, 30_000, 'the recovered events');
    await waitForIdle(app);
    expect(receiver.requests).toHaveLength(missed);
    expect(await counter(app, 'otb_recovery_errors_total')).toBe(3);
    const status = await api<StatusDto>(app, 'GET', '/v1/status');
    expect(status.body.recovery.lastGap).toMatchObject({ state: 'done', errors: 3 });
  });

  it('finds a call that changed again after the window: its states within the gap are recovered', async () => {
    // No margin: the window ends where the gap does, and the call changes after that.
    const { app, receiver } = await setUp({ RECOVERY_MARGIN_SECONDS: '0' });
    await outage(sim, [app], 1_500);
    const callId = sim.recordCallState('init');
    sim.recordCallState('ringing', callId);
    // The searches fail a few times first (backoff), as a long gap paged slowly would wait.
    sim.setSearchFault(503, 2);
    await waitFor(() => authenticated(app), 10_000, 'the link to come back');
    // Answered after the gap ended, before the calls are searched: REST now shows it live.
    sim.recordCallState('live', callId);
    await waitFor(() => receiver.requests.length >= 2, 20_000, 'the recovered call states');
    await waitFor(
      async () =>
        (await api<StatusDto>(app, 'GET', '/v1/status')).body.recovery.lastGap?.state === 'done',
      20_000,
      'the recovery to finish',
    );
    await waitForIdle(app);
    const forCall = delivered(receiver).filter((e) => e.data.callId === callId);
    // (Without per-key ordering on the subscription, the two may arrive in either order.)
    expect(forCall.map((e) => e.type).sort()).toEqual(['call.initiated', 'call.ringing']);
    expect(forCall.every((e) => e.data.recovered === true)).toBe(true);
    // Neither had a duration then: REST's is as of the search.
    expect(forCall.map((e) => e.data.duration)).toEqual([undefined, undefined]);
    // The state reached after the window is not announced as recovered (the WSS was up).
    expect(receiver.requests).toHaveLength(2);
  });

  it('recovers the sent state of an SMS REST shows delivered, and its delivery when that is an event of its own', async () => {
    const { app, receiver } = await setUp();
    await outage(sim, [app], 1_000);
    const messageId = randomUUID();
    const now = Date.now();
    // Sent and delivered while the socket was down (reference §4.9); REST has the latest state.
    sim.history.recordSms(
      {
        uuid: messageId,
        created_on: new Date(now - 500).toISOString(),
        modified_on: new Date(now).toISOString(),
        from: '18382050008',
        to: '14158531285',
        thread: '6c7229a4d21945d0cfabe334803064a5',
        message: 'Hello world',
        state: 'success',
        delivered: true,
        readed: false,
        reference_id: `ref-${messageId.slice(0, 8)}`,
        tn: { tn: 18382050008 },
      },
      'outbound',
    );
    await waitFor(() => authenticated(app), 10_000, 'the link to come back');
    await waitFor(
      async () =>
        (await api<StatusDto>(app, 'GET', '/v1/status')).body.recovery.lastGap?.state === 'done',
      15_000,
      'the recovery to finish',
    );
    await waitForIdle(app);
    const forSms = delivered(receiver).filter((e) => e.data.messageId === messageId);
    // Whether the delivery is an event apart from the sending is the SMS identity's to say.
    const identity = (delivered: boolean) =>
      entityStateAlias('sms.outbound', { messageId, state: 'success', delivered });
    const apart = identity(false) !== identity(true);
    // (In either order: the subscription does not ask for per-key ordering.)
    const states = forSms.map((e) => [e.type, e.data.delivered, e.data.recovered]);
    expect(states.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
      ['sms.outbound', false, true],
      ...(apart ? [['sms.outbound', true, true]] : []),
    ]);
  });

  it('logs in again when a search answers 401, and fills the gap', async () => {
    const proxy = await new OpentactRestProxy(sim.restUrl).start();
    try {
      const { app, receiver } = await setUp({ OPENTACT_REST_URL: proxy.restUrl });
      const loginsBefore = proxy.logins;
      await outage(sim, [app], 1_000);
      const missed = missWhileDown(sim, 2, 1);
      // Opentact no longer takes the token the bridge holds (expired early, or revoked).
      expect(proxy.revokeTokensSeen(/\/search\//)).toBeGreaterThan(0);
      await waitFor(() => authenticated(app), 10_000, 'the link to come back');
      await waitFor(() => receiver.requests.length >= missed, 15_000, 'the recovered events');
      await waitForIdle(app);
      expect(receiver.requests).toHaveLength(missed);
      expect(proxy.logins).toBeGreaterThan(loginsBefore);
      const searches = proxy.requests.filter((r) => r.path.includes('/search/'));
      expect(searches.filter((r) => r.status === 401)).toHaveLength(1);
      const status = await api<StatusDto>(app, 'GET', '/v1/status');
      expect(status.body.recovery.lastGap).toMatchObject({ state: 'done', errors: 1 });
      expect(await counter(app, 'otb_recovery_errors_total')).toBe(1);
    } finally {
      await proxy.stop();
    }
  });

  it('recovers, after a restart, the time the process was away with its link down', async () => {
    const { app, receiver, prefix } = await setUp();
    await outage(sim, [app], 60_000);
    await app.app.close();
    apps.splice(apps.indexOf(app), 1);
    const missed = missWhileDown(sim, 4, 1);
    sim.refuseConnections(0);

    const restarted = await startBridge(sim, prefix, FAST_LINK);
    apps.push(restarted);
    await waitFor(() => receiver.requests.length >= missed, 15_000, 'the recovered events');
    await waitForIdle(restarted);
    expect(receiver.requests).toHaveLength(missed);
    expect(delivered(receiver).every((e) => e.data.recovered === true)).toBe(true);
  });

  it('has two ingest processes recover a gap once between them', async () => {
    // No margin: a stretch searched twice would show as duplicates.
    const noMargin = { RECOVERY_MARGIN_SECONDS: '0' };
    const { app, receiver, prefix } = await setUp(noMargin);
    const second = await startBridge(sim, prefix, {
      ...FAST_LINK,
      ...noMargin,
      APP_ROLE: 'ingest',
    });
    apps.push(second);
    await outage(sim, [app, second], 1_500);
    const missed = missWhileDown(sim, 10, 2);
    await waitFor(
      () => authenticated(app) && authenticated(second),
      10_000,
      'both links to come back',
    );
    await waitFor(() => receiver.requests.length >= missed, 15_000, 'the recovered events');
    await waitFor(
      async () =>
        (await counter(app, 'otb_recovery_events_total')) +
          (await counter(second, 'otb_recovery_events_total')) >=
        missed,
      10_000,
      'both recoveries to finish',
    );
    await waitForIdle(app);
    expect(receiver.requests).toHaveLength(missed);
    expect([...perEntityState(receiver).values()].every((n) => n === 1)).toBe(true);
    // Each missed state was read by one process only: the other claimed nothing, or only the
    // moments between the two reconnects.
    const read = async (outcome: string): Promise<number> =>
      (await counter(app, 'otb_recovery_events_total', { outcome })) +
      (await counter(second, 'otb_recovery_events_total', { outcome }));
    expect(await read('appended')).toBe(missed);
    expect(await read('duplicate')).toBe(0);
  });
});
