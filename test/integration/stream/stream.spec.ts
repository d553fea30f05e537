import { EventLog } from '../../../src/events/event-log';
import { MetricsService } from '../../../src/metrics/metrics.service';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  createSubscription,
  startBridge,
  startSimulator,
  waitForRegistry,
} from '../../support/delivery-app';
import {
  deletePrefix,
  type StartedApp,
  TEST_ADMIN_KEY,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { TestStreamClient, waitForLiveClients } from '../../support/stream-client';
import { ProgrammableReceiver, startReceivers } from '../../support/webhook-receivers';

const STREAM_KEY = 'stream-key-0123456789abcdefghijklmnopqrstu';
const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

function uuidsOf(frames: Record<string, unknown>[]): string[] {
  return frames.map((f) => f.uuid as string);
}

async function closedCount(app: StartedApp, reason: string): Promise<number> {
  const metric = await app.app.get(MetricsService).streamClosed.get();
  return metric.values.filter((v) => v.labels.reason === reason).reduce((s, v) => s + v.value, 0);
}

describe('live stream: GET /v1/stream', () => {
  const prefix = uniquePrefix('stream');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receiver: ProgrammableReceiver;
  const clients: TestStreamClient[] = [];
  const connect = (query = '', headers: Record<string, string> = {}): TestStreamClient => {
    const client = new TestStreamClient(bridge.url, query, headers);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, {
      STREAM_API_KEYS: STREAM_KEY,
      STREAM_MAX_BUFFER_BYTES: '16384',
    });
    [receiver] = await startReceivers(1, { status: 204 });
    const sub = await createSubscription(bridge, { url: receiver.url(), eventTypes: ['*'] });
    await waitForRegistry(bridge, [sub.id]);
  });

  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await receiver?.stop();
    await deletePrefix(prefix);
  });

  it('refuses a wrong key on the upgrade, bad types, and an unknown since, each with its status', async () => {
    const wrong = await connect('', bearer('x'.repeat(40))).open();
    expect(wrong?.status).toBe(401);
    const badTypes = await connect('types=call.*,nonsense', bearer(STREAM_KEY)).open();
    expect(badTypes?.status).toBe(400);
    expect(badTypes?.body).toMatch(/nonsense/);
    const unknownSince = await connect('since=evt-never-seen', bearer(STREAM_KEY)).open();
    expect(unknownSince?.status).toBe(404);
    expect(unknownSince?.body).toMatch(/not retained/);
  });

  it('answers a plain GET with 426, and documents the handshake in the OpenAPI document', async () => {
    const plain = await fetch(`${bridge.url}/v1/stream`, { headers: bearer(STREAM_KEY) });
    expect(plain.status).toBe(426);
    const doc = (await (await fetch(`${bridge.url}/docs-json`)).json()) as {
      paths: Record<string, { get?: { parameters?: { name: string }[]; description?: string } }>;
      components: { schemas: Record<string, unknown> };
    };
    const op = doc.paths['/v1/stream']?.get;
    expect(op?.parameters?.map((p) => p.name).sort()).toEqual(['since', 'types']);
    expect(op?.description).toMatch(/"type":"auth"/);
    expect(doc.components.schemas.WebhookEventDto).toBeDefined();
  });

  it('closes a socket that sends a wrong key, or none within the auth window, and sends it nothing', async () => {
    const wrongKey = connect();
    const silent = connect();
    expect(await wrongKey.open()).toBeUndefined();
    expect(await silent.open()).toBeUndefined();
    const openedAt = Date.now();
    wrongKey.auth('y'.repeat(40));
    sim.emitScenario('balance', 'newer');
    expect(await wrongKey.waitForClose()).toBe(4401);
    expect(wrongKey.messages).toEqual([]);
    expect(await silent.waitForClose(15_000)).toBe(4401);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(4_500);
    expect(silent.messages).toEqual([]);
  });

  it('sends every event, each exactly the webhook body, to a key on the upgrade or in the first message', async () => {
    const byHeader = connect('', bearer(STREAM_KEY));
    const byMessage = connect();
    const admin = connect('', bearer(TEST_ADMIN_KEY));
    expect(await byHeader.open()).toBeUndefined();
    expect(await byMessage.open()).toBeUndefined();
    expect(await admin.open()).toBeUndefined();
    byMessage.auth(STREAM_KEY);
    // The message-authenticated client is attached once its auth is read.
    await waitForLiveClients(bridge.app, 3);
    const ids = uuidsOf(sim.emitScenario('inbound-call', 'newer'));
    for (const client of [byHeader, byMessage, admin]) {
      await client.waitForCount(ids.length);
      expect(client.ids()).toEqual(ids);
    }
    // Byte for byte what the webhook receiver got.
    await waitFor(() => ids.every((id) => receiver.forWebhook(id).length > 0), 10_000, 'webhooks');
    for (const [i, id] of ids.entries()) {
      expect(byHeader.messages[i]).toBe(receiver.forWebhook(id)[0].body);
    }
  });

  it('filters by type pattern', async () => {
    const sms = connect('types=sms.*', bearer(STREAM_KEY));
    expect(await sms.open()).toBeUndefined();
    await waitForLiveClients(bridge.app, 1);
    const calls = uuidsOf(sim.emitScenario('inbound-call', 'newer'));
    const inbound = uuidsOf(sim.emitScenario('inbound-sms', 'newer'));
    await sms.waitForCount(inbound.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sms.ids()).toEqual(inbound);
    expect(sms.events().every((e) => e.type.startsWith('sms.'))).toBe(true);
    expect(sms.ids()).not.toEqual(expect.arrayContaining([calls[0]]));
  });

  it('resumes after since: the events missed while away, then live, with no gap and no duplicate', async () => {
    const first = connect('', bearer(STREAM_KEY));
    expect(await first.open()).toBeUndefined();
    await waitForLiveClients(bridge.app, 1);
    const before = uuidsOf(sim.emitScenario('inbound-call', 'newer'));
    await first.waitForCount(before.length);
    first.close();
    const missed = uuidsOf(sim.emitScenario('inbound-sms', 'newer'));
    await waitFor(
      () => missed.every((id) => receiver.forWebhook(id).length > 0),
      10_000,
      'missed events ingested',
    );
    const resumed = connect(`since=${before[1]}`, bearer(STREAM_KEY));
    expect(await resumed.open()).toBeUndefined();
    const after = uuidsOf(sim.emitScenario('balance', 'newer'));
    const expected = [...before.slice(2), ...missed, ...after];
    await resumed.waitForCount(expected.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumed.ids()).toEqual(expected);
  });

  it('catches up over many pages while events keep arriving, then goes live without a gap', async () => {
    const first = connect('', bearer(STREAM_KEY));
    expect(await first.open()).toBeUndefined();
    await waitForLiveClients(bridge.app, 1);
    const [anchor] = uuidsOf(sim.emitScenario('balance', 'newer'));
    await first.waitForCount(1);
    first.close();
    // 1,500 events while away (three pages), then more while the client catches up.
    const away = await sim.emitAtRate({ ratePerSecond: 5_000, count: 1_500, kind: 'mixed' });
    const logged = bridge.app.get(EventLog);
    await waitFor(
      async () => (await logged.readAfter(undefined, 100_000)).length > away.frames,
      10_000,
      'the events to be logged',
    );
    const resumed = connect(`since=${anchor}`, bearer(STREAM_KEY));
    expect(await resumed.open()).toBeUndefined();
    await sim.emitAtRate({ ratePerSecond: 2_000, count: 500, kind: 'mixed' });
    const lastSent = sim.sentLog.at(-1)!.id;
    await waitFor(
      async () => (await logged.get(lastSent)) !== undefined,
      10_000,
      'the last event to be logged',
    );
    const all = await logged.readAfter(undefined, 100_000);
    const afterAnchor = all
      .map((e) => JSON.parse(e.body) as { id: string })
      .map((e) => e.id)
      .slice(all.findIndex((e) => e.body.includes(anchor)) + 1);
    await resumed.waitForCount(afterAnchor.length, 20_000);
    expect(resumed.ids()).toEqual(afterAnchor);
  });

  it('closes a client that falls too far behind (1013) instead of buffering for it', async () => {
    const slow = connect('', bearer(STREAM_KEY));
    expect(await slow.open()).toBeUndefined();
    // The client stops reading its socket: the server's send buffer for it can only grow.
    const socket = (slow.ws as unknown as { _socket: { pause(): void } })._socket;
    socket.pause();
    const closedBefore = await closedCount(bridge, 'slow');
    // The kernel's loopback buffers absorb several MB first; emit until the server gives up on
    // the client (bounded: 20 rounds of 1,000 events of about 2 KB).
    for (let round = 0; round < 20; round++) {
      await sim.emitAtRate({ ratePerSecond: 5_000, count: 1_000, kind: 'call' });
      if ((await closedCount(bridge, 'slow')) > closedBefore) {
        break;
      }
    }
    await waitFor(
      async () => (await closedCount(bridge, 'slow')) > closedBefore,
      15_000,
      'the slow client to be closed',
    );
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.waitForClose()).toBe(1013);
  });
});

describe('live stream across processes', () => {
  const prefix = uniquePrefix('stream-procs');
  let sim: OpentactSimulator;
  let ingest: StartedApp;
  const apps: StartedApp[] = [];
  const clients: TestStreamClient[] = [];

  beforeAll(async () => {
    sim = await startSimulator();
    ingest = await startBridge(sim, prefix, { APP_ROLE: 'ingest' });
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await Promise.all(apps.map((a) => a.app.close()));
    await ingest?.app.close();
    await sim?.stop();
    await deletePrefix(prefix);
  });

  it('streams what another process ingested, and resumes after a restart of the api process', async () => {
    const api1 = await startBridge(sim, prefix, { APP_ROLE: 'api', STREAM_API_KEYS: STREAM_KEY });
    apps.push(api1);
    const first = new TestStreamClient(api1.url, '', bearer(STREAM_KEY));
    clients.push(first);
    expect(await first.open()).toBeUndefined();
    await waitForLiveClients(api1.app, 1);
    const seen = uuidsOf(sim.emitScenario('inbound-call', 'newer'));
    await first.waitForCount(seen.length);
    expect(first.ids()).toEqual(seen);

    // The api process goes away; events keep coming into the log meanwhile.
    await api1.app.close();
    expect(await first.waitForClose()).toBeDefined();
    const whileDown = uuidsOf(sim.emitScenario('inbound-sms', 'newer'));
    const api2 = await startBridge(sim, prefix, { APP_ROLE: 'api', STREAM_API_KEYS: STREAM_KEY });
    apps.push(api2);
    await waitFor(
      async () => (await api2.app.get(EventLog).stats()).length >= seen.length + whileDown.length,
      10_000,
      'the events to be logged',
    );
    const resumed = new TestStreamClient(api2.url, `since=${seen.at(-1)!}`, bearer(STREAM_KEY));
    clients.push(resumed);
    expect(await resumed.open()).toBeUndefined();
    const after = uuidsOf(sim.emitScenario('balance', 'newer'));
    const expected = [...whileDown, ...after];
    await resumed.waitForCount(expected.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumed.ids()).toEqual(expected);
  });
});
