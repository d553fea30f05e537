import WebSocket from 'ws';
import type { OpentactConfig } from '../config/app-config';

const MIB = 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The hard frame limit given to `ws`. Frames above `maxFrameBytes` are still read, so that the
 * ingest side can quarantine them (a record of what was refused is worth more than a silent
 * gap). A frame above this cap makes `ws` fail the connection (close code 1009 to the peer,
 * `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH` locally): that frame is lost and the connection reconnects.
 */
export function hardMaxPayloadBytes(maxFrameBytes: number): number {
  return Math.max(4 * maxFrameBytes, 4 * MIB);
}

/** Opens client sockets to Opentact. The seam unit tests replace with a fake socket. */
export class WebSocketFactory {
  constructor(private readonly config: Pick<OpentactConfig, 'maxFrameBytes'>) {}

  create(url: string): WebSocket {
    return new WebSocket(url, {
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: hardMaxPayloadBytes(this.config.maxFrameBytes),
      perMessageDeflate: false,
      followRedirects: false,
    });
  }
}
