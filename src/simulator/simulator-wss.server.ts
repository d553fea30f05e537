import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { accountSnapshot, FrameType } from './frame-factory';
import { isRecord } from './http-json';
import type { SimulatorFaults } from './simulator-faults';
import type { SimulatorIdentity } from './simulator-identity';
import type { SimulatorCounters } from './simulator-stats';

/** How a refused auth looks on the wire; the real server's behaviour is undocumented. */
export type AuthFailure = 'close' | 'silent' | 'error-frame';

export const AUTH_FAILED_CLOSE_CODE = 4001;
export const GOING_AWAY_CLOSE_CODE = 1001;
const BACKPRESSURE_BYTES = 1024 * 1024;
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
const STOP_GRACE_MS = 1_000;

interface ClientState {
  connectionId: string;
  ip: string;
  authenticated: boolean;
}

function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) {
    return data.toString('utf8');
  }
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

/**
 * The WSS side of the simulator on the REST server's port: accepts or refuses upgrades, answers
 * pings and the auth frame (§2.3), and writes frames to every authenticated socket. What to send
 * is decided by its callers; how it misbehaves by the fault switches.
 */
export class SimulatorWssServer {
  private wss?: WebSocketServer;
  private readonly clients = new Map<WebSocket, ClientState>();
  /** Insertion-ordered, so frames go out to sockets in the order they authenticated. */
  private readonly authenticatedSockets = new Set<WebSocket>();

  constructor(
    private readonly identity: SimulatorIdentity,
    private readonly faults: SimulatorFaults,
    private readonly counters: SimulatorCounters,
    private readonly authFailure: AuthFailure,
  ) {}

  /** Open connections, authenticated or not. */
  get connections(): number {
    return this.clients.size;
  }

  get authenticated(): number {
    return this.authenticatedSockets.size;
  }

  attach(server: Server): void {
    // autoPong is off so setPongs(false) can simulate a peer that stopped answering.
    const wss = new WebSocketServer({
      server,
      autoPong: false,
      maxPayload: MAX_CLIENT_FRAME_BYTES,
      verifyClient: (_info, done) => {
        if (this.faults.refusingConnections) {
          this.counters.connectionsRefused++;
          done(false, 503, 'event stream unavailable');
          return;
        }
        done(true);
      },
    });
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.wss = wss;
  }

  /**
   * Writes one frame to every open authenticated socket; returns how many. The docs do not say
   * whether Opentact fans out to all of a user's connections; sending to all is the choice that
   * lets tests detect a bridge accidentally holding two connections (duplicates).
   */
  broadcast(data: Buffer, binary: boolean): number {
    let sockets = 0;
    for (const ws of this.authenticatedSockets) {
      if (ws.readyState !== WebSocket.OPEN) {
        continue;
      }
      if (ws.bufferedAmount > BACKPRESSURE_BYTES) {
        this.counters.backpressuredSends++;
      }
      ws.send(data, { binary });
      sockets++;
    }
    this.counters.framesSent += sockets;
    return sockets;
  }

  /** Terminates every connection abruptly (no close frame), like a network cut. */
  dropAll(): void {
    for (const ws of this.clients.keys()) {
      ws.terminate();
    }
  }

  /** Closes every socket with 1001 (cutting those that do not answer) and stops accepting. */
  async close(): Promise<void> {
    const wss = this.wss;
    if (!wss) {
      return;
    }
    for (const ws of this.clients.keys()) {
      ws.close(GOING_AWAY_CLOSE_CODE, 'simulator stopping');
    }
    // wss.close waits for every client's close handshake; peers that never answer are cut.
    await new Promise<void>((resolve) => {
      const grace = setTimeout(() => this.dropAll(), STOP_GRACE_MS);
      wss.close(() => {
        clearTimeout(grace);
        resolve();
      });
    });
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const state: ClientState = {
      connectionId: randomUUID(),
      ip: clientIp(req),
      authenticated: false,
    };
    this.clients.set(ws, state);
    this.counters.connectionsTotal++;
    // A client that vanishes mid-frame raises 'error'; without a listener it would crash us.
    ws.on('error', () => undefined);
    ws.on('ping', (data: Buffer) => {
      if (this.faults.pongsEnabled && ws.readyState === WebSocket.OPEN) {
        ws.pong(data);
      }
    });
    ws.on('message', (data: RawData, isBinary: boolean) =>
      this.onClientFrame(ws, state, data, isBinary),
    );
    ws.on('close', () => {
      this.clients.delete(ws);
      this.authenticatedSockets.delete(ws);
    });
  }

  private onClientFrame(ws: WebSocket, state: ClientState, data: RawData, isBinary: boolean): void {
    // Only a JSON text auth frame means anything; the real server's reaction to anything else
    // is undocumented, so it is ignored rather than guessed at.
    if (isBinary || state.authenticated) {
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      return;
    }
    if (!isRecord(message) || message.type !== FrameType.Auth) {
      return;
    }
    this.counters.authAttempts++;
    const claims =
      typeof message.payload === 'string' ? this.identity.verifyToken(message.payload) : undefined;
    if (!claims || this.faults.authMode === 'refuse') {
      this.counters.authRefused++;
      this.refuseAuth(ws, state);
      return;
    }
    const override = this.faults.authAckOverride;
    if (override !== undefined) {
      if (override.accepted) {
        state.authenticated = true;
        this.authenticatedSockets.add(ws);
      } else {
        this.counters.authRefused++;
      }
      ws.send(override.text);
      return;
    }
    state.authenticated = true;
    this.authenticatedSockets.add(ws);
    ws.send(JSON.stringify(this.authAck(state)));
  }

  private refuseAuth(ws: WebSocket, state: ClientState): void {
    switch (this.authFailure) {
      case 'close':
        ws.close(AUTH_FAILED_CLOSE_CODE, 'auth failed');
        return;
      case 'silent':
        return;
      case 'error-frame':
        ws.send(
          JSON.stringify({
            type: FrameType.Auth,
            message: `WSS connection ${state.connectionId}@${state.ip} - auth failed`,
            success: false,
          }),
        );
        ws.close(AUTH_FAILED_CLOSE_CODE, 'auth failed');
        return;
    }
  }

  /** Shaped like opentact.md §2.3. */
  private authAck(state: ClientState): Record<string, unknown> {
    const now = new Date().toISOString();
    // The auth example's account has phone as a string and no balance, unlike event frames.
    const account = accountSnapshot();
    account.phone = String(account.phone);
    delete account.balance;
    const { user } = this.identity;
    return {
      uuid: randomUUID(),
      created_on: now,
      type: FrameType.Auth,
      message: `WSS connection ${state.connectionId}@${state.ip} - success auth ${user.email}`,
      payload: {
        uuid: state.connectionId,
        ip: state.ip,
        user: { ...user, wss_online: true },
        account,
      },
      account,
      modified_on: now,
      delivery_report: [],
    };
  }
}
