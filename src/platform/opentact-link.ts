import type { Logger } from 'pino';
import { Clock, SystemClock } from '../common/clock';
import type { RawData } from 'ws';
import { authRefusalReason, describeAuthFrame, judgeAuthFrame } from './auth-ack';
import type { SocketErrorInfo } from './connect-error';
import { type LiveSocket, SocketState, toBuffer } from './live-socket';

export type LinkPhase = 'connecting' | 'authenticating' | 'open' | 'closed';

export interface LinkTimings {
  authTimeoutMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
}

/** How a link ended; reported once. */
export interface LinkEnd {
  /** The WebSocket handshake completed (the server was reachable). */
  reachedServer: boolean;
  authenticated: boolean;
  /** Set when authentication failed: refused, timed out, or closed by the server before the ack. */
  authFailure?: string;
  /** Terminated because a ping went unanswered. */
  deadPeer: boolean;
  /** Failed by `ws` because a frame was over its hard size cap (1009 sent to the peer). */
  oversizeFrame: boolean;
  code: number;
  reason: string;
  /** The last error the socket reported (message and code only): why it could not connect. */
  error?: SocketErrorInfo;
}

export interface LinkHandlers {
  onAuthenticating(): void;
  onAuthenticated(): void;
  onFrame(data: Buffer, isBinary: boolean, receivedAtMs: number): void;
  onDeadPeer(): void;
  onEnd(end: LinkEnd): void;
}

/** The error `ws` raises, before reading a byte of it, for a frame over `maxPayload`. */
const OVERSIZE_FRAME_ERROR = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/**
 * One socket to Opentact: sends the `auth` frame, recognises the ack, keeps a heartbeat and
 * passes every other frame on. It never reconnects; the connection decides what happens next.
 *
 * Heartbeat: a protocol ping every `pingIntervalMs`; no pong (or any other frame) within
 * `pongTimeoutMs` terminates the socket. While paused, `ws` stops reading the TCP socket, so
 * pongs are not delivered either: the heartbeat is suspended while paused and restarts on resume.
 */
export class OpentactLink {
  private phase: LinkPhase = 'connecting';
  private reachedServer = false;
  private authFailure?: string;
  private deadPeer = false;
  private oversizeFrame = false;
  private lastError?: SocketErrorInfo;
  private closedByUs = false;
  private wantPaused = false;
  private appliedPaused = false;
  private authTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private pongTimer?: NodeJS.Timeout;
  private resolveEnded!: () => void;
  /** Resolves once the socket has closed and `onEnd` has run. */
  readonly ended: Promise<void> = new Promise((resolve) => {
    this.resolveEnded = resolve;
  });

  constructor(
    private readonly socket: LiveSocket,
    private readonly token: string,
    private readonly timings: LinkTimings,
    private readonly handlers: LinkHandlers,
    private readonly logger: Logger,
    /** Besides the token, what must never appear in a log line (the password). */
    private readonly secrets: readonly string[] = [],
    /** Stamps each frame's arrival. */
    private readonly clock: Clock = new SystemClock(),
  ) {
    socket.on('open', () => this.onOpen());
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('pong', () => this.markAlive());
    socket.on('ping', () => this.markAlive());
    socket.on('error', (error) => this.onError(error));
    socket.on('close', (code, reason) => this.onClose(code, reason));
  }

  get currentPhase(): LinkPhase {
    return this.phase;
  }

  /** Stops (or restarts) reading. Applied once authenticated, so the ack itself is never held up. */
  setPaused(paused: boolean): void {
    this.wantPaused = paused;
    this.applyPause();
  }

  /** Starts the closing handshake; the link ends when the socket reports `close`. */
  close(code: number, reason: string): void {
    this.closedByUs = true;
    this.stopTimers();
    try {
      this.socket.close(code, reason);
    } catch (error) {
      this.logger.debug({ err: error }, 'close failed; terminating');
      this.terminate();
    }
  }

  terminate(): void {
    this.stopTimers();
    try {
      this.socket.terminate();
    } catch (error) {
      this.logger.debug({ err: error }, 'terminate failed');
    }
  }

  private onOpen(): void {
    this.reachedServer = true;
    if (this.phase !== 'connecting') {
      return;
    }
    this.phase = 'authenticating';
    this.handlers.onAuthenticating();
    this.authTimer = this.later(this.timings.authTimeoutMs, () => {
      this.authFailure = `no auth acknowledgement within ${this.timings.authTimeoutMs} ms`;
      this.terminate();
    });
    this.pingTimer = setInterval(() => this.ping(), this.timings.pingIntervalMs);
    this.pingTimer.unref();
    this.socket.send(JSON.stringify({ type: 'auth', payload: this.token }), (error) => {
      if (error) {
        this.logger.warn({ err: { message: error.message } }, 'sending the auth frame failed');
        this.terminate();
      }
    });
  }

  private onMessage(raw: RawData, isBinary: boolean): void {
    const receivedAtMs = this.clock.now().getTime();
    this.markAlive();
    const data = toBuffer(raw);
    if (this.phase === 'authenticating' && !isBinary) {
      const text = data.toString('utf8');
      const verdict = judgeAuthFrame(text);
      if (verdict.ack === 'success') {
        if (verdict.unfamiliar) {
          this.logger.warn(
            { ack: describeAuthFrame(text, this.allSecrets()) },
            'accepted an auth acknowledgement of an undocumented shape: it carries no failure signal',
          );
        }
        this.clearAuthTimer();
        this.phase = 'open';
        this.applyPause();
        this.handlers.onAuthenticated();
        return;
      }
      if (verdict.ack === 'failure') {
        this.authFailure = `${authRefusalReason(text, this.allSecrets())} (${verdict.signal ?? 'ack'})`;
        this.terminate();
        return;
      }
    }
    this.handlers.onFrame(data, isBinary, receivedAtMs);
  }

  private onError(error: Error): void {
    // `ws` always follows an error with `close`; the link ends there.
    this.lastError = errorInfo(error);
    this.logger.debug({ err: this.lastError }, 'socket error');
    if ((error as { code?: unknown }).code === OVERSIZE_FRAME_ERROR) {
      // `ws` has stopped reading and sent 1009; waiting for the peer's close frame, which it can
      // no longer read, would only hold the link (up to 30 s) while nothing arrives.
      this.oversizeFrame = true;
      this.terminate();
    }
  }

  private onClose(code: number, reason: Buffer): void {
    if (this.phase === 'closed') {
      return;
    }
    const wasAuthenticating = this.phase === 'authenticating';
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    this.stopTimers();
    if (
      wasAuthenticating &&
      !this.authFailure &&
      !this.closedByUs &&
      !this.deadPeer &&
      !this.oversizeFrame
    ) {
      this.authFailure = `closed before the auth acknowledgement (code ${code})`;
    }
    this.handlers.onEnd({
      reachedServer: this.reachedServer,
      authenticated: wasOpen,
      authFailure: this.authFailure,
      deadPeer: this.deadPeer,
      oversizeFrame: this.oversizeFrame,
      code,
      reason: reason.toString('utf8').slice(0, 123),
      error: this.lastError,
    });
    this.resolveEnded();
  }

  private ping(): void {
    if (this.appliedPaused || this.pongTimer || this.socket.readyState !== SocketState.OPEN) {
      return;
    }
    try {
      this.socket.ping();
    } catch (error) {
      this.logger.debug({ err: error }, 'ping failed');
      return;
    }
    this.pongTimer = this.later(this.timings.pongTimeoutMs, () => {
      this.pongTimer = undefined;
      this.deadPeer = true;
      this.handlers.onDeadPeer();
      this.terminate();
    });
  }

  private markAlive(): void {
    if (this.pongTimer) {
      clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    }
  }

  private applyPause(): void {
    if (this.phase !== 'open' || this.appliedPaused === this.wantPaused) {
      return;
    }
    this.appliedPaused = this.wantPaused;
    if (this.wantPaused) {
      // No pong can be read while paused: suspend the dead-peer check instead of misfiring.
      this.markAlive();
      this.socket.pause();
    } else {
      this.socket.resume();
    }
  }

  private clearAuthTimer(): void {
    if (this.authTimer) {
      clearTimeout(this.authTimer);
      this.authTimer = undefined;
    }
  }

  private stopTimers(): void {
    this.clearAuthTimer();
    this.markAlive();
    if (this.pingTimer) {
      clearInterval(this.pingTimer);
      this.pingTimer = undefined;
    }
  }

  private allSecrets(): string[] {
    return [this.token, ...this.secrets];
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  }
}

/**
 * Message and code of a socket error. A connect to a host with several addresses fails with an
 * AggregateError whose own message may be empty: the first inner error speaks for it.
 */
function errorInfo(error: Error): SocketErrorInfo {
  const inner = error instanceof AggregateError ? (error.errors as unknown[])[0] : undefined;
  const code =
    (error as { code?: unknown }).code ?? (inner as { code?: unknown } | undefined)?.code;
  const message = error.message !== '' || !(inner instanceof Error) ? error.message : inner.message;
  return { message, code: typeof code === 'string' ? code : undefined };
}
