import { EventEmitter } from 'node:events';
import { type LiveSocket, SocketState } from './live-socket';

/**
 * A `ws` stand-in for the platform specs, driven by the test (`open()`, `ack()`, `receive()`,
 * `serverClose()`); it records what the code under test asks of it. Spec-only: not built, not
 * mutated.
 */
export class FakeSocket extends EventEmitter implements LiveSocket {
  readyState: number = SocketState.CONNECTING;
  readonly sent: string[] = [];
  pings = 0;
  pauses = 0;
  resumes = 0;
  paused = false;
  terminates = 0;
  closedWith?: { code?: number; reason?: string };
  /** When set, send() reports this error to its callback. */
  sendError?: Error;
  pingThrows = false;
  closeThrows = false;
  terminateThrows = false;
  /** When set, close() waits for serverClose() like a real closing handshake. */
  holdClose = false;
  /** Answer pings (asynchronously, like a real peer); off simulates a dead peer. */
  autoPong = true;

  get terminated(): boolean {
    return this.terminates > 0;
  }

  send(data: string, cb?: (err?: Error) => void): void {
    this.sent.push(data);
    cb?.(this.sendError);
  }
  ping(): void {
    if (this.pingThrows) {
      throw new Error('not open');
    }
    this.pings++;
    if (this.autoPong) {
      void Promise.resolve().then(() => this.pong());
    }
  }
  pause(): void {
    this.pauses++;
    this.paused = true;
  }
  resume(): void {
    this.resumes++;
    this.paused = false;
  }
  close(code?: number, reason?: string): void {
    if (this.closeThrows) {
      throw new Error('invalid close code');
    }
    this.closedWith = { code, reason };
    if (this.readyState !== SocketState.CLOSED) {
      this.readyState = SocketState.CLOSING;
    }
    if (!this.holdClose) {
      this.serverClose(code ?? 1005);
    }
  }
  terminate(): void {
    this.terminates++;
    if (this.terminateThrows) {
      throw new Error('already gone');
    }
    this.serverClose(1006);
  }

  open(): void {
    this.readyState = SocketState.OPEN;
    this.emit('open');
  }
  receive(frame: unknown, isBinary = false): void {
    const data = Buffer.isBuffer(frame) ? frame : Buffer.from(JSON.stringify(frame));
    this.emit('message', data, isBinary);
  }
  ack(): void {
    this.receive({ type: 'auth', message: 'WSS connection c1@127.0.0.1 - success auth demo' });
  }
  /** What `ws` does for a frame over maxPayload: 'error' first, 'close' once the socket ends. */
  oversizeFrame(): void {
    const error = Object.assign(new RangeError('Max payload size exceeded'), {
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    });
    this.emit('error', error);
  }
  pong(): void {
    this.emit('pong', Buffer.alloc(0));
  }
  serverClose(code = 1006, reason = ''): void {
    if (this.readyState === SocketState.CLOSED) {
      return;
    }
    this.readyState = SocketState.CLOSED;
    this.emit('close', code, Buffer.from(reason));
  }
}
