import WebSocket from 'ws';
import type { OpentactConfig } from '../config/app-config';

const MIB = 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Below this hard cap, an oversized frame costs memory for a moment, not the socket. */
const HARD_CAP_FLOOR_BYTES = 16 * MIB;

/**
 * The hard frame limit given to `ws`. Frames above `maxFrameBytes` are still read, so that the
 * ingest side can quarantine them and the socket, with the frames behind them, stays up. A frame
 * above this cap makes `ws` fail the connection (close code 1009 to the peer,
 * `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH` locally) before reading any of it: only its existence is
 * known, the connection reconnects at once, and frames sent meanwhile are lost.
 *
 * `ws` has no streaming read, so a frame is held whole before anyone can look at it: the cap is
 * what one frame may cost in memory. 16 MiB (or 4 × the frame limit) keeps megabyte frames, such
 * as the 5 MB one that once took the link down, on the quarantine path; the connection's
 * byte-bounded backpressure keeps several of them from piling up.
 */
export function hardMaxPayloadBytes(maxFrameBytes: number): number {
  return Math.max(4 * maxFrameBytes, HARD_CAP_FLOOR_BYTES);
}

/**
 * Opens client sockets to Opentact. The seam unit tests replace with a fake socket.
 *
 * UTF-8 is not checked by `ws`: its check fails the whole connection (1007) for one bad text
 * frame, losing every frame sent after it. The bytes go to the frame sink as received, where the
 * normaliser quarantines a frame that does not decode, and the socket reads on.
 */
export class WebSocketFactory {
  readonly maxPayloadBytes: number;

  constructor(config: Pick<OpentactConfig, 'maxFrameBytes'>) {
    this.maxPayloadBytes = hardMaxPayloadBytes(config.maxFrameBytes);
  }

  create(url: string): WebSocket {
    return new WebSocket(url, {
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: this.maxPayloadBytes,
      perMessageDeflate: false,
      followRedirects: false,
      skipUTF8Validation: true,
    });
  }
}
