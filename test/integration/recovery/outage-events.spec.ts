import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  createSubscription,
  startBridge,
  startSimulator,
  verifyWithBothLibraries,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import { ProgrammableReceiver } from '../../support/webhook-receivers';

interface OpsEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

const FAST = {
  OPENTACT_RECONNECT_BASE_MS: '100',
  OPENTACT_RECONNECT_MAX_MS: '500',
  OPS_DISCONNECT_ALERT_SECONDS: '1',
};

describe('operational events: bridge.opentact.disconnected and reconnected', () => {
  const prefix = uniquePrefix('recovery-ops');
  let sim: OpentactSimulator;
  const apps: StartedApp[] = [];
  let ops: ProgrammableReceiver;
  let catchAll: ProgrammableReceiver;
  let opsSecret: string;

  const opsEvents = (): OpsEvent[] => ops.requests.map((r) => JSON.parse(r.body) as OpsEvent);
  const authenticated = (a: StartedApp): boolean => a.app.get(OpentactConnection).isAuthenticated();

  beforeAll(async () => {
    sim = await startSimulator();
    // Two ingest processes: each notice must still go out once.
    apps.push(await startBridge(sim, prefix, FAST));
    apps.push(await startBridge(sim, prefix, { ...FAST, APP_ROLE: 'ingest' }));
    ops = await new ProgrammableReceiver({ status: 200 }).start();
    catchAll = await new ProgrammableReceiver({ status: 200 }).start();
    const sub = await createSubscription(apps[0], {
      url: ops.url(),
      eventTypes: ['bridge.opentact.disconnected', 'bridge.opentact.reconnected'],
    });
    opsSecret = sub.secret;
    const all = await createSubscription(apps[0], { url: catchAll.url(), eventTypes: ['*'] });
    await waitForRegistry(apps[0], [sub.id, all.id]);
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.app.close()));
    await sim?.stop();
    await ops?.stop();
    await catchAll?.stop();
    await deletePrefix(prefix);
  });

  it('says nothing about a drop shorter than OPS_DISCONNECT_ALERT_SECONDS', async () => {
    sim.dropAll();
    await waitFor(() => apps.every(authenticated), 10_000, 'both links back');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await waitForIdle(apps[0]);
    expect(opsEvents()).toEqual([]);
  });

  it('announces an outage once, and its end once with its length, from two ingest processes', async () => {
    sim.refuseConnections(4_000);
    await waitFor(() => apps.every((a) => !authenticated(a)), 5_000, 'both links to drop');
    await waitFor(
      () => opsEvents().some((e) => e.type === 'bridge.opentact.disconnected'),
      10_000,
      'the disconnected notice',
    );
    await waitFor(() => apps.every(authenticated), 15_000, 'both links back');
    await waitFor(
      () => opsEvents().some((e) => e.type === 'bridge.opentact.reconnected'),
      10_000,
      'the reconnected notice',
    );
    // Both processes had time to announce twice, had they been allowed to.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await waitForIdle(apps[0]);
    const events = opsEvents();
    expect(events.map((e) => e.type)).toEqual([
      'bridge.opentact.disconnected',
      'bridge.opentact.reconnected',
    ]);
    const [down, up] = events;
    expect(down.data).toMatchObject({ alertAfterSeconds: 1 });
    expect(down.data.downSeconds).toBeGreaterThanOrEqual(1);
    expect(up.data.disconnectedAt).toBe(down.data.disconnectedAt);
    expect(up.data.outageSeconds).toBeGreaterThanOrEqual(3);
    expect(up.data.outageSeconds).toBeLessThan(30);
    verifyWithBothLibraries(opsSecret, ops.requests[0]);
    // Operator noise never reaches a "*" subscription.
    expect(catchAll.requests.map((r) => (JSON.parse(r.body) as OpsEvent).type)).not.toContain(
      'bridge.opentact.disconnected',
    );
  });
});
