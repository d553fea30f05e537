import type { RawData } from 'ws';

/**
 * The part of a `ws` client socket the connection uses. `ws`'s `WebSocket` satisfies it; unit
 * tests hand in an EventEmitter that does.
 */
export interface LiveSocket {
  readonly readyState: number;
  send(data: string, cb?: (err?: Error) => void): void;
  ping(): void;
  pause(): void;
  resume(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'open', listener: () => void): unknown;
  on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): unknown;
  on(event: 'ping' | 'pong', listener: (data: Buffer) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** `ws` ready states (the numbers are fixed by the WHATWG WebSocket interface). */
export const SocketState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

export interface SocketFactory {
  create(url: string): LiveSocket;
  /** The largest frame a socket reads; a larger one fails the socket. Undefined: not known. */
  readonly maxPayloadBytes?: number;
}

export function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) {
    return data;
  }
  if (Array.isArray(data)) {
    return Buffer.concat(data);
  }
  return Buffer.from(data);
}
