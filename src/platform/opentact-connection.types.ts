/** Receives every frame read from Opentact (except the auth ack). The ingest module provides it. */
export interface FrameSink {
  onFrame(data: Buffer, isBinary: boolean, receivedAtMs: number): Promise<void>;
}

/** Nest token under which the importing module provides the `FrameSink`. */
export const FRAME_SINK = Symbol('FRAME_SINK');

export type ConnectionState = 'connecting' | 'authenticating' | 'open' | 'closed';

/**
 * `disabled`: OPENTACT_SUBSCRIBE is empty. `pending`: not ensured yet on this process. `ok`: the
 * last attempt succeeded. `failing`: the last attempt failed and is being retried with backoff.
 */
export type SubscriptionsState = 'disabled' | 'pending' | 'ok' | 'failing';

export interface SubscriptionsStatus {
  state: SubscriptionsState;
  /** Consecutive failed attempts. */
  failures: number;
  lastError?: string;
  lastEnsuredAt?: string;
  /** The next attempt: a retry while failing, a renewal before the first entry lapses when ok. */
  nextAttemptAt?: string;
}

export interface ConnectionStatus {
  state: ConnectionState;
  authenticated: boolean;
  connectedSince?: string;
  lastFrameAt?: string;
  reconnectCount: number;
  authFailures: number;
  paused: boolean;
  pendingFrames: number;
  /** Bytes of the frames handed to the sink and not yet settled. */
  pendingBytes: number;
  /** Sockets failed by a frame over the hard size limit. */
  oversizeFrames: number;
  /**
   * Why the link is not authenticated: the last connect error (with the URL, never credentials),
   * auth refusal or login failure. Cleared once a socket authenticates.
   */
  lastError?: string;
  lastErrorAt?: string;
  subscriptions: SubscriptionsStatus;
}

/** Optional hooks (metrics). A throwing hook is logged and ignored. */
export interface ConnectionListener {
  onStateChange?(state: ConnectionState): void;
  onReconnect?(): void;
  onAuthFailure?(reason: string): void;
  onFrame?(isBinary: boolean): void;
  onPause?(): void;
  onResume?(): void;
  onDeadPeer?(): void;
  /** An attempt to ensure OPENTACT_SUBSCRIBE failed; it is retried with backoff. */
  onSubscriptionError?(reason: string): void;
  /**
   * A frame over the socket's hard size limit (`limitBytes`, undefined if unknown) failed the
   * socket before any of it could be read; the connection reconnects at once.
   */
  onOversizeFrame?(limitBytes: number | undefined): void;
}

/** Nest token of an optional `ConnectionListener`. */
export const CONNECTION_LISTENER = Symbol('CONNECTION_LISTENER');
