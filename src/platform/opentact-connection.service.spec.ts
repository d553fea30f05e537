import pino from 'pino';
import type { OpentactConfig } from '../config/app-config';
import type { LiveSocket } from './live-socket';
import { FakeSocket } from './live-socket.spec-fixture';
import type { OpentactConnection } from './opentact-connection.service';
import { type ConnectionSpecDeps, connectionFrom } from './opentact-connection.spec-fixture';
import type { ConnectionState, FrameSink } from './opentact-connection.types';
import { OpentactAuthError } from './opentact-errors';
import type { EnsuredSubscriptions } from './opentact-subscriptions.client';
import { opentactTestConfig } from './platform.spec-fixture';
import type { OpentactToken } from './token-provider.service';

function jwt(expMs: number, n: number): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ uuid: 'u', n, exp: Math.floor(expMs / 1000) })}.sig`;
}

const baseConfig = opentactTestConfig();

const HOUR = 3_600_000;
const MAX_PAYLOAD_BYTES = 64 * 1024;

interface Harness {
  conn: OpentactConnection;
  sockets: FakeSocket[];
  frames: string[];
  tokens: {
    getToken: jest.Mock<Promise<OpentactToken>, [{ fresh?: boolean }?]>;
    canRefresh: boolean;
  };
  issued: string[];
  rest: { ensureSubscriptions: jest.Mock<Promise<EnsuredSubscriptions>, [string, string[]]> };
  listener: {
    onStateChange: jest.Mock<void, [ConnectionState]>;
    onReconnect: jest.Mock<void, []>;
    onAuthFailure: jest.Mock<void, [string]>;
    onFrame: jest.Mock<void, [boolean]>;
    onPause: jest.Mock<void, []>;
    onResume: jest.Mock<void, []>;
    onDeadPeer: jest.Mock<void, []>;
    onSubscriptionError: jest.Mock<void, [string]>;
    onOversizeFrame: jest.Mock<void, [number | undefined]>;
  };
  logs: string[];
  /** Errors the socket factory throws, one per create(), before it creates sockets again. */
  createErrors: Error[];
  sink: FrameSink & { onFrame: jest.Mock<Promise<void>, [Buffer, boolean, number]> };
  socket(i?: number): FakeSocket;
}

function setup(
  overrides: Partial<OpentactConfig> = {},
  extra: Partial<ConnectionSpecDeps> = {},
): Harness {
  const config = { ...baseConfig, ...overrides };
  const sockets: FakeSocket[] = [];
  const frames: string[] = [];
  const issued: string[] = [];
  const logs: string[] = [];
  const createErrors: Error[] = [];
  const tokens = {
    canRefresh: true,
    getToken: jest.fn((_opts?: { fresh?: boolean }): Promise<OpentactToken> => {
      const expiresAtMs = Date.now() + HOUR;
      const token = jwt(expiresAtMs, issued.length);
      issued.push(token);
      return Promise.resolve({ token, expiresAtMs: Math.floor(expiresAtMs / 1000) * 1000 });
    }),
  };
  const rest = {
    ensureSubscriptions: jest.fn<Promise<EnsuredSubscriptions>, [string, string[]]>(() =>
      Promise.resolve({ created: [] }),
    ),
  };
  const listener: Harness['listener'] = {
    onStateChange: jest.fn<void, [ConnectionState]>(),
    onReconnect: jest.fn<void, []>(),
    onAuthFailure: jest.fn<void, [string]>(),
    onFrame: jest.fn<void, [boolean]>(),
    onPause: jest.fn<void, []>(),
    onResume: jest.fn<void, []>(),
    onDeadPeer: jest.fn<void, []>(),
    onSubscriptionError: jest.fn<void, [string]>(),
    onOversizeFrame: jest.fn<void, [number | undefined]>(),
  };
  const sink = {
    onFrame: jest.fn<Promise<void>, [Buffer, boolean, number]>((data: Buffer): Promise<void> => {
      frames.push(data.toString('utf8'));
      return Promise.resolve();
    }),
  };
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  const conn = connectionFrom({
    config,
    ingestBufferMax: 1_000,
    tokens,
    rest,
    sockets: {
      create: (): LiveSocket => {
        const error = createErrors.shift();
        if (error) {
          throw error;
        }
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
    },
    sink,
    logger,
    listener,
    random: () => 0.5,
    ...extra,
  });
  return {
    conn,
    sockets,
    frames,
    tokens,
    issued,
    rest,
    listener,
    logs,
    createErrors,
    sink,
    socket: (i = sockets.length - 1) => sockets[i],
  };
}

/** Runs timers due within `ms` and the promise jobs they queue. */
const advance = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms);
const flush = (): Promise<void> => advance(0);

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const logLines = (h: Harness, msg: string): LogLine[] =>
  h.logs.map((l) => JSON.parse(l) as LogLine).filter((l) => l.msg === msg);

async function connected(h: Harness): Promise<FakeSocket> {
  await h.conn.start();
  await flush();
  const s = h.socket();
  s.open();
  s.ack();
  await flush();
  return s;
}

describe('OpentactConnection', () => {
  let harness: Harness | undefined;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
  });

  afterEach(async () => {
    const stopping = harness?.conn.stop();
    await jest.runOnlyPendingTimersAsync();
    await stopping;
    harness = undefined;
    jest.useRealTimers();
  });

  const make = (...args: Parameters<typeof setup>): Harness => (harness = setup(...args));

  describe('handshake', () => {
    it('sends the auth frame first and is open only after the ack, which is not forwarded', async () => {
      const h = make();
      await h.conn.start();
      expect(h.conn.status().state).toBe('connecting');
      await flush();
      const s = h.socket();
      expect(s.sent).toEqual([]);
      s.open();
      expect(h.conn.status().state).toBe('authenticating');
      expect(h.conn.isAuthenticated()).toBe(false);
      expect(s.sent.map((f) => JSON.parse(f) as unknown)).toEqual([
        { type: 'auth', payload: h.issued[0] },
      ]);
      s.ack();
      expect(h.conn.status()).toMatchObject({
        state: 'open',
        authenticated: true,
        connectedSince: '2025-01-01T00:00:00.000Z',
        reconnectCount: 0,
        authFailures: 0,
      });
      expect(h.frames).toEqual([]);
      expect(h.listener.onStateChange.mock.calls.map((c) => c[0])).toEqual([
        'connecting',
        'authenticating',
        'open',
      ]);
    });

    it('forwards frames that arrive before the ack, and frames after it', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      const s = h.socket();
      s.open();
      s.receive({ type: 'call_state', uuid: 'e1' });
      s.receive(Buffer.from([1, 2, 3]), true);
      s.ack();
      s.receive({ type: 'sms', uuid: 'e2' });
      s.receive({ type: 'auth', message: 'success auth someone-else' });
      expect(h.frames).toEqual([
        '{"type":"call_state","uuid":"e1"}',
        '\u0001\u0002\u0003',
        '{"type":"sms","uuid":"e2"}',
        '{"type":"auth","message":"success auth someone-else"}',
      ]);
      expect(h.sink.onFrame.mock.calls[1][1]).toBe(true);
      expect(h.conn.status().lastFrameAt).toBe('2025-01-01T00:00:00.000Z');
      expect(h.listener.onFrame).toHaveBeenCalledTimes(4);
    });

    it('accepts an auth frame of an unknown shape with no failure signal, and says so at warn', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      const s = h.socket();
      s.open();
      s.receive({ type: 'auth', note: 'neither success nor failure', payload: h.issued[0] });
      expect(h.conn.isAuthenticated()).toBe(true);
      expect(h.frames).toEqual([]);
      const warned = h.logs.filter((l) => l.includes('undocumented shape'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0])).toMatchObject({
        level: 40,
        ack: { keys: ['type', 'note', 'payload'] },
      });
      expect(warned[0]).not.toContain(h.issued[0]);
    });

    it('calls ensureSubscriptions once open and survives its failure', async () => {
      const h = make({ subscribe: ['call_state', 'sms'] });
      h.rest.ensureSubscriptions.mockRejectedValueOnce(new Error('boom'));
      await connected(h);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledWith(h.issued[0], ['call_state', 'sms']);
      expect(h.conn.isAuthenticated()).toBe(true);
      expect(h.logs.some((l) => l.includes('could not ensure Opentact event subscriptions'))).toBe(
        true,
      );
    });

    it('skips subscriptions when none are configured', async () => {
      const h = make();
      await connected(h);
      expect(h.rest.ensureSubscriptions).not.toHaveBeenCalled();
      expect(h.conn.status().subscriptions).toEqual({ state: 'disabled', failures: 0 });
    });
  });

  describe('event subscriptions', () => {
    it('retries a failed ensure with growing backoff, reporting each failure, until it works', async () => {
      const h = make({ subscribe: ['sms'] });
      h.rest.ensureSubscriptions
        .mockRejectedValueOnce(new Error('HTTP 503'))
        .mockRejectedValueOnce(new Error('HTTP 503 again'))
        .mockResolvedValueOnce({ created: [{ type: 'sms', channel: 'wss', is_active: true }] });
      expect(h.conn.status().subscriptions.state).toBe('pending');
      await connected(h);
      expect(h.listener.onSubscriptionError).toHaveBeenCalledWith('HTTP 503');
      // equal jitter with random 0.5: attempt 0 waits 750 ms of a 1 s window, attempt 1 1.5 s.
      expect(h.conn.status().subscriptions).toEqual({
        state: 'failing',
        failures: 1,
        lastError: 'HTTP 503',
        nextAttemptAt: '2025-01-01T00:00:00.750Z',
      });
      await advance(749);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(1);
      await advance(1);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(2);
      expect(h.conn.status().subscriptions).toMatchObject({ state: 'failing', failures: 2 });
      expect(h.listener.onSubscriptionError).toHaveBeenCalledTimes(2);
      await advance(1_499);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(2);
      await advance(1);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(3);
      expect(h.rest.ensureSubscriptions).toHaveBeenLastCalledWith(h.issued[0], ['sms']);
      expect(h.conn.status().subscriptions).toEqual({
        state: 'ok',
        failures: 0,
        lastEnsuredAt: '2025-01-01T00:00:02.250Z',
      });
      expect(
        logLines(h, 'could not ensure Opentact event subscriptions; retrying').map((l) => [
          l.level,
          (l.err as { message?: string }).message,
          l.attempt,
          l.retryInMs,
        ]),
      ).toEqual([
        [40, 'HTTP 503', 1, 750],
        [40, 'HTTP 503 again', 2, 1_500],
      ]);
      expect(logLines(h, 'Opentact event subscriptions ensured after failures')).toEqual([
        expect.objectContaining({ level: 30, failedAttempts: 2 }),
      ]);
      // No expiry reported: nothing more to do.
      await advance(10 * HOUR);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(3);
    });

    it('does not retry while the socket is down, and ensures again once authenticated', async () => {
      const h = make({ subscribe: ['sms'] });
      h.rest.ensureSubscriptions.mockRejectedValueOnce(new Error('boom'));
      await connected(h);
      h.socket().serverClose(1006);
      await advance(5_000);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(1);
      expect(h.conn.status().subscriptions.state).toBe('failing');
      h.socket().open();
      h.socket().ack();
      await flush();
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(2);
      expect(h.conn.status().subscriptions.state).toBe('ok');
    });

    it('renews shortly before the first ensured subscription lapses', async () => {
      const h = make({ subscribe: ['sms'] });
      const expiresAtMs = Date.now() + 2 * HOUR;
      h.rest.ensureSubscriptions.mockResolvedValue({ created: [], expiresAtMs });
      await connected(h);
      expect(h.conn.status().subscriptions.nextAttemptAt).toBe('2025-01-01T01:55:00.000Z');
      await advance(2 * HOUR - 5 * 60_000 - 1);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(1);
      await advance(1);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(2);
    });

    it('waits at least a minute before renewing, whatever expiry the server reports', async () => {
      const h = make({ subscribe: ['sms'] });
      h.rest.ensureSubscriptions.mockResolvedValue({ created: [], expiresAtMs: Date.now() - HOUR });
      await connected(h);
      await advance(59_999);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(1);
      await advance(1);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(2);
    });

    it('uses the refreshed token for later attempts', async () => {
      const h = make({ subscribe: ['sms'], tokenRefreshMarginMs: 600_000 });
      h.rest.ensureSubscriptions.mockResolvedValue({
        created: [],
        expiresAtMs: Date.now() + 3 * HOUR,
      });
      await connected(h);
      // The token lives an hour: refreshed 10 min before, over a second socket.
      await advance(50 * 60_000);
      h.socket().open();
      h.socket().ack();
      await flush();
      // Renewal at 2 h 55 min; later refresh sockets are never acknowledged, so issued[1] stays.
      await advance(2 * HOUR + 5 * 60_000);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(2);
      expect(h.rest.ensureSubscriptions.mock.calls[1][0]).toBe(h.issued[1]);
    });
  });

  describe('auth failures', () => {
    it('times out without an ack, counts it and waits the long backoff with a fresh token', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      h.socket().open();
      await advance(9_999);
      expect(h.socket().terminated).toBe(false);
      await advance(1);
      expect(h.socket(0).terminated).toBe(true);
      expect(h.conn.status()).toMatchObject({ state: 'closed', authFailures: 1 });
      expect(h.listener.onAuthFailure).toHaveBeenCalledWith(expect.stringContaining('10000 ms'));
      expect(logLines(h, 'Opentact authentication failed')).toEqual([
        expect.objectContaining({
          level: 50,
          consecutive: 1,
          reason: expect.stringContaining('10000 ms') as unknown,
        }),
      ]);
      // equal jitter with random 0.5: 60 s window → 45 s
      await advance(44_999);
      expect(h.sockets).toHaveLength(1);
      await advance(1);
      expect(h.sockets).toHaveLength(2);
      expect(h.tokens.getToken).toHaveBeenLastCalledWith({ fresh: true });
      expect(h.conn.status().reconnectCount).toBe(1);
      // second consecutive failure: the window doubles (120 s → 90 s)
      h.socket().open();
      await advance(10_000);
      expect(h.conn.status().authFailures).toBe(2);
      await advance(89_999);
      expect(h.sockets).toHaveLength(2);
      await advance(1);
      expect(h.sockets).toHaveLength(3);
      expect(h.logs.join('\n')).not.toContain(h.issued[0]);
      expect(h.logs.join('\n')).not.toContain(h.issued[1]);
    });

    it('caps the auth backoff at ten times the base', async () => {
      const h = make({ authFailureBackoffMs: 1_000 });
      await h.conn.start();
      for (let i = 0; i < 8; i++) {
        await flush();
        h.socket().open();
        h.socket().serverClose(4001, 'auth failed');
        await advance(10_000);
      }
      const before = h.sockets.length;
      await flush();
      h.socket().open();
      h.socket().serverClose(4001);
      await advance(7_499); // 10 s window, equal jitter at 0.5 → 7.5 s
      expect(h.sockets).toHaveLength(before);
      await advance(1);
      expect(h.sockets).toHaveLength(before + 1);
    });

    it('treats a refusal frame as a failure and does not forward it', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      const s = h.socket();
      s.open();
      s.receive({ type: 'auth', success: false, message: 'WSS connection x - auth failed' });
      expect(s.terminated).toBe(true);
      expect(h.frames).toEqual([]);
      expect(h.conn.status()).toMatchObject({ state: 'closed', authFailures: 1 });
      expect(h.listener.onAuthFailure).toHaveBeenCalledWith(
        'refused: WSS connection x - auth failed (success: false)',
      );
    });

    it('treats a close before the ack as a failure', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      h.socket().open();
      h.socket().serverClose(4001, 'auth failed');
      expect(h.conn.status()).toMatchObject({ state: 'closed', authFailures: 1 });
      expect(h.listener.onAuthFailure).toHaveBeenCalledWith(expect.stringContaining('4001'));
    });

    it('treats a refused login as an auth failure and an unreachable API as a network error', async () => {
      const h = make();
      h.tokens.getToken
        .mockRejectedValueOnce(
          new OpentactAuthError('OPENTACT_AUTH_REJECTED', 'Opentact rejected the credentials', 401),
        )
        .mockRejectedValueOnce(new OpentactAuthError('OPENTACT_UNREACHABLE', 'no answer'));
      await h.conn.start();
      await flush();
      expect(h.conn.status()).toMatchObject({ state: 'closed', authFailures: 1 });
      await advance(45_000);
      expect(h.tokens.getToken).toHaveBeenCalledTimes(2);
      expect(h.conn.status().authFailures).toBe(1);
      // network error: ordinary backoff (attempt 0 → 500 ms)
      await advance(500);
      expect(h.sockets).toHaveLength(1);
    });

    it('uses the ordinary backoff, not the auth one, when the server is unreachable', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      h.socket().serverClose(1006); // never opened
      expect(h.conn.status().authFailures).toBe(0);
      await advance(500);
      expect(h.sockets).toHaveLength(2);
    });
  });

  describe('reconnect', () => {
    it('backs off exponentially and resets after the stable period', async () => {
      const h = make();
      await connected(h);
      h.socket().serverClose(1006);
      expect(h.conn.status().state).toBe('closed');
      expect(h.conn.status().connectedSince).toBeUndefined();
      await advance(499);
      expect(h.sockets).toHaveLength(1);
      await advance(1); // attempt 0: 0.5 × 1 s
      expect(h.sockets).toHaveLength(2);
      expect(logLines(h, 'reconnecting to Opentact after a delay')).toEqual([
        expect.objectContaining({ level: 30, delayMs: 500 }),
      ]);
      expect(logLines(h, 'Opentact socket closed; reconnecting')).toEqual([
        expect.objectContaining({ level: 40, socket: 1, code: 1006, authenticated: true }),
      ]);
      expect(logLines(h, 'authenticated to Opentact')).toEqual([
        expect.objectContaining({ level: 30, socket: 1, reconnectCount: 0 }),
      ]);
      // A dropped socket is no reason to doubt the token: only an auth failure asks a fresh one.
      expect(h.tokens.getToken.mock.calls).toEqual([[{ fresh: false }], [{ fresh: false }]]);
      expect(h.listener.onReconnect).toHaveBeenCalledTimes(1);
      h.socket().open();
      h.socket().ack();
      h.socket().serverClose(1001);
      await advance(999);
      expect(h.sockets).toHaveLength(2);
      await advance(1); // attempt 1: 0.5 × 2 s
      expect(h.sockets).toHaveLength(3);
      h.socket().open();
      h.socket().ack();
      await advance(60_000); // stable: attempt counter reset
      h.socket().serverClose(1006);
      await advance(500);
      expect(h.sockets).toHaveLength(4);
      expect(h.conn.status().reconnectCount).toBe(3);
    });

    it('does not reset the counter when the connection drops before the stable period', async () => {
      const h = make();
      await connected(h);
      h.socket().serverClose(1006);
      await advance(500);
      h.socket().open();
      h.socket().ack();
      await advance(59_999);
      h.socket().serverClose(1006);
      await advance(999);
      expect(h.sockets).toHaveLength(2);
      await advance(1);
      expect(h.sockets).toHaveLength(3);
    });
  });

  describe('a frame over the hard size limit', () => {
    it('ends the socket at once and reconnects at once, without growing the backoff', async () => {
      const h = make();
      const s = await connected(h);
      s.receive({ uuid: 'before' });
      s.oversizeFrame();
      expect(s.terminated).toBe(true);
      expect(h.listener.onOversizeFrame).toHaveBeenCalledWith(MAX_PAYLOAD_BYTES);
      expect(h.conn.status()).toMatchObject({
        state: 'closed',
        oversizeFrames: 1,
        authFailures: 0,
      });
      await flush();
      expect(h.sockets).toHaveLength(2);
      expect(h.conn.status().reconnectCount).toBe(1);
      h.socket().open();
      h.socket().ack();
      // A later ordinary drop still waits only attempt 0 of the backoff: 0.5 × 1 s.
      h.socket().serverClose(1006);
      await advance(499);
      expect(h.sockets).toHaveLength(2);
      await advance(1);
      expect(h.sockets).toHaveLength(3);
      expect(h.frames).toEqual(['{"uuid":"before"}']);
      expect(h.logs.some((l) => l.includes('reconnecting at once'))).toBe(true);
    });

    it('falls back to the backoff after three in a row, until the connection is stable', async () => {
      const h = make();
      await connected(h);
      for (let i = 0; i < 3; i++) {
        h.socket().oversizeFrame();
        await flush();
        expect(h.sockets).toHaveLength(i + 2);
        h.socket().open();
        h.socket().ack();
      }
      h.socket().oversizeFrame();
      await flush();
      expect(h.sockets).toHaveLength(4);
      await advance(500); // attempt 0 of the backoff
      expect(h.sockets).toHaveLength(5);
      expect(h.listener.onOversizeFrame).toHaveBeenCalledTimes(4);
      h.socket().open();
      h.socket().ack();
      await advance(60_000); // stable: the streak starts over
      h.socket().oversizeFrame();
      await flush();
      expect(h.sockets).toHaveLength(6);
    });

    it('is not an auth failure when it arrives before the acknowledgement', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      h.socket().open();
      h.socket().oversizeFrame();
      await flush();
      expect(h.conn.status()).toMatchObject({ authFailures: 0, oversizeFrames: 1 });
      expect(h.listener.onAuthFailure).not.toHaveBeenCalled();
      expect(h.sockets).toHaveLength(2);
    });
  });

  describe('heartbeat', () => {
    it('terminates a silent peer within ping interval + pong timeout', async () => {
      const h = make();
      const s = await connected(h);
      s.autoPong = false;
      await advance(30_000);
      expect(s.pings).toBe(1);
      await advance(4_999);
      expect(s.terminated).toBe(false);
      await advance(1);
      expect(s.terminated).toBe(true);
      expect(h.listener.onDeadPeer).toHaveBeenCalledTimes(1);
      expect(h.conn.status().state).toBe('closed');
      expect(h.conn.status().authFailures).toBe(0);
      await advance(500);
      expect(h.sockets).toHaveLength(2);
    });

    it('keeps a peer that answers pings, or sends any frame, alive', async () => {
      const h = make();
      const s = await connected(h);
      s.autoPong = false;
      for (let i = 0; i < 5; i++) {
        await advance(30_000);
        if (i % 2 === 0) {
          s.pong();
        } else {
          s.receive({ type: 'sms', uuid: `e${i}` });
        }
      }
      await advance(10_000);
      expect(s.pings).toBe(5);
      expect(s.terminated).toBe(false);
      expect(h.conn.isAuthenticated()).toBe(true);
    });

    it('suspends the pong deadline while paused (ws reads no pongs then)', async () => {
      const pending: (() => void)[] = [];
      const h = make();
      h.sink.onFrame.mockImplementation(() => new Promise<void>((r) => pending.push(r)));
      const conn = connectionFrom({
        config: baseConfig,
        ingestBufferMax: 2,
        tokens: h.tokens,
        rest: h.rest,
        sockets: { create: () => h.sockets[h.sockets.push(new FakeSocket()) - 1] },
        sink: h.sink,
        logger: pino({ level: 'silent' }),
      });
      harness = { ...h, conn };
      await conn.start();
      await flush();
      const s = h.socket();
      s.autoPong = false;
      s.open();
      s.ack();
      await advance(30_000); // ping sent
      expect(s.pings).toBe(1);
      s.receive({ uuid: 'a' }); // liveness
      s.receive({ uuid: 'b' }); // pending 2 → pause
      expect(s.paused).toBe(true);
      await advance(120_000);
      expect(s.pings).toBe(1);
      expect(s.terminated).toBe(false);
      pending.splice(0).forEach((r) => r());
      await flush();
      expect(s.paused).toBe(false);
      await advance(30_000);
      expect(s.pings).toBe(2);
      await advance(5_000);
      expect(s.terminated).toBe(true);
    });
  });

  describe('token refresh', () => {
    it('authenticates a new socket before closing the old one; old frames still flow', async () => {
      const h = make();
      const old = await connected(h);
      old.holdClose = true;
      await advance(HOUR - 600_000 - 1);
      expect(h.sockets).toHaveLength(1);
      await advance(1);
      expect(h.sockets).toHaveLength(2);
      expect(h.tokens.getToken).toHaveBeenLastCalledWith({ fresh: true });
      const next = h.socket();
      expect(logLines(h, 'refreshing the Opentact token over a new socket')).toHaveLength(1);
      next.open();
      expect(JSON.parse(next.sent[0]) as unknown).toEqual({ type: 'auth', payload: h.issued[1] });
      old.receive({ uuid: 'during-handshake' });
      expect(old.closedWith).toBeUndefined();
      expect(h.conn.status().state).toBe('open');
      next.ack();
      expect(old.closedWith).toEqual({ code: 1000, reason: 'token refresh' });
      old.receive({ uuid: 'old-after-switch' });
      next.receive({ uuid: 'new' });
      old.serverClose(1000);
      expect(h.frames).toEqual([
        '{"uuid":"during-handshake"}',
        '{"uuid":"old-after-switch"}',
        '{"uuid":"new"}',
      ]);
      expect(h.conn.status()).toMatchObject({
        state: 'open',
        reconnectCount: 0,
        connectedSince: new Date(Date.now()).toISOString(),
      });
      expect(h.listener.onReconnect).not.toHaveBeenCalled();
      // the next refresh is scheduled from the new token
      await advance(HOUR - 600_000);
      expect(h.sockets).toHaveLength(3);
    });

    it('refreshes at half the lifetime when the margin exceeds it', async () => {
      const h = make({ tokenRefreshMarginMs: 2 * HOUR });
      await connected(h);
      await advance(HOUR / 2 - 1_000);
      expect(h.sockets).toHaveLength(1);
      await advance(1_000);
      expect(h.sockets).toHaveLength(2);
    });

    it('keeps the old socket when the new one fails auth, and retries with backoff', async () => {
      const h = make();
      const old = await connected(h);
      await advance(HOUR - 600_000);
      const next = h.socket();
      next.open();
      next.serverClose(4001, 'auth failed');
      expect(old.closedWith).toBeUndefined();
      expect(h.conn.status()).toMatchObject({ state: 'open', authFailures: 1 });
      await advance(749); // equal jitter, 1 s window
      expect(h.sockets).toHaveLength(2);
      await advance(1);
      expect(h.sockets).toHaveLength(3);
      h.socket().open();
      h.socket().ack();
      expect(old.closedWith).toEqual({ code: 1000, reason: 'token refresh' });
    });

    it('lets the refresh socket take over when the old one drops mid-refresh', async () => {
      const h = make();
      const old = await connected(h);
      await advance(HOUR - 600_000);
      const next = h.socket();
      next.open();
      old.serverClose(1006);
      expect(h.conn.status().state).toBe('authenticating');
      next.ack();
      expect(h.conn.status()).toMatchObject({ state: 'open', reconnectCount: 1 });
      await advance(60_000);
      expect(h.sockets).toHaveLength(2);
    });

    it('never refreshes a configured token', async () => {
      const h = make();
      h.tokens.canRefresh = false;
      await connected(h);
      await advance(2 * HOUR);
      expect(h.sockets).toHaveLength(1);
    });
  });

  describe('backpressure', () => {
    it('pauses every live socket at the limit and resumes at half', async () => {
      const resolvers: (() => void)[] = [];
      const h = make({}, { ingestBufferMax: 4 });
      h.sink.onFrame.mockImplementation(() => new Promise<void>((r) => resolvers.push(r)));
      const s = await connected(h);
      for (let i = 0; i < 3; i++) {
        s.receive({ uuid: `e${i}` });
      }
      expect(s.paused).toBe(false);
      s.receive({ uuid: 'e3' });
      expect(s.paused).toBe(true);
      expect(h.conn.status()).toMatchObject({ paused: true, pendingFrames: 4 });
      expect(h.listener.onPause).toHaveBeenCalledTimes(1);
      resolvers.shift()!();
      expect(logLines(h, 'sink is behind; pausing reads')).toEqual([
        expect.objectContaining({ level: 40, pendingFrames: 4 }),
      ]);
      await flush();
      expect(h.conn.status()).toMatchObject({ paused: true, pendingFrames: 3 });
      resolvers.shift()!();
      await flush();
      expect(s.paused).toBe(false);
      expect(h.conn.status()).toMatchObject({ paused: false, pendingFrames: 2 });
      expect(h.listener.onResume).toHaveBeenCalledTimes(1);
      expect(logLines(h, 'sink caught up; resuming reads')).toEqual([
        expect.objectContaining({ level: 30, pendingFrames: 2 }),
      ]);
      resolvers.splice(0).forEach((r) => r());
      await flush();
      expect(h.conn.status().pendingFrames).toBe(0);
    });

    it('pauses on the bytes in flight too, and resumes once both are at half', async () => {
      const resolvers: (() => void)[] = [];
      const h = make({}, { ingestBufferMaxBytes: 100_000 });
      h.sink.onFrame.mockImplementation(() => new Promise<void>((r) => resolvers.push(r)));
      const s = await connected(h);
      const big = Buffer.alloc(40_000, 0x61);
      s.receive(big);
      s.receive(big);
      expect(s.paused).toBe(false);
      s.receive(big);
      expect(s.paused).toBe(true);
      expect(h.conn.status()).toMatchObject({
        paused: true,
        pendingFrames: 3,
        pendingBytes: 120_000,
      });
      resolvers.shift()!();
      await flush();
      expect(s.paused).toBe(true); // 80,000 bytes: above half
      resolvers.shift()!();
      await flush();
      expect(s.paused).toBe(false);
      expect(h.conn.status()).toMatchObject({ pendingBytes: 40_000 });
      resolvers.splice(0).forEach((r) => r());
      await flush();
      expect(h.conn.status()).toMatchObject({ pendingFrames: 0, pendingBytes: 0 });
    });

    it('bounds the bytes in flight by twice the socket limit by default', async () => {
      const h = make();
      h.sink.onFrame.mockImplementation(() => new Promise<void>(() => undefined));
      const s = await connected(h);
      s.receive(Buffer.alloc(MAX_PAYLOAD_BYTES, 0x61));
      expect(s.paused).toBe(false);
      s.receive(Buffer.alloc(MAX_PAYLOAD_BYTES, 0x61));
      expect(s.paused).toBe(true);
    });

    it('does not pause a socket that is still authenticating, and pauses it once open', async () => {
      const resolvers: (() => void)[] = [];
      const h = make({}, { ingestBufferMax: 1 });
      h.sink.onFrame.mockImplementation(() => new Promise<void>((r) => resolvers.push(r)));
      await h.conn.start();
      await flush();
      const s = h.socket();
      s.open();
      s.receive({ uuid: 'before-ack' });
      expect(h.conn.status().paused).toBe(true);
      expect(s.paused).toBe(false);
      s.ack();
      expect(s.paused).toBe(true);
      resolvers.splice(0).forEach((r) => r());
      await flush();
      expect(s.paused).toBe(false);
    });

    it('logs sink failures and keeps going', async () => {
      const h = make();
      h.sink.onFrame
        .mockImplementationOnce(() => Promise.reject(new Error('redis down')))
        .mockImplementationOnce(() => {
          throw new Error('sync throw');
        });
      const s = await connected(h);
      s.receive({ uuid: 'a' });
      s.receive({ uuid: 'b' });
      s.receive({ uuid: 'c' });
      await flush();
      expect(h.sink.onFrame).toHaveBeenCalledTimes(3);
      expect(h.conn.status()).toMatchObject({ state: 'open', pendingFrames: 0 });
      expect(h.logs.filter((l) => l.includes('frame sink rejected a frame'))).toHaveLength(2);
    });
  });

  describe('stop', () => {
    it('closes with 1000, clears every timer and never reconnects', async () => {
      const h = make({ subscribe: ['sms'] });
      const s = await connected(h);
      await h.conn.stop();
      expect(s.closedWith).toEqual({ code: 1000, reason: 'shutdown' });
      // Closed in time, nothing in flight: no terminate, no warning.
      expect(s.terminated).toBe(false);
      expect(logLines(h, 'stopped with sink calls still in flight')).toEqual([]);
      expect(h.conn.status().state).toBe('closed');
      expect(jest.getTimerCount()).toBe(0);
      await advance(10 * HOUR);
      expect(h.sockets).toHaveLength(1);
    });

    it('cancels the retry of a failed subscription check', async () => {
      const h = make({ subscribe: ['sms'] });
      h.rest.ensureSubscriptions.mockRejectedValueOnce(new Error('boom'));
      await connected(h);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(1);
      await h.conn.stop();
      expect(jest.getTimerCount()).toBe(0);
      await advance(HOUR);
      expect(h.rest.ensureSubscriptions).toHaveBeenCalledTimes(1);
    });

    it('connects again when started after a stop', async () => {
      const h = make();
      await connected(h);
      await h.conn.stop();
      await connected(h);
      expect(h.sockets).toHaveLength(2);
      expect(h.conn.isAuthenticated()).toBe(true);
    });

    it('starts with the application and stops with it (Nest lifecycle hooks)', async () => {
      const h = make();
      await h.conn.onApplicationBootstrap();
      await flush();
      expect(h.sockets).toHaveLength(1);
      expect(h.conn.status().state).toBe('connecting');
      await h.conn.onModuleDestroy();
      expect(h.conn.status().state).toBe('closed');
    });

    it('runs without a listener', async () => {
      const h = make({}, { listener: undefined });
      const s = await connected(h);
      s.serverClose(1006);
      await advance(HOUR);
      expect(h.conn.isAuthenticated()).toBe(false);
      expect(h.sockets.length).toBeGreaterThan(1);
      expect(logLines(h, 'connection listener threw')).toEqual([]);
    });

    it('cancels a pending reconnect', async () => {
      const h = make();
      await connected(h);
      h.socket().serverClose(1006);
      await h.conn.stop();
      expect(jest.getTimerCount()).toBe(0);
      await advance(HOUR);
      expect(h.sockets).toHaveLength(1);
    });

    it('drops a token that arrives after stop', async () => {
      const h = make();
      let release!: (t: OpentactToken) => void;
      h.tokens.getToken.mockImplementationOnce(() => new Promise((r) => (release = r)));
      await h.conn.start();
      await h.conn.stop();
      release({ token: 'late' });
      await flush();
      expect(h.sockets).toHaveLength(0);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('terminates sockets that do not finish closing and waits, bounded, for the sink', async () => {
      const h = make();
      h.sink.onFrame.mockImplementation(() => new Promise<void>(() => undefined));
      const s = await connected(h);
      s.holdClose = true;
      s.receive({ uuid: 'stuck' });
      let done = false;
      const stopping = h.conn.stop().then(() => (done = true));
      await advance(1_999);
      expect(s.terminated).toBe(false);
      await advance(1);
      expect(s.terminated).toBe(true);
      await advance(4_999);
      expect(done).toBe(false);
      await advance(1);
      await stopping;
      expect(done).toBe(true);
      expect(logLines(h, 'stopped with sink calls still in flight')).toEqual([
        expect.objectContaining({ level: 40, pendingFrames: 1 }),
      ]);
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  describe('failure paths', () => {
    it('reconnects with the ordinary backoff when no socket can be created', async () => {
      const h = make();
      h.createErrors.push(new Error('invalid url'));
      await h.conn.start();
      await flush();
      expect(h.sockets).toHaveLength(0);
      expect(h.conn.status()).toMatchObject({ state: 'closed', authFailures: 0 });
      expect(logLines(h, 'could not open a socket to Opentact')).toEqual([
        expect.objectContaining({
          level: 40,
          socket: 1,
          err: expect.objectContaining({ message: 'invalid url' }) as unknown,
        }),
      ]);
      await advance(499);
      expect(h.sockets).toHaveLength(0);
      await advance(1);
      expect(h.sockets).toHaveLength(1);
      expect(h.conn.status().reconnectCount).toBe(1);
    });

    it('logs an unreachable login with its code and keeps the token request non-fresh', async () => {
      const h = make();
      h.tokens.getToken.mockRejectedValueOnce(
        new OpentactAuthError('OPENTACT_UNREACHABLE', 'no answer'),
      );
      await h.conn.start();
      await flush();
      expect(logLines(h, 'could not get an Opentact token')).toEqual([
        expect.objectContaining({
          level: 40,
          err: expect.objectContaining({
            message: 'no answer',
            code: 'OPENTACT_UNREACHABLE',
          }) as unknown,
        }),
      ]);
      expect(h.listener.onAuthFailure).not.toHaveBeenCalled();
      await advance(500);
      expect(h.tokens.getToken).toHaveBeenLastCalledWith({ fresh: false });
      expect(h.sockets).toHaveLength(1);
    });

    it('keeps the old socket when a fresh token cannot be had, and retries with growing backoff', async () => {
      const h = make();
      const old = await connected(h);
      h.tokens.getToken
        .mockRejectedValueOnce(new OpentactAuthError('OPENTACT_UNREACHABLE', 'no answer'))
        .mockRejectedValueOnce('down');
      await advance(HOUR - 600_000);
      expect(h.tokens.getToken).toHaveBeenCalledTimes(2);
      expect(h.sockets).toHaveLength(1);
      expect(old.closedWith).toBeUndefined();
      expect(h.conn.status()).toMatchObject({ state: 'open', authFailures: 0 });
      expect(logLines(h, 'token refresh failed; keeping the old socket')).toEqual([
        expect.objectContaining({
          reason: 'could not get a fresh token: no answer',
          retryInMs: 750,
        }),
      ]);
      await advance(750);
      expect(h.tokens.getToken).toHaveBeenCalledTimes(3);
      expect(h.tokens.getToken).toHaveBeenLastCalledWith({ fresh: true });
      expect(logLines(h, 'token refresh failed; keeping the old socket')[1]).toMatchObject({
        reason: 'could not get a fresh token: down',
        retryInMs: 1_500,
      });
      await advance(1_499);
      expect(h.tokens.getToken).toHaveBeenCalledTimes(3);
      await advance(1);
      expect(h.sockets).toHaveLength(2);
      h.socket().open();
      h.socket().ack();
      expect(old.closedWith).toEqual({ code: 1000, reason: 'token refresh' });
    });

    it('counts a refused refresh login as an auth failure', async () => {
      const h = make();
      await connected(h);
      h.tokens.getToken.mockRejectedValueOnce(
        new OpentactAuthError('OPENTACT_AUTH_REJECTED', 'Opentact rejected the credentials', 401),
      );
      await advance(HOUR - 600_000);
      expect(h.conn.status()).toMatchObject({ state: 'open', authFailures: 1 });
      expect(h.listener.onAuthFailure).toHaveBeenCalledWith('Opentact rejected the credentials');
    });

    it('keeps the old socket when the refresh socket cannot be created', async () => {
      const h = make();
      const old = await connected(h);
      h.createErrors.push(new Error('invalid url'));
      await advance(HOUR - 600_000);
      expect(h.sockets).toHaveLength(1);
      expect(old.closedWith).toBeUndefined();
      expect(logLines(h, 'token refresh failed; keeping the old socket')).toEqual([
        expect.objectContaining({ reason: 'could not open a socket', retryInMs: 750 }),
      ]);
      await advance(750);
      expect(h.sockets).toHaveLength(2);
    });

    it('never refreshes a token without a known expiry', async () => {
      const h = make();
      h.tokens.getToken.mockResolvedValueOnce({ token: 'opaque' });
      await connected(h);
      await advance(10 * HOUR);
      expect(h.sockets).toHaveLength(1);
      expect(h.tokens.getToken).toHaveBeenCalledTimes(1);
    });
  });

  describe('lifecycle', () => {
    it('starts once however often it is asked, through the Nest hooks too', async () => {
      const h = make();
      await h.conn.onApplicationBootstrap();
      await h.conn.start();
      await flush();
      expect(h.sockets).toHaveLength(1);
      expect(h.tokens.getToken).toHaveBeenCalledTimes(1);
      h.socket().open();
      h.socket().ack();
      await h.conn.onModuleDestroy();
      expect(h.socket().closedWith).toEqual({ code: 1000, reason: 'shutdown' });
      expect(h.conn.status().state).toBe('closed');
    });

    it('notifies listeners added later as well', async () => {
      const h = make();
      const states: ConnectionState[] = [];
      h.conn.addListener({ onStateChange: (s) => void states.push(s) });
      await connected(h);
      expect(states).toEqual(['connecting', 'authenticating', 'open']);
    });

    it('bounds the bytes in flight at 64 MiB when the socket limit is unknown', async () => {
      const h = make();
      const sockets: FakeSocket[] = [];
      const conn = connectionFrom({
        config: baseConfig,
        ingestBufferMax: 1_000,
        tokens: h.tokens,
        rest: h.rest,
        sockets: { create: () => sockets[sockets.push(new FakeSocket()) - 1] },
        sink: { onFrame: () => new Promise<void>(() => undefined) },
        logger: pino({ level: 'silent' }),
      });
      harness = { ...h, conn };
      await conn.start();
      await flush();
      const s = sockets[0];
      s.open();
      s.ack();
      s.receive(Buffer.alloc(64 * 1024 * 1024 - 1));
      expect(s.paused).toBe(false);
      s.receive(Buffer.alloc(1));
      expect(s.paused).toBe(true);
      expect(conn.status().pendingBytes).toBe(64 * 1024 * 1024);
    });

    it('logs the subscriptions it created and caps a far renewal at the longest timer', async () => {
      const h = make({ subscribe: ['sms'] });
      h.rest.ensureSubscriptions.mockResolvedValue({
        created: [{ type: 'sms', channel: 'wss', is_active: true }],
        expiresAtMs: Date.now() + 100 * 24 * HOUR,
      });
      await connected(h);
      expect(logLines(h, 'created Opentact event subscriptions')).toEqual([
        expect.objectContaining({ types: ['sms'], expiresAt: '2025-04-11T00:00:00.000Z' }),
      ]);
      expect(h.conn.status().subscriptions.nextAttemptAt).toBe(
        new Date(Date.now() + 2 ** 31 - 1).toISOString(),
      );
    });
  });

  it('survives a listener that throws', async () => {
    const h = make();
    h.listener.onStateChange.mockImplementation(() => {
      throw new Error('metrics broke');
    });
    await connected(h);
    expect(h.conn.isAuthenticated()).toBe(true);
    expect(logLines(h, 'connection listener threw')).toEqual([
      expect.objectContaining({
        hook: 'onStateChange',
        err: expect.objectContaining({ message: 'metrics broke' }) as unknown,
      }),
      expect.objectContaining({ hook: 'onStateChange' }),
      expect.objectContaining({ hook: 'onStateChange' }),
    ]);
  });

  describe('connection errors', () => {
    const refused = (): Error =>
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });

    it('logs a run of identical failures once at warn, with the URL and the cause, never the secrets', async () => {
      const h = make({
        wssUrl: 'ws://user:hunter2@opentact.test:9/ws?token=secret-token',
        credentials: { kind: 'password', email: 'demo@opentact.local', password: 'hunter2' },
      });
      await h.conn.start();
      for (let attempt = 0; attempt < 4; attempt++) {
        await flush();
        const s = h.socket();
        s.emit('error', refused());
        s.serverClose(1006);
        await advance(10_000);
      }
      expect(h.sockets.length).toBeGreaterThanOrEqual(4);
      const warned = logLines(h, 'could not connect to the Opentact WSS');
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({
        level: 40,
        url: 'ws://opentact.test:9/ws?[redacted]',
        cause: 'ECONNREFUSED',
        detail: 'connect ECONNREFUSED 127.0.0.1:9',
        err: { code: 'ECONNREFUSED' },
      });
      expect(logLines(h, 'Opentact socket closed; reconnecting')).toHaveLength(0);
      const status = h.conn.status();
      expect(status.lastError).toBe(
        'could not connect to ws://opentact.test:9/ws?[redacted]: ECONNREFUSED',
      );
      expect(status.lastErrorAt).toBeDefined();
      const all = h.logs.join('\n');
      expect(all).not.toContain('hunter2');
      expect(all).not.toContain('secret-token');
    });

    it('logs a different cause at once, and clears the error once authenticated', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      h.socket().emit('error', refused());
      h.socket().serverClose(1006);
      await advance(30_000);
      h.socket().emit('error', new Error('Unexpected server response: 503'));
      h.socket().serverClose(1006);
      expect(logLines(h, 'could not connect to the Opentact WSS').map((l) => l.cause)).toEqual([
        'ECONNREFUSED',
        'upgrade refused: HTTP 503',
      ]);
      expect(h.conn.status().lastError).toContain('upgrade refused: HTTP 503');
      await advance(30_000);
      h.socket().open();
      h.socket().ack();
      expect(h.conn.status().lastError).toBeUndefined();
      // After a recovery the same failure is news again.
      h.socket().emit('error', refused());
      h.socket().serverClose(1006);
      expect(h.conn.status().lastError).toMatch(/closed \(code 1006, ECONNREFUSED\)/);
    });

    it('names an auth refusal as the reason', async () => {
      const h = make();
      await h.conn.start();
      await flush();
      h.socket().open();
      h.socket().receive({
        type: 'auth',
        message: 'WSS connection c1@1.2.3.4 - failed auth: jwt expired',
      });
      expect(h.conn.status()).toMatchObject({
        authenticated: false,
        authFailures: 1,
        lastError:
          'authentication failed: refused: WSS connection c1@1.2.3.4 - failed auth: jwt expired (message)',
      });
      await advance(120_000);
      expect(h.tokens.getToken).toHaveBeenLastCalledWith({ fresh: true });
    });
  });
});
