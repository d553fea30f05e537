import pino from 'pino';
import { SocketState } from './live-socket';
import { FakeSocket } from './live-socket.spec-fixture';
import { type LinkEnd, type LinkHandlers, OpentactLink, type LinkTimings } from './opentact-link';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.secret-token.sig';
const timings: LinkTimings = {
  authTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  pongTimeoutMs: 5_000,
};

interface Rig {
  link: OpentactLink;
  socket: FakeSocket;
  handlers: { [K in keyof LinkHandlers]: jest.Mock };
  frames: { text: string; isBinary: boolean; receivedAtMs: number }[];
  ends: LinkEnd[];
  logs: { level: number; msg: string; err?: { message?: string } }[];
}

function rig(t: LinkTimings = timings): Rig {
  // The link alone: close() starts a handshake that only the test ends, and pings go unanswered.
  const socket = Object.assign(new FakeSocket(), { holdClose: true, autoPong: false });
  const frames: Rig['frames'] = [];
  const ends: LinkEnd[] = [];
  const logs: Rig['logs'] = [];
  const handlers = {
    onAuthenticating: jest.fn(),
    onAuthenticated: jest.fn(),
    onFrame: jest.fn((data: Buffer, isBinary: boolean, receivedAtMs: number) => {
      frames.push({ text: data.toString('utf8'), isBinary, receivedAtMs });
    }),
    onDeadPeer: jest.fn(),
    onEnd: jest.fn((end: LinkEnd) => void ends.push(end)),
  };
  const logger = pino(
    { level: 'trace' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Rig['logs'][number]) },
  );
  const link = new OpentactLink(socket, TOKEN, t, handlers, logger);
  return { link, socket, handlers, frames, ends, logs };
}

/** A link whose socket has opened and been acknowledged. */
function openRig(): Rig {
  const r = rig();
  r.socket.open();
  r.socket.ack();
  return r;
}

describe('OpentactLink', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  describe('authentication', () => {
    it('sends the auth frame on open and is open once the ack arrives, without forwarding it', () => {
      const r = rig();
      expect(r.link.currentPhase).toBe('connecting');
      r.socket.open();
      expect(r.link.currentPhase).toBe('authenticating');
      expect(r.handlers.onAuthenticating).toHaveBeenCalledTimes(1);
      expect(r.socket.sent.map((f) => JSON.parse(f) as unknown)).toEqual([
        { type: 'auth', payload: TOKEN },
      ]);
      r.socket.ack();
      expect(r.link.currentPhase).toBe('open');
      expect(r.handlers.onAuthenticated).toHaveBeenCalledTimes(1);
      expect(r.handlers.onFrame).not.toHaveBeenCalled();
    });

    it('ignores a second open event', () => {
      const r = openRig();
      r.socket.emit('open');
      expect(r.link.currentPhase).toBe('open');
      expect(r.handlers.onAuthenticating).toHaveBeenCalledTimes(1);
      expect(r.socket.sent).toHaveLength(1);
    });

    it('forwards frames that are not an ack, and a binary frame even if it reads like one', () => {
      const r = rig();
      r.socket.open();
      jest.setSystemTime(new Date('2025-01-01T00:00:01Z'));
      r.socket.receive({ type: 'sms', uuid: 'e1' });
      r.socket.receive(
        Buffer.from(JSON.stringify({ type: 'auth', success: true })),
        true, // binary: never an ack
      );
      expect(r.link.currentPhase).toBe('authenticating');
      r.socket.ack();
      r.socket.receive({ type: 'auth', success: false }); // after the ack: an ordinary frame
      expect(r.link.currentPhase).toBe('open');
      expect(r.frames).toEqual([
        {
          text: '{"type":"sms","uuid":"e1"}',
          isBinary: false,
          receivedAtMs: Date.parse('2025-01-01T00:00:01Z'),
        },
        {
          text: '{"type":"auth","success":true}',
          isBinary: true,
          receivedAtMs: Date.parse('2025-01-01T00:00:01Z'),
        },
        {
          text: '{"type":"auth","success":false}',
          isBinary: false,
          receivedAtMs: Date.parse('2025-01-01T00:00:01Z'),
        },
      ]);
      expect(r.handlers.onAuthenticated).toHaveBeenCalledTimes(1);
    });

    it('forwards frames that arrive before the socket has opened', () => {
      const r = rig();
      r.socket.receive({ type: 'auth', success: true });
      expect(r.link.currentPhase).toBe('connecting');
      expect(r.frames.map((f) => f.text)).toEqual(['{"type":"auth","success":true}']);
      expect(r.handlers.onAuthenticated).not.toHaveBeenCalled();
    });

    it('ends with a redacted reason when the server refuses, and does not forward the refusal', () => {
      const r = rig();
      r.socket.open();
      r.socket.receive({ type: 'auth', success: false, message: `bad token ${TOKEN} (x)` });
      expect(r.socket.terminates).toBe(1);
      expect(r.frames).toEqual([]);
      expect(r.handlers.onAuthenticated).not.toHaveBeenCalled();
      expect(r.ends).toEqual([
        {
          reachedServer: true,
          authenticated: false,
          authFailure: 'refused: bad token [redacted] (x) (success: false)',
          deadPeer: false,
          oversizeFrame: false,
          code: 1006,
          reason: '',
        },
      ]);
    });

    it('times out after authTimeoutMs without an ack', () => {
      const r = rig();
      r.socket.open();
      jest.advanceTimersByTime(9_999);
      expect(r.socket.terminates).toBe(0);
      jest.advanceTimersByTime(1);
      expect(r.socket.terminates).toBe(1);
      expect(r.ends).toHaveLength(1);
      expect(r.ends[0]).toMatchObject({
        authenticated: false,
        authFailure: 'no auth acknowledgement within 10000 ms',
      });
    });

    it('stops the auth timeout once acknowledged', () => {
      const r = openRig();
      jest.advanceTimersByTime(10_000);
      expect(r.socket.terminates).toBe(0);
      expect(r.ends).toEqual([]);
      expect(r.link.currentPhase).toBe('open');
    });

    it('terminates when the auth frame cannot be sent, logging only the message', () => {
      const r = rig();
      r.socket.sendError = new Error('write EPIPE');
      r.socket.open();
      expect(r.socket.terminates).toBe(1);
      const warn = r.logs.find((l) => l.msg === 'sending the auth frame failed');
      expect(warn).toMatchObject({ level: 40, err: { message: 'write EPIPE' } });
      expect(r.ends[0]).toMatchObject({ reachedServer: true, authenticated: false });
    });

    it('counts a server close before the ack as an auth failure, naming the code', () => {
      const r = rig();
      r.socket.open();
      r.socket.serverClose(4001, 'auth failed');
      expect(r.ends).toEqual([
        {
          reachedServer: true,
          authenticated: false,
          authFailure: 'closed before the auth acknowledgement (code 4001)',
          deadPeer: false,
          oversizeFrame: false,
          code: 4001,
          reason: 'auth failed',
        },
      ]);
    });

    it('is no auth failure when the socket never opened (server unreachable)', () => {
      const r = rig();
      r.socket.serverClose(1006);
      expect(r.ends).toEqual([
        {
          reachedServer: false,
          authenticated: false,
          authFailure: undefined,
          deadPeer: false,
          oversizeFrame: false,
          code: 1006,
          reason: '',
        },
      ]);
    });

    it('is no auth failure when we close it ourselves while authenticating', () => {
      const r = rig();
      r.socket.open();
      r.link.close(1000, 'shutdown');
      expect(r.socket.closedWith).toEqual({ code: 1000, reason: 'shutdown' });
      r.socket.serverClose(1000);
      expect(r.ends[0]).toMatchObject({ authenticated: false, authFailure: undefined, code: 1000 });
    });
  });

  describe('ending', () => {
    it('reports an authenticated link once, with the reason cut to 123 bytes', async () => {
      const r = openRig();
      let ended = false;
      void r.link.ended.then(() => (ended = true));
      const reason = 'r'.repeat(200);
      r.socket.serverClose(1001, reason);
      r.socket.emit('close', 1006, Buffer.from('again'));
      expect(r.link.currentPhase).toBe('closed');
      expect(r.ends).toEqual([
        {
          reachedServer: true,
          authenticated: true,
          authFailure: undefined,
          deadPeer: false,
          oversizeFrame: false,
          code: 1001,
          reason: 'r'.repeat(123),
        },
      ]);
      await Promise.resolve();
      expect(ended).toBe(true);
    });

    it('has not ended before the socket closes', async () => {
      const r = openRig();
      let ended = false;
      void r.link.ended.then(() => (ended = true));
      r.link.close(1000, 'bye');
      await Promise.resolve();
      await Promise.resolve();
      expect(ended).toBe(false);
      expect(r.ends).toEqual([]);
    });

    it('stops the heartbeat once closed', () => {
      const r = openRig();
      r.socket.serverClose(1000);
      r.socket.readyState = SocketState.OPEN; // even if the socket claimed to be open
      jest.advanceTimersByTime(5 * 30_000);
      expect(r.socket.pings).toBe(0);
    });

    it('terminates when close throws, and logs it', () => {
      const r = openRig();
      r.socket.closeThrows = true;
      r.link.close(4999, 'bad');
      expect(r.socket.terminates).toBe(1);
      expect(r.logs.find((l) => l.msg === 'close failed; terminating')).toMatchObject({
        level: 20,
        err: { message: 'invalid close code' },
      });
      expect(r.ends[0]).toMatchObject({ code: 1006, authenticated: true });
    });

    it('logs a terminate that throws instead of raising it', () => {
      const r = openRig();
      r.socket.terminateThrows = true;
      expect(() => r.link.terminate()).not.toThrow();
      expect(r.logs.find((l) => l.msg === 'terminate failed')).toMatchObject({
        level: 20,
        err: { message: 'already gone' },
      });
    });

    it('reports the last socket error, the first inner one of an AggregateError', () => {
      const r = rig();
      const refused = (address: string): Error =>
        Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
      r.socket.emit('error', new AggregateError([refused('::1:9'), refused('127.0.0.1:9')], ''));
      r.socket.serverClose(1006);
      expect(r.ends[0]).toMatchObject({
        reachedServer: false,
        error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED ::1:9' },
      });
    });

    it('terminates on an oversize-frame error and reports it, not as an auth failure', () => {
      const r = rig();
      r.socket.open();
      r.socket.emit(
        'error',
        Object.assign(new RangeError('Max payload size exceeded'), {
          code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
        }),
      );
      expect(r.socket.terminates).toBe(1);
      expect(r.ends).toEqual([
        {
          reachedServer: true,
          authenticated: false,
          authFailure: undefined,
          deadPeer: false,
          oversizeFrame: true,
          code: 1006,
          reason: '',
          error: {
            code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
            message: 'Max payload size exceeded',
          },
        },
      ]);
    });

    it('waits for close after any other socket error', () => {
      const r = openRig();
      r.socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      expect(r.socket.terminates).toBe(0);
      expect(r.ends).toEqual([]);
      expect(r.logs.find((l) => l.msg === 'socket error')).toMatchObject({
        err: { message: 'read ECONNRESET' },
      });
      r.socket.serverClose(1006);
      expect(r.ends[0]).toMatchObject({ oversizeFrame: false, authenticated: true });
    });
  });

  describe('heartbeat', () => {
    it('pings every interval and terminates a peer that does not answer within the pong timeout', () => {
      const r = openRig();
      jest.advanceTimersByTime(29_999);
      expect(r.socket.pings).toBe(0);
      jest.advanceTimersByTime(1);
      expect(r.socket.pings).toBe(1);
      jest.advanceTimersByTime(4_999);
      expect(r.socket.terminates).toBe(0);
      expect(r.handlers.onDeadPeer).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(r.handlers.onDeadPeer).toHaveBeenCalledTimes(1);
      expect(r.socket.terminates).toBe(1);
      expect(r.ends).toEqual([
        {
          reachedServer: true,
          authenticated: true,
          authFailure: undefined,
          deadPeer: true,
          oversizeFrame: false,
          code: 1006,
          reason: '',
        },
      ]);
    });

    it('does not extend the auth timeout for frames other than the ack', () => {
      const r = rig();
      r.socket.open();
      jest.advanceTimersByTime(9_000);
      r.socket.receive({ type: 'sms' }); // no effect on the auth timeout
      jest.advanceTimersByTime(1_000);
      expect(r.ends[0]).toMatchObject({ authFailure: 'no auth acknowledgement within 10000 ms' });
    });

    it.each([
      ['pong', (s: FakeSocket) => s.emit('pong', Buffer.alloc(0))],
      ['ping', (s: FakeSocket) => s.emit('ping', Buffer.alloc(0))],
      ['frame', (s: FakeSocket) => s.receive({ type: 'sms' })],
    ])('takes a %s as a sign of life', (_what, answer) => {
      const r = openRig();
      for (let i = 0; i < 4; i++) {
        jest.advanceTimersByTime(30_000);
        answer(r.socket);
      }
      jest.advanceTimersByTime(29_999);
      expect(r.socket.pings).toBe(4);
      expect(r.socket.terminates).toBe(0);
      expect(r.handlers.onDeadPeer).not.toHaveBeenCalled();
    });

    it('sends no second ping while one is unanswered', () => {
      const r = rig({ authTimeoutMs: 600_000, pingIntervalMs: 1_000, pongTimeoutMs: 5_000 });
      r.socket.open();
      r.socket.ack();
      // first ping at 1 s; the intervals up to its 5 s deadline send none
      jest.advanceTimersByTime(5_999);
      expect(r.socket.pings).toBe(1);
      expect(r.handlers.onDeadPeer).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(r.handlers.onDeadPeer).toHaveBeenCalledTimes(1);
    });

    it('does not ping a socket that is not open', () => {
      const r = openRig();
      r.socket.readyState = SocketState.CLOSING;
      jest.advanceTimersByTime(30_000);
      expect(r.socket.pings).toBe(0);
      jest.advanceTimersByTime(60_000);
      expect(r.handlers.onDeadPeer).not.toHaveBeenCalled();
      expect(r.socket.terminates).toBe(0);
    });

    it('logs a ping that throws and arms no pong deadline for it', () => {
      const r = openRig();
      r.socket.pingThrows = true;
      jest.advanceTimersByTime(30_000);
      expect(r.logs.find((l) => l.msg === 'ping failed')).toMatchObject({
        level: 20,
        err: { message: 'not open' },
      });
      jest.advanceTimersByTime(29_999);
      expect(r.handlers.onDeadPeer).not.toHaveBeenCalled();
      r.socket.pingThrows = false;
      jest.advanceTimersByTime(1);
      expect(r.socket.pings).toBe(1);
    });

    it('heartbeats while authenticating too', () => {
      const r = rig({ authTimeoutMs: 600_000, pingIntervalMs: 1_000, pongTimeoutMs: 500 });
      r.socket.open();
      jest.advanceTimersByTime(1_000);
      expect(r.socket.pings).toBe(1);
      jest.advanceTimersByTime(500);
      expect(r.handlers.onDeadPeer).toHaveBeenCalledTimes(1);
      expect(r.link.currentPhase).toBe('closed');
      expect(r.ends[0]).toMatchObject({ deadPeer: true, authFailure: undefined });
    });
  });

  describe('pause', () => {
    it('pauses and resumes the socket once open, once per change', () => {
      const r = openRig();
      r.link.setPaused(true);
      r.link.setPaused(true);
      expect(r.socket.pauses).toBe(1);
      expect(r.socket.resumes).toBe(0);
      r.link.setPaused(false);
      r.link.setPaused(false);
      expect(r.socket.pauses).toBe(1);
      expect(r.socket.resumes).toBe(1);
    });

    it('does not resume a socket that was never paused', () => {
      const r = openRig();
      r.link.setPaused(false);
      expect(r.socket.resumes).toBe(0);
    });

    it('holds a pause asked for while authenticating until the ack is in', () => {
      const r = rig();
      r.socket.open();
      r.link.setPaused(true);
      expect(r.socket.pauses).toBe(0);
      r.socket.ack();
      expect(r.socket.pauses).toBe(1);
      expect(r.handlers.onAuthenticated).toHaveBeenCalledTimes(1);
    });

    it('suspends the heartbeat while paused, cancelling an unanswered ping, and restarts it on resume', () => {
      const r = openRig();
      jest.advanceTimersByTime(30_000);
      expect(r.socket.pings).toBe(1);
      r.link.setPaused(true);
      jest.advanceTimersByTime(120_000);
      expect(r.socket.pings).toBe(1);
      expect(r.handlers.onDeadPeer).not.toHaveBeenCalled();
      r.link.setPaused(false);
      jest.advanceTimersByTime(30_000);
      expect(r.socket.pings).toBe(2);
      jest.advanceTimersByTime(5_000);
      expect(r.handlers.onDeadPeer).toHaveBeenCalledTimes(1);
    });
  });
});
