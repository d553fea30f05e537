import { Redis } from 'ioredis';
import { EventLog } from '../../../src/events/event-log';
import { QuarantineReason } from '../../../src/events/normalized-event';
import { QuarantineRepository } from '../../../src/events/quarantine.repository';
import { MetricsService } from '../../../src/metrics/metrics.service';
import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import { parseWebhookBody } from '../../../src/events/webhook-body';
import { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import { ALL_FRAMES } from '../../fixtures/opentact-frames';
import { startRedisServer } from '../../../scripts/redis-provider';
import {
  deletePrefix,
  startApp,
  type StartedApp,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { opentactEnv, SIMULATOR_LOGIN } from '../../support/simulator-login';

const ingestEnv = (sim: OpentactSimulator, prefix: string, extra: Record<string, string> = {}) => ({
  APP_ROLE: 'ingest',
  ...opentactEnv(sim),
  OPENTACT_SUBSCRIBE: 'call_state,sms',
  QUEUE_PREFIX: prefix,
  ...extra,
});

async function counterValue(app: StartedApp, name: string): Promise<number> {
  const metric = await app.app.get(MetricsService).registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

function eventLog(app: StartedApp): EventLog {
  return app.app.get(EventLog);
}

async function logged(app: StartedApp): Promise<number> {
  return (await eventLog(app).stats()).length;
}

/** Every event in the log, oldest first. */
async function loggedEvents(app: StartedApp): Promise<ReturnType<typeof parseWebhookBody>[]> {
  return (await eventLog(app).readAfter(undefined, 10_000)).map((e) => parseWebhookBody(e.body));
}

describe('ingest: Opentact WSS to the event log', () => {
  let sim: OpentactSimulator;
  const prefixes: string[] = [];
  const apps: StartedApp[] = [];

  beforeEach(async () => {
    sim = new OpentactSimulator({ port: 0 });
    await sim.start();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
    await sim.stop();
    await Promise.all(prefixes.splice(0).map((p) => deletePrefix(p)));
  });

  it('logs in, authenticates, subscribes and enqueues every kind in both generations with the right type', async () => {
    const prefix = uniquePrefix('ingest');
    prefixes.push(prefix);
    const app = await startApp(ingestEnv(sim, prefix));
    apps.push(app);
    await waitFor(
      () => app.app.get(OpentactConnection).isAuthenticated(),
      10_000,
      'authentication',
    );
    // OPENTACT_SUBSCRIBE is ensured right after the handshake.
    await waitFor(() => sim.stats.subscriptions.length >= 2, 5_000, 'subscriptions ensured');
    expect(sim.stats.subscriptions).toEqual(expect.arrayContaining(['call_state', 'sms']));

    const published = ALL_FRAMES.filter((f) => f.frame.type !== 'auth');
    for (const fixture of published) {
      sim.emit(fixture.frame);
    }
    await waitFor(
      async () => (await logged(app)) >= published.length,
      10_000,
      'all fixtures appended',
    );
    expect(await logged(app)).toBe(published.length);

    const events = await loggedEvents(app);
    // Appended in the order they were read off the socket.
    expect(events.map((e) => e.type)).toEqual(published.map((f) => f.expectedType));
    for (const entry of await eventLog(app).readAfter(undefined, 1_000)) {
      expect(entry.body).not.toContain(SIMULATOR_LOGIN.password);
    }
  });

  it('enqueues each event once when two ingest replicas are connected at the same time', async () => {
    const prefix = uniquePrefix('ingest-dedup');
    prefixes.push(prefix);
    const first = await startApp(ingestEnv(sim, prefix));
    const second = await startApp(ingestEnv(sim, prefix));
    apps.push(first, second);
    await waitFor(() => sim.stats.authenticated >= 2, 10_000, 'both replicas authenticated');

    const frames = [...sim.emitScenario('all', 'newer'), ...sim.emitScenario('all', 'older')];
    const unique = frames.length;
    await waitFor(
      async () =>
        (await counterValue(first, 'otb_events_duplicates_total')) +
          (await counterValue(second, 'otb_events_duplicates_total')) >=
        unique,
      10_000,
      'every frame seen twice',
    );
    expect(await logged(first)).toBe(unique);
    const enqueued =
      (await counterValue(first, 'otb_events_enqueued_total')) +
      (await counterValue(second, 'otb_events_enqueued_total'));
    expect(enqueued).toBe(unique);

    // The same frame again (a reconnect replay) is still a duplicate.
    sim.emit(frames[0]);
    await waitFor(
      async () =>
        (await counterValue(first, 'otb_events_duplicates_total')) +
          (await counterValue(second, 'otb_events_duplicates_total')) >=
        unique + 2,
      5_000,
      'replayed frame suppressed',
    );
    expect(await logged(first)).toBe(unique);
    expect(new Set((await loggedEvents(first)).map((e) => e.id)).size).toBe(unique);
  });

  it('quarantines binary, non-JSON, oversized and invalid frames with their raw bytes, and keeps the connection', async () => {
    const prefix = uniquePrefix('ingest-quarantine');
    prefixes.push(prefix);
    const app = await startApp(ingestEnv(sim, prefix, { OPENTACT_MAX_FRAME_BYTES: '2048' }));
    apps.push(app);
    await waitFor(
      () => app.app.get(OpentactConnection).isAuthenticated(),
      10_000,
      'authentication',
    );

    sim.emit(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    sim.emit('this is { not json');
    sim.emit(JSON.stringify({ type: 'sms', payload: 'x'.repeat(3000) }));
    sim.emit(
      JSON.stringify({ type: 'balance', timestamp: '2022-07-04T16:47:39.665Z', payload: 'lots' }),
    );
    sim.emit(JSON.stringify([1, 2, 3]));
    sim.emitScenario('balance', 'older');

    const repo = app.app.get(QuarantineRepository);
    const page = await waitFor(
      async () => {
        const p = await repo.list(0, 50);
        return p.total >= 5 ? p : undefined;
      },
      10_000,
      'five quarantined frames',
    );
    const reasons = page.items.map((i) => i.reason).sort();
    expect(reasons).toEqual(['binary', 'invalid', 'not_json', 'not_object', 'too_large']);
    const binary = page.items.find((i) => i.reason === QuarantineReason.Binary)!;
    expect(Buffer.from(binary.rawBase64, 'base64')).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    const tooLarge = page.items.find((i) => i.reason === QuarantineReason.TooLarge)!;
    expect(tooLarge.truncated).toBe(true);
    expect(Buffer.from(tooLarge.rawBase64, 'base64').length).toBe(2048);
    expect(page.items.find((i) => i.reason === QuarantineReason.Invalid)!.detail).toMatch(
      /payload/,
    );

    expect(await counterValue(app, 'otb_frames_quarantined_total')).toBe(5);
    // The valid balance frame after the bad ones still went through on the same connection.
    expect(app.app.get(OpentactConnection).status().reconnectCount).toBe(0);
    await waitFor(async () => (await logged(app)) === 1, 5_000, 'valid frame appended');
  });

  it('pauses the socket while Redis stalls and loses nothing once it answers again', async () => {
    // CLIENT PAUSE stops every client of a server, so this test gets a Redis of its own.
    const redisServer = await startRedisServer();
    const prefix = uniquePrefix('ingest-backpressure');
    try {
      const app = await startApp(
        ingestEnv(sim, prefix, {
          REDIS_URL: redisServer.url,
          REDIS_CLUSTER_NODES: '',
          INGEST_BUFFER_MAX: '20',
        }),
      );
      apps.push(app);
      const connection = app.app.get(OpentactConnection);
      await waitFor(() => connection.isAuthenticated(), 10_000, 'authentication');

      const admin = new Redis(redisServer.url);
      await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
      const sent = await sim.emitAtRate({ ratePerSecond: 500, count: 300, kind: 'mixed' });
      expect(sent.frames).toBe(300);
      await waitFor(() => connection.status().paused, 3_000, 'the socket to pause');
      // Bounded: the buffer plus what one socket read had already parsed when reading paused.
      expect(connection.status().pendingFrames).toBeLessThan(100);
      expect(await counterValue(app, 'otb_ingest_pauses_total')).toBeGreaterThanOrEqual(1);

      await waitFor(async () => (await logged(app)) === 300, 20_000, 'all 300 events appended');
      expect(connection.status().paused).toBe(false);
      const ids = (await loggedEvents(app)).map((e) => e.raw.uuid);
      // Every frame, in the order it was sent.
      expect(ids).toEqual(sim.sentLog.slice(-300).map((entry) => entry.id));
      admin.disconnect();
    } finally {
      await Promise.all(apps.splice(0).map((a) => a.app.close()));
      await redisServer.stop();
    }
  });
});
