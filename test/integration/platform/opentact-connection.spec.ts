import pino from 'pino';
import { WebSocket } from 'ws';
import type { AppConfig, OpentactConfig } from '../../../src/config/app-config';
import { EventNormalizer } from '../../../src/events/event-normalizer.service';
import type { SocketFactory } from '../../../src/platform/live-socket';
import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import type { ConnectionState, FrameSink } from '../../../src/platform/opentact-connection.types';
import { SystemClock } from '../../../src/common/clock';
import { OpentactRestClient } from '../../../src/platform/opentact-rest.client';
import { OpentactSubscriptionsClient } from '../../../src/platform/opentact-subscriptions.client';
import { TokenProvider } from '../../../src/platform/token-provider.service';
import { WebSocketFactory } from '../../../src/platform/websocket.factory';
import { buildFrame } from '../../../src/simulator/frame-factory';
import {
  OpentactSimulator,
  type SimulatorOptions,
} from '../../../src/simulator/opentact-simulator';

import { SIMULATOR_LOGIN } from '../../support/simulator-login';
import { waitFor as pollFor, sleep } from '../../support/wait';

jest.setTimeout(20_000);

const { email: EMAIL, password: PASSWORD } = SIMULATOR_LOGIN;

/** The kit's poller with this file's argument order and 20 ms interval. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  await pollFor(predicate, timeoutMs, what, 20);
}

/** The simulator's log id of a frame: the envelope `uuid`, or `sim_id` for older frames. */
function frameId(data: Buffer): string | undefined {
  try {
    const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    const id = frame.uuid ?? frame.sim_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

class RecordingSink implements FrameSink {
  readonly ids = new Set<string>();
  received = 0;
  /** The largest frame received, to check what ingest would make of it. */
  largest: Buffer = Buffer.alloc(0);
  /** Per-frame processing time; frames are processed one at a time, like a slow enqueue. */
  delayMs = 0;
  private chain: Promise<void> = Promise.resolve();

  onFrame(data: Buffer): Promise<void> {
    this.received++;
    if (data.length > this.largest.length) {
      this.largest = data;
    }
    const id = frameId(data);
    if (this.delayMs === 0) {
      this.record(id);
      return Promise.resolve();
    }
    this.chain = this.chain.then(async () => {
      await sleep(this.delayMs);
      this.record(id);
    });
    return this.chain;
  }

  private record(id: string | undefined): void {
    if (id !== undefined) {
      this.ids.add(id);
    }
  }
}

interface Rig {
  sim: OpentactSimulator;
  conn: OpentactConnection;
  sink: RecordingSink;
  states: ConnectionState[];
  events: {
    deadPeer: number[];
    authFailures: string[];
    pauses: number;
    resumes: number;
    subscriptionErrors: string[];
    oversize: (number | undefined)[];
  };
}

let rig: Rig | undefined;

async function startRig(
  simOptions: SimulatorOptions = {},
  overrides: Partial<OpentactConfig> = {},
  ingestBufferMax = 1_000,
  extra: { sockets?: SocketFactory; random?: () => number } = {},
): Promise<Rig> {
  const sim = new OpentactSimulator({ port: 0, ...simOptions });
  await sim.start();
  const config: OpentactConfig = {
    restUrl: sim.restUrl,
    wssUrl: sim.wssUrl,
    credentials: { kind: 'password', email: simOptions.email ?? EMAIL, password: PASSWORD },
    subscribe: [],
    authTimeoutMs: 2_000,
    pingIntervalMs: 30_000,
    pongTimeoutMs: 5_000,
    reconnectBaseMs: 100,
    reconnectMaxMs: 500,
    authFailureBackoffMs: 400,
    stableAfterMs: 60_000,
    tokenRefreshMarginMs: 1_000,
    maxFrameBytes: 1_048_576,
    ...overrides,
  };
  const rest = new OpentactRestClient(config, { timeoutMs: 2_000 });
  const sink = new RecordingSink();
  const states: ConnectionState[] = [];
  const events: Rig['events'] = {
    deadPeer: [],
    authFailures: [],
    pauses: 0,
    resumes: 0,
    subscriptionErrors: [],
    oversize: [],
  };
  const conn = new OpentactConnection(
    {
      config,
      ingestBufferMax,
      random: extra.random,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    },
    new TokenProvider(config, rest),
    new OpentactSubscriptionsClient(config, { timeoutMs: 2_000 }),
    extra.sockets ?? new WebSocketFactory(config),
    sink,
    new SystemClock(),
  );
  conn.addListener({
    onStateChange: (s) => states.push(s),
    onDeadPeer: () => events.deadPeer.push(Date.now()),
    onAuthFailure: (reason) => events.authFailures.push(reason),
    onPause: () => events.pauses++,
    onResume: () => events.resumes++,
    onSubscriptionError: (reason) => events.subscriptionErrors.push(reason),
    onOversizeFrame: (limit) => events.oversize.push(limit),
  });
  rig = { sim, conn, sink, states, events };
  await conn.start();
  return rig;
}

/** Ids of frames the simulator delivered to at least one socket. */
function deliveredIds(sim: OpentactSimulator): string[] {
  return sim.sentLog.filter((e) => e.sockets >= 1).map((e) => e.id);
}

function missing(sim: OpentactSimulator, sink: RecordingSink): string[] {
  return deliveredIds(sim).filter((id) => !sink.ids.has(id));
}

afterEach(async () => {
  if (rig) {
    await rig.conn.stop();
    await rig.sim.stop();
    rig = undefined;
  }
});

describe('OpentactConnection against the simulator', () => {
  it('logs in, authenticates, subscribes and forwards frames', async () => {
    const { sim, conn, sink, states } = await startRig({}, { subscribe: ['call_state', 'sms'] });
    await waitFor('open', () => conn.isAuthenticated());
    expect(states).toEqual(['connecting', 'authenticating', 'open']);
    expect(sim.stats).toMatchObject({ authenticated: 1, authAttempts: 1, authRefused: 0 });
    await waitFor('subscriptions', () => sim.stats.subscriptions.length === 2);
    expect([...sim.stats.subscriptions].sort()).toEqual(['call_state', 'sms']);

    sim.emitScenario('inbound-call', 'newer');
    sim.emitScenario('inbound-sms', 'older');
    await waitFor('all frames', () => missing(sim, sink).length === 0);
    // The auth ack is not forwarded.
    expect(sink.received).toBe(deliveredIds(sim).length);
    expect(conn.status()).toMatchObject({ state: 'open', reconnectCount: 0, authFailures: 0 });
  });

  it('connects an account whose email holds words that sound like failure', async () => {
    const { sim, conn, sink, events } = await startRig({ email: 'ops@failover.io' });
    await waitFor('open', () => conn.isAuthenticated());
    expect(events.authFailures).toEqual([]);
    sim.emitScenario('inbound-sms', 'newer');
    await waitFor('frame', () => missing(sim, sink).length === 0 && sink.received === 1);
  });

  it('re-creates a lapsed subscription at the next connect, and its events flow again', async () => {
    const { sim, conn, sink } = await startRig(
      { filterBySubscription: true },
      { subscribe: ['sms'] },
    );
    await waitFor('subscribed', () => sim.stats.subscriptions.includes('sms'));
    const [first] = sim.emitScenario('inbound-sms', 'newer');
    await waitFor('first sms', () => sink.ids.has(first.uuid as string));

    sim.expireSubscriptions(['sms']);
    const [lost] = sim.emitScenario('inbound-sms', 'newer');
    expect(sim.sentLog.at(-1)).toMatchObject({ id: lost.uuid, sockets: 0 });
    const posted = sim.stats.subscriptionRequests;
    sim.dropAll();
    await waitFor('renewed', () => sim.stats.subscriptions.includes('sms'));
    expect(sim.stats.subscriptionRequests).toBe(posted + 2);
    const renewed = sim.subscriptionRecords.find((r) => r.type === 'sms')!;
    // Asked for a year, not the simulator's 30-day default.
    expect(Date.parse(renewed.expired_on!)).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    await waitFor('reconnected', () => conn.isAuthenticated());
    const [again] = sim.emitScenario('inbound-sms', 'newer');
    await waitFor('sms after renewal', () => sink.ids.has(again.uuid as string));
    expect(conn.status().subscriptions).toMatchObject({ state: 'ok', failures: 0 });
  });

  it('retries a failed subscription ensure with backoff, then recovers', async () => {
    const { sim, conn, events } = await startRig({}, { subscribe: ['call_state', 'sms'] });
    sim.setSubscriptionFault(503);
    await waitFor('three failures', () => events.subscriptionErrors.length >= 3, 5_000);
    expect(conn.isAuthenticated()).toBe(true);
    expect(events.subscriptionErrors[0]).toContain('HTTP 503');
    expect(conn.status().subscriptions).toMatchObject({
      state: 'failing',
      failures: events.subscriptionErrors.length,
    });
    // Backoff windows [50, 100], [100, 200], [200, 400] ms (capped at 500): a handful of tries.
    expect(sim.stats.subscriptionRequests).toBeLessThanOrEqual(6);
    sim.setSubscriptionFault(undefined);
    await waitFor('ensured', () => conn.status().subscriptions.state === 'ok', 5_000);
    expect([...sim.stats.subscriptions].sort()).toEqual(['call_state', 'sms']);
    expect(conn.status().subscriptions.failures).toBe(0);
  });

  it('keeps the link through a 5 MB frame and loses none of the 40 frames around it', async () => {
    const { sim, conn, sink } = await startRig();
    await waitFor('open', () => conn.isAuthenticated());
    const around: string[] = [];
    const emitSms = (): void => {
      const [frame] = sim.emitScenario('inbound-sms', 'newer');
      around.push(frame.uuid as string);
    };
    for (let i = 0; i < 20; i++) {
      emitSms();
    }
    const huge: Record<string, unknown> = {
      ...buildFrame('sms_inbound', 'newer'),
      pad: 'x'.repeat(5_000_000),
    };
    expect(sim.emit(huge)).toBe(1);
    for (let i = 0; i < 20; i++) {
      emitSms();
    }
    await waitFor('every frame', () => missing(sim, sink).length === 0, 10_000);
    expect(around.filter((id) => !sink.ids.has(id))).toEqual([]);
    expect(sink.ids.has(huge.uuid as string)).toBe(true);
    expect(conn.status()).toMatchObject({ reconnectCount: 0, oversizeFrames: 0, state: 'open' });
    expect(sim.stats.connectionsTotal).toBe(1);
    // What ingest does with it: quarantined as too large, size known, socket untouched.
    const normalizer = new EventNormalizer({ opentact: { maxFrameBytes: 1_048_576 } } as AppConfig);
    const outcome = normalizer.normalize(sink.largest, false, new Date());
    expect(outcome).toMatchObject({ kind: 'quarantine', reason: 'too_large' });
    expect(sink.largest.length).toBeGreaterThan(5_000_000);
  });

  it('reconnects at once after a frame over the hard limit, without growing the backoff', async () => {
    const limit = 64 * 1024;
    const limited: SocketFactory = {
      maxPayloadBytes: limit,
      create: (url) => new WebSocket(url, { maxPayload: limit, perMessageDeflate: false }),
    };
    // Backoff attempts with random 0.99: 1,980 ms, then 3,960 ms, then 7,920 ms.
    const { sim, conn, sink, events } = await startRig(
      {},
      { reconnectBaseMs: 2_000, reconnectMaxMs: 8_000 },
      1_000,
      { sockets: limited, random: () => 0.99 },
    );
    await waitFor('open', () => conn.isAuthenticated());
    const before = Array.from(
      { length: 10 },
      () => sim.emitScenario('inbound-sms', 'newer')[0].uuid as string,
    );
    await waitFor('frames before', () => before.every((id) => sink.ids.has(id)));

    const reconnected = async (action: () => void): Promise<number> => {
      const connections = sim.stats.connectionsTotal;
      const startedAt = Date.now();
      action();
      await waitFor(
        'reconnected',
        () =>
          sim.stats.connectionsTotal > connections &&
          conn.isAuthenticated() &&
          sim.stats.authenticated === 1,
        10_000,
      );
      return Date.now() - startedAt;
    };
    for (let i = 0; i < 2; i++) {
      const huge = { type: 'sms', uuid: `huge-${i}`, pad: 'x'.repeat(limit + 1) };
      expect(await reconnected(() => sim.emit(huge))).toBeLessThan(1_000);
    }
    expect(events.oversize).toEqual([limit, limit]);
    expect(conn.status()).toMatchObject({ oversizeFrames: 2, authFailures: 0 });

    // An ordinary drop still waits the first backoff attempt: the two above did not count.
    const waited = await reconnected(() => sim.dropAll());
    expect(waited).toBeGreaterThanOrEqual(1_900);
    expect(waited).toBeLessThan(3_900);
    const [after] = sim.emitScenario('inbound-sms', 'newer');
    await waitFor('frames after', () => sink.ids.has(after.uuid as string));
  });

  it('refreshes the token over a new socket without losing frames', async () => {
    const { sim, conn, sink } = await startRig(
      { tokenTtlSeconds: 3 },
      { tokenRefreshMarginMs: 1_000 },
    );
    await waitFor('open', () => conn.isAuthenticated());
    const run = await sim.emitAtRate({ ratePerSecond: 200, durationMs: 5_000 });
    expect(run.frames).toBeGreaterThanOrEqual(900);
    await waitFor('all delivered frames', () => missing(sim, sink).length === 0);
    expect(sim.stats.connectionsTotal).toBeGreaterThanOrEqual(3);
    expect(sim.sentLog.every((e) => e.sockets >= 1)).toBe(true);
    // Old sockets were closed once their successors authenticated.
    await waitFor('one socket left', () => sim.stats.authenticated === 1);
    expect(conn.status()).toMatchObject({ state: 'open', reconnectCount: 0, authFailures: 0 });
  });

  it('reconnects after the server drops every socket; nothing sent while connected is lost', async () => {
    const { sim, conn, sink, states } = await startRig();
    await waitFor('open', () => conn.isAuthenticated());
    const run = sim.emitAtRate({ ratePerSecond: 200, durationMs: 3_000 });
    await sleep(700);
    sim.dropAll();
    await sleep(800);
    sim.dropAll();
    await run;
    await waitFor('reconnected', () => conn.isAuthenticated());
    await waitFor('all delivered frames', () => missing(sim, sink).length === 0);
    expect(conn.status().reconnectCount).toBeGreaterThanOrEqual(2);
    expect(conn.status().authFailures).toBe(0);
    expect(states.filter((s) => s === 'closed').length).toBeGreaterThanOrEqual(2);
    expect(sim.stats.authenticated).toBe(1);
  });

  it('detects a dead peer within ping interval + pong timeout and reconnects', async () => {
    const { sim, conn, events, states } = await startRig(
      {},
      { pingIntervalMs: 300, pongTimeoutMs: 300 },
    );
    await waitFor('open', () => conn.isAuthenticated());
    sim.setPongs(false);
    const stoppedAt = Date.now();
    await waitFor('dead peer', () => events.deadPeer.length > 0, 3_000);
    // 600 ms bound plus timer slack.
    expect(events.deadPeer[0] - stoppedAt).toBeLessThanOrEqual(900);
    // The socket closes just after the dead peer is reported (ws emits 'close' on a later tick);
    // the reconnect may already be authenticated again (the backoff can be ~0 ms).
    await waitFor('closed after the dead peer', () => states.slice(3).includes('closed'), 1_000);
    sim.setPongs(true);
    await waitFor('reconnected', () => conn.isAuthenticated() && sim.stats.authenticated === 1);
    expect(conn.status().reconnectCount).toBeGreaterThanOrEqual(1);
    expect(conn.status().authFailures).toBe(0);
  });

  it.each(['close', 'error-frame', 'silent'] as const)(
    'counts refused auth (%s), never opens, retries with the long backoff, then recovers',
    async (authFailure) => {
      const { sim, conn, states, events } = await startRig(
        { authMode: 'refuse', authFailure },
        { authTimeoutMs: 300, authFailureBackoffMs: 400 },
      );
      await waitFor('three failures', () => events.authFailures.length >= 3, 6_000);
      expect(states).not.toContain('open');
      expect(conn.status().authFailures).toBeGreaterThanOrEqual(3);
      const attempts = sim.stats.authAttempts;
      // Backoff windows: [200, 400], [400, 800], [800, 1600] ms, each growing.
      expect(attempts).toBeLessThanOrEqual(4);
      sim.setAuthMode('accept');
      await waitFor('open after accept', () => conn.isAuthenticated(), 6_000);
      expect(events.authFailures.every((r) => !r.includes('eyJ'))).toBe(true);
    },
  );

  it('treats a refused login as an auth failure without opening a socket', async () => {
    const { sim, conn, events } = await startRig({ password: 'another-password' });
    await waitFor('auth failure', () => events.authFailures.length >= 1);
    expect(events.authFailures[0]).toContain('HTTP 401');
    expect(events.authFailures[0]).not.toContain(PASSWORD);
    expect(sim.stats.connectionsTotal).toBe(0);
    expect(conn.status().state).toBe('closed');
  });

  it('pauses reading for a slow sink, resumes, and loses nothing', async () => {
    const { sim, conn, sink, events } = await startRig({}, {}, 20);
    sink.delayMs = 2;
    await waitFor('open', () => conn.isAuthenticated());
    const run = await sim.emitAtRate({ ratePerSecond: 2_000, count: 600 });
    expect(run.sent).toBe(600);
    await waitFor('paused at least once', () => events.pauses > 0);
    await waitFor('all frames', () => missing(sim, sink).length === 0, 8_000);
    expect(events.resumes).toBeGreaterThanOrEqual(events.pauses);
    expect(conn.status()).toMatchObject({ paused: false, pendingFrames: 0, state: 'open' });
    expect(sink.received).toBe(600);
  });
});
