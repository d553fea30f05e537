import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { OpentactConfig } from '../config/app-config';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import { connectCause, redactUrl } from './connect-error';
import type { SocketFactory } from './live-socket';
import { OpentactAuthError } from './opentact-errors';
import { type LinkEnd, OpentactLink } from './opentact-link';
import {
  type EnsuredSubscriptions,
  type OpentactSubscriptionsClient,
  SUBSCRIPTION_RENEW_MARGIN_MS,
} from './opentact-subscriptions.client';
import { BackoffTracker, computeEqualJitterBackoffMs } from './reconnect-backoff';
import type { OpentactToken, TokenProvider } from './token-provider.service';

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

export interface OpentactConnectionDeps {
  config: OpentactConfig;
  /** In-flight sink calls at which reading pauses; it resumes at half. */
  ingestBufferMax: number;
  /**
   * Bytes of in-flight frames at which reading pauses too (it resumes at half): frames up to the
   * hard limit are read whole, and a run of them must not pile up. Default: twice that limit, or
   * 64 MiB when the socket factory does not say.
   */
  ingestBufferMaxBytes?: number;
  tokens: Pick<TokenProvider, 'getToken' | 'canRefresh'>;
  rest: Pick<OpentactSubscriptionsClient, 'ensureSubscriptions'>;
  sockets: SocketFactory;
  sink: FrameSink;
  logger: Logger;
  listener?: ConnectionListener;
  random?: () => number;
  /** Bounds for `stop()`: closing handshakes, then in-flight sink calls. */
  stopCloseTimeoutMs?: number;
  stopDrainTimeoutMs?: number;
}

/** setTimeout fires at once for delays above 2^31-1 ms; a token living weeks must not do that. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const AUTH_BACKOFF_CAP_FACTOR = 10;
/** A renewal never comes sooner than this, whatever expiry the server reports. */
const MIN_SUBSCRIPTION_RENEWAL_MS = 60_000;
/**
 * Oversized frames in a row (without a stable connection between them) that reconnect at once;
 * beyond this the usual backoff applies, so a peer that keeps sending them cannot drive a loop.
 */
const MAX_IMMEDIATE_OVERSIZE_RECONNECTS = 3;
const DEFAULT_BUFFER_MAX_BYTES = 64 * 1024 * 1024;
/** An outage is logged when it starts; while the same cause persists, only this often. */
const CONNECT_ERROR_REMINDER_MS = 10 * 60_000;

type Hook = keyof ConnectionListener;

/**
 * The live connection to Opentact's event stream: connect, authenticate, heartbeat, reconnect with
 * backoff, refresh the token over a second socket, and pause reading when the sink falls behind.
 * Every frame goes to the `FrameSink`; this class only orchestrates.
 */
export class OpentactConnection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly config: OpentactConfig;
  private readonly logger: Logger;
  private readonly listeners: ConnectionListener[] = [];
  private readonly backoff: BackoffTracker;
  private readonly random: () => number;

  private running = false;
  /** Bumped by stop(): work started for an older generation drops its result. */
  private generation = 0;
  private state: ConnectionState = 'closed';
  private primary?: OpentactLink;
  /** A socket being authenticated with a fresh token, to replace the primary. */
  private candidate?: OpentactLink;
  /** Former primaries closing after a token refresh; their frames are still forwarded. */
  private readonly retiring = new Set<OpentactLink>();
  private linkCount = 0;

  private reconnectTimer?: NodeJS.Timeout;
  private refreshTimer?: NodeJS.Timeout;
  private stableTimer?: NodeJS.Timeout;
  private subscriptionTimer?: NodeJS.Timeout;

  private attemptsStarted = 0;
  private reconnectCount = 0;
  private authFailures = 0;
  private consecutiveAuthFailures = 0;
  private refreshFailures = 0;
  private needFreshToken = false;
  private connectedSince?: number;
  private lastFrameAt?: number;
  private lastError?: string;
  private lastErrorAt?: number;
  /** Connect errors: the first of a run at warn, then a reminder with the count every 10 min. */
  private readonly connectErrors: RepeatedErrorLog;
  private readonly safeUrl: string;

  private paused = false;
  private readonly maxPendingBytes: number;
  private pendingBytes = 0;
  private oversizeFrames = 0;
  private oversizeStreak = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly background = new Set<Promise<void>>();
  private subscriptionsInFlight = false;
  /** The token of the authenticated primary socket, for subscription retries and renewals. */
  private subscriptionToken?: string;
  private subscriptionState: SubscriptionsState;
  private subscriptionFailures = 0;
  private subscriptionError?: string;
  private subscriptionsEnsuredAt?: number;
  private subscriptionNextAt?: number;

  constructor(private readonly deps: OpentactConnectionDeps) {
    this.config = deps.config;
    this.logger = deps.logger;
    this.random = deps.random ?? Math.random;
    this.backoff = new BackoffTracker(
      { baseMs: this.config.reconnectBaseMs, maxMs: this.config.reconnectMaxMs },
      this.random,
    );
    if (deps.listener) {
      this.listeners.push(deps.listener);
    }
    this.subscriptionState = this.config.subscribe.length === 0 ? 'disabled' : 'pending';
    this.safeUrl = redactUrl(this.config.wssUrl);
    this.connectErrors = new RepeatedErrorLog(
      this.logger,
      'could not connect to the Opentact WSS',
      CONNECT_ERROR_REMINDER_MS,
    );
    const hardLimit = deps.sockets.maxPayloadBytes;
    this.maxPendingBytes =
      deps.ingestBufferMaxBytes ??
      (hardLimit === undefined ? DEFAULT_BUFFER_MAX_BYTES : 2 * hardLimit);
  }

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.stop();
  }

  addListener(listener: ConnectionListener): void {
    this.listeners.push(listener);
  }

  /** Starts connecting and returns at once: start-up never waits for Opentact. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.setState('connecting');
      this.spawn(this.connect(this.generation));
    }
    return Promise.resolve();
  }

  /**
   * Stops reading: closes every socket with 1000 (terminating any that has not closed within the
   * bound), cancels all timers, then waits, bounded, for in-flight sink calls.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    this.clearTimer('reconnectTimer');
    this.clearTimer('refreshTimer');
    this.clearTimer('stableTimer');
    this.clearTimer('subscriptionTimer');
    this.subscriptionNextAt = undefined;
    const links = [this.primary, this.candidate, ...this.retiring].filter(
      (l): l is OpentactLink => l !== undefined,
    );
    this.primary = undefined;
    this.candidate = undefined;
    this.retiring.clear();
    for (const link of links) {
      link.close(1000, 'shutdown');
    }
    const closed = await this.within(
      Promise.all(links.map((l) => l.ended)),
      this.deps.stopCloseTimeoutMs ?? 2_000,
    );
    if (!closed) {
      links.forEach((l) => l.terminate());
    }
    this.setState('closed');
    const drained = await this.within(
      Promise.allSettled([...this.pending, ...this.background]),
      this.deps.stopDrainTimeoutMs ?? 5_000,
    );
    if (!drained) {
      this.logger.warn(
        { pendingFrames: this.pending.size },
        'stopped with sink calls still in flight',
      );
    }
  }

  status(): ConnectionStatus {
    return {
      state: this.state,
      authenticated: this.state === 'open',
      connectedSince: this.iso(this.connectedSince),
      lastFrameAt: this.iso(this.lastFrameAt),
      reconnectCount: this.reconnectCount,
      authFailures: this.authFailures,
      paused: this.paused,
      pendingFrames: this.pending.size,
      pendingBytes: this.pendingBytes,
      oversizeFrames: this.oversizeFrames,
      lastError: this.lastError,
      lastErrorAt: this.iso(this.lastErrorAt),
      subscriptions: {
        state: this.subscriptionState,
        failures: this.subscriptionFailures,
        lastError: this.subscriptionError,
        lastEnsuredAt: this.iso(this.subscriptionsEnsuredAt),
        nextAttemptAt: this.iso(this.subscriptionNextAt),
      },
    };
  }

  isAuthenticated(): boolean {
    return this.state === 'open';
  }

  // --- connecting -------------------------------------------------------------------------

  private async connect(generation: number): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.attemptsStarted++ > 0) {
      this.reconnectCount++;
      this.notify('onReconnect');
    }
    this.setState('connecting');
    let token: OpentactToken;
    try {
      token = await this.deps.tokens.getToken({ fresh: this.needFreshToken });
    } catch (error) {
      if (this.isCurrent(generation)) {
        this.onTokenError(error);
      }
      return;
    }
    if (!this.isCurrent(generation)) {
      return;
    }
    this.needFreshToken = false;
    const link = this.openLink(token);
    if (!link) {
      this.setState('closed');
      this.scheduleReconnect(this.backoff.next());
      return;
    }
    this.primary = link;
  }

  private onTokenError(error: unknown): void {
    this.setState('closed');
    if (error instanceof OpentactAuthError && error.rejected) {
      this.recordAuthFailure(error.message);
      this.scheduleReconnect(this.authFailureDelay());
      return;
    }
    this.noteError(`could not get an Opentact token: ${this.errorInfo(error).message}`);
    this.logger.warn({ err: this.errorInfo(error) }, 'could not get an Opentact token');
    this.scheduleReconnect(this.backoff.next());
  }

  private openLink(token: OpentactToken): OpentactLink | undefined {
    const id = ++this.linkCount;
    const logger = this.logger.child({ socket: id });
    let socket;
    try {
      socket = this.deps.sockets.create(this.config.wssUrl);
    } catch (error) {
      // An invalid URL is quoted in the error: only the redacted one may be logged.
      const message = this.errorInfo(error).message.split(this.config.wssUrl).join(this.safeUrl);
      logger.warn({ err: { message }, url: this.safeUrl }, 'could not open a socket to Opentact');
      this.noteError(`could not open a socket to ${this.safeUrl}: ${message}`);
      return undefined;
    }
    const link: OpentactLink = new OpentactLink(
      socket,
      token.token,
      this.config,
      {
        onAuthenticating: () => {
          if (link === this.primary) {
            this.setState('authenticating');
          }
        },
        onAuthenticated: () => this.onAuthenticated(link, token, logger),
        onFrame: (data, isBinary, receivedAtMs) => this.forward(data, isBinary, receivedAtMs),
        onDeadPeer: () => {
          logger.warn(
            { pongTimeoutMs: this.config.pongTimeoutMs },
            'Opentact did not answer a ping; terminating the socket',
          );
          this.notify('onDeadPeer');
        },
        onEnd: (end) => this.onLinkEnd(link, end, logger),
      },
      logger,
      this.config.credentials.kind === 'password' ? [this.config.credentials.password] : [],
    );
    return link;
  }

  private onAuthenticated(link: OpentactLink, token: OpentactToken, logger: Logger): void {
    link.setPaused(this.paused);
    if (link === this.candidate) {
      const old = this.primary;
      this.candidate = undefined;
      this.primary = link;
      this.refreshFailures = 0;
      this.connectedSince = Date.now();
      this.subscriptionToken = token.token;
      if (old) {
        // Frames still arriving on the old socket are forwarded until it closes.
        this.retiring.add(old);
        old.close(1000, 'token refresh');
      }
      logger.info('token refreshed: switched to a newly authenticated socket');
      this.scheduleRefresh(token);
      return;
    }
    if (link !== this.primary) {
      return;
    }
    this.consecutiveAuthFailures = 0;
    this.connectedSince = Date.now();
    this.lastError = undefined;
    this.lastErrorAt = undefined;
    this.connectErrors.recovered('wss');
    this.setState('open');
    logger.info({ reconnectCount: this.reconnectCount }, 'authenticated to Opentact');
    this.armStableTimer();
    this.scheduleRefresh(token);
    this.subscriptionToken = token.token;
    this.ensureSubscriptions();
  }

  private onLinkEnd(link: OpentactLink, end: LinkEnd, logger: Logger): void {
    const details = {
      url: this.safeUrl,
      code: end.code,
      reason: end.reason,
      deadPeer: end.deadPeer,
      oversizeFrame: end.oversizeFrame,
      authenticated: end.authenticated,
      err: end.error,
    };
    if (this.retiring.delete(link)) {
      logger.debug(details, 'previous socket closed after token refresh');
      return;
    }
    if (link === this.candidate) {
      this.candidate = undefined;
      this.onRefreshFailed(end.authFailure ?? `socket closed (code ${end.code})`, end.authFailure);
      return;
    }
    if (link !== this.primary) {
      return;
    }
    this.primary = undefined;
    this.connectedSince = undefined;
    this.clearTimer('stableTimer');
    this.clearTimer('refreshTimer');
    if (!this.running) {
      return;
    }
    if (this.candidate) {
      // The refresh socket is already on its way: let it take over instead of dialling again.
      this.primary = this.candidate;
      this.candidate = undefined;
      this.reconnectCount++;
      this.notify('onReconnect');
      this.setState(this.primary.currentPhase === 'connecting' ? 'connecting' : 'authenticating');
      logger.warn(details, 'Opentact socket closed during a token refresh; using the new socket');
      return;
    }
    this.setState('closed');
    if (end.authFailure !== undefined) {
      this.recordAuthFailure(end.authFailure);
      this.scheduleReconnect(this.authFailureDelay());
      return;
    }
    if (end.oversizeFrame && this.onOversizeFrame(details, logger)) {
      return;
    }
    if (!end.reachedServer) {
      const cause = connectCause(end.error);
      this.noteError(`could not connect to ${this.safeUrl}: ${cause}`);
      // Keyed by the cause: the same outage reached over another address is not news.
      const error = Object.assign(new Error(cause), { code: end.error?.code });
      this.connectErrors.report('wss', error, {
        url: this.safeUrl,
        cause,
        detail: end.error?.message,
      });
      this.scheduleReconnect(this.backoff.next());
      return;
    }
    this.noteError(
      `socket to ${this.safeUrl} closed (code ${end.code}${end.error ? `, ${connectCause(end.error)}` : ''})`,
    );
    logger.warn(details, 'Opentact socket closed; reconnecting');
    this.scheduleReconnect(this.backoff.next());
  }

  /**
   * The peer is fine and the frame is gone: waiting, or growing the backoff, would only lose the
   * frames sent meanwhile. Returns false once too many came in a row, to fall back to backoff.
   */
  private onOversizeFrame(details: Record<string, unknown>, logger: Logger): boolean {
    this.oversizeFrames++;
    this.oversizeStreak++;
    const limitBytes = this.deps.sockets.maxPayloadBytes;
    this.notify('onOversizeFrame', limitBytes);
    if (this.oversizeStreak > MAX_IMMEDIATE_OVERSIZE_RECONNECTS) {
      logger.error(
        { ...details, limitBytes, inARow: this.oversizeStreak },
        'frames over the hard size limit keep closing the socket; reconnecting with backoff',
      );
      return false;
    }
    logger.warn(
      { ...details, limitBytes },
      'a frame over the hard size limit closed the Opentact socket; reconnecting at once',
    );
    this.scheduleReconnect(0);
    return true;
  }

  private scheduleReconnect(delayMs: number): void {
    if (!this.running) {
      return;
    }
    this.clearTimer('reconnectTimer');
    this.logger.info({ delayMs }, 'reconnecting to Opentact after a delay');
    const generation = this.generation;
    this.reconnectTimer = this.later(delayMs, () => this.spawn(this.connect(generation)));
  }

  private noteError(reason: string): void {
    this.lastError = reason;
    this.lastErrorAt = Date.now();
  }

  private recordAuthFailure(reason: string): void {
    this.noteError(`authentication failed: ${reason}`);
    this.authFailures++;
    this.consecutiveAuthFailures++;
    this.needFreshToken = this.deps.tokens.canRefresh;
    this.logger.error(
      { reason, consecutive: this.consecutiveAuthFailures },
      'Opentact authentication failed',
    );
    this.notify('onAuthFailure', reason);
  }

  /** Long, growing and jittered: retrying refused credentials quickly helps nobody. */
  private authFailureDelay(): number {
    const base = this.config.authFailureBackoffMs;
    return computeEqualJitterBackoffMs(
      this.consecutiveAuthFailures - 1,
      { baseMs: base, maxMs: base * AUTH_BACKOFF_CAP_FACTOR },
      this.random,
    );
  }

  private armStableTimer(): void {
    this.clearTimer('stableTimer');
    this.stableTimer = this.later(this.config.stableAfterMs, () => {
      this.stableTimer = undefined;
      this.backoff.reset();
      this.oversizeStreak = 0;
    });
  }

  /**
   * Makes sure OPENTACT_SUBSCRIBE is subscribed, without holding up the stream. A failure is
   * counted, reported to listeners and retried with backoff while the socket is open; a success
   * schedules a renewal shortly before the first ensured entry lapses.
   */
  private ensureSubscriptions(): void {
    const token = this.subscriptionToken;
    if (
      this.config.subscribe.length === 0 ||
      this.subscriptionsInFlight ||
      token === undefined ||
      this.state !== 'open'
    ) {
      return;
    }
    this.clearTimer('subscriptionTimer');
    this.subscriptionNextAt = undefined;
    this.subscriptionsInFlight = true;
    const generation = this.generation;
    this.track(
      this.background,
      this.deps.rest
        .ensureSubscriptions(token, this.config.subscribe)
        .then(
          (ensured) => {
            if (this.isCurrent(generation)) {
              this.onSubscriptionsEnsured(ensured);
            }
          },
          (error: unknown) => {
            if (this.isCurrent(generation)) {
              this.onSubscriptionsFailed(error);
            }
          },
        )
        .finally(() => {
          this.subscriptionsInFlight = false;
        }),
    );
  }

  private onSubscriptionsEnsured(ensured: EnsuredSubscriptions): void {
    const { created, reactivated = [], removed = [], expiresAtMs } = ensured;
    if (created.length > 0) {
      this.logger.info(
        { types: created.map((s) => s.type), expiresAt: this.iso(expiresAtMs) },
        'created Opentact event subscriptions',
      );
    }
    if (reactivated.length > 0 || removed.length > 0) {
      this.logger.info(
        { reactivated: reactivated.map((s) => s.type), removed: removed.length },
        'renewed lapsed Opentact event subscriptions',
      );
    }
    if (this.subscriptionFailures > 0) {
      this.logger.info(
        { failedAttempts: this.subscriptionFailures },
        'Opentact event subscriptions ensured after failures',
      );
    }
    this.subscriptionState = 'ok';
    this.subscriptionFailures = 0;
    this.subscriptionError = undefined;
    this.subscriptionsEnsuredAt = Date.now();
    if (expiresAtMs !== undefined) {
      const renewIn = Math.max(
        MIN_SUBSCRIPTION_RENEWAL_MS,
        expiresAtMs - SUBSCRIPTION_RENEW_MARGIN_MS - Date.now(),
      );
      this.scheduleSubscriptionCheck(renewIn);
    }
  }

  private onSubscriptionsFailed(error: unknown): void {
    const { message, code } = this.errorInfo(error);
    this.subscriptionState = 'failing';
    this.subscriptionFailures++;
    this.subscriptionError = message;
    const retryInMs = computeEqualJitterBackoffMs(
      this.subscriptionFailures - 1,
      { baseMs: this.config.reconnectBaseMs, maxMs: this.config.reconnectMaxMs },
      this.random,
    );
    this.logger.warn(
      { err: { message, code }, attempt: this.subscriptionFailures, retryInMs },
      'could not ensure Opentact event subscriptions; retrying',
    );
    this.notify('onSubscriptionError', message);
    this.scheduleSubscriptionCheck(retryInMs);
  }

  /** While the socket is down nothing runs: the next authentication ensures them anyway. */
  private scheduleSubscriptionCheck(delayMs: number): void {
    this.clearTimer('subscriptionTimer');
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, delayMs));
    this.subscriptionNextAt = Date.now() + delay;
    this.subscriptionTimer = this.later(delay, () => {
      this.subscriptionTimer = undefined;
      this.subscriptionNextAt = undefined;
      this.ensureSubscriptions();
    });
  }

  // --- token refresh ----------------------------------------------------------------------

  private scheduleRefresh(token: OpentactToken): void {
    this.clearTimer('refreshTimer');
    if (!this.deps.tokens.canRefresh || token.expiresAtMs === undefined) {
      return;
    }
    const remaining = token.expiresAtMs - Date.now();
    const margin = this.config.tokenRefreshMarginMs;
    const delay = margin < remaining ? remaining - margin : remaining / 2;
    this.refreshTimer = this.later(delay, () => this.spawn(this.refresh(this.generation)));
  }

  private async refresh(generation: number): Promise<void> {
    this.refreshTimer = undefined;
    if (!this.primary || this.candidate) {
      return;
    }
    let token: OpentactToken;
    try {
      token = await this.deps.tokens.getToken({ fresh: true });
    } catch (error) {
      if (this.isCurrent(generation)) {
        const rejected = error instanceof OpentactAuthError && error.rejected;
        this.onRefreshFailed(
          `could not get a fresh token: ${this.errorInfo(error).message}`,
          rejected ? this.errorInfo(error).message : undefined,
        );
      }
      return;
    }
    if (!this.isCurrent(generation) || !this.primary || this.candidate) {
      return;
    }
    this.logger.info('refreshing the Opentact token over a new socket');
    this.candidate = this.openLink(token);
    if (!this.candidate) {
      this.onRefreshFailed('could not open a socket', undefined);
    }
  }

  /** The old socket stays primary; try again later. */
  private onRefreshFailed(reason: string, authFailure: string | undefined): void {
    if (!this.running) {
      return;
    }
    if (authFailure !== undefined) {
      this.recordAuthFailure(authFailure);
    }
    const delay = computeEqualJitterBackoffMs(
      this.refreshFailures++,
      { baseMs: this.config.reconnectBaseMs, maxMs: this.config.reconnectMaxMs },
      this.random,
    );
    this.logger.warn({ reason, retryInMs: delay }, 'token refresh failed; keeping the old socket');
    if (this.primary) {
      this.clearTimer('refreshTimer');
      const generation = this.generation;
      this.refreshTimer = this.later(delay, () => this.spawn(this.refresh(generation)));
    }
  }

  // --- frames and backpressure ------------------------------------------------------------

  private forward(data: Buffer, isBinary: boolean, receivedAtMs: number): void {
    this.lastFrameAt = receivedAtMs;
    this.notify('onFrame', isBinary);
    const bytes = data.length;
    this.pendingBytes += bytes;
    // Runs the sink synchronously (frames reach it in arrival order); a throw becomes a rejection.
    const delivered = (async (): Promise<void> => {
      await this.deps.sink.onFrame(data, isBinary, receivedAtMs);
    })();
    this.track(
      this.pending,
      delivered.catch((error: unknown) => {
        this.logger.error({ err: this.errorInfo(error) }, 'frame sink rejected a frame');
      }),
      () => {
        this.pendingBytes -= bytes;
        this.maybeResume();
      },
    );
    if (
      !this.paused &&
      (this.pending.size >= this.deps.ingestBufferMax || this.pendingBytes >= this.maxPendingBytes)
    ) {
      this.paused = true;
      this.eachLink((l) => l.setPaused(true));
      this.logger.warn(
        { pendingFrames: this.pending.size, pendingBytes: this.pendingBytes },
        'sink is behind; pausing reads',
      );
      this.notify('onPause');
    }
  }

  private maybeResume(): void {
    if (
      this.paused &&
      this.pending.size <= Math.floor(this.deps.ingestBufferMax / 2) &&
      this.pendingBytes <= Math.floor(this.maxPendingBytes / 2)
    ) {
      this.paused = false;
      this.eachLink((l) => l.setPaused(false));
      this.logger.info(
        { pendingFrames: this.pending.size, pendingBytes: this.pendingBytes },
        'sink caught up; resuming reads',
      );
      this.notify('onResume');
    }
  }

  private eachLink(fn: (link: OpentactLink) => void): void {
    for (const link of [this.primary, this.candidate, ...this.retiring]) {
      if (link) {
        fn(link);
      }
    }
  }

  // --- helpers ----------------------------------------------------------------------------

  /** Runs a connect/refresh step from a timer; a bug there is logged, never an unhandled rejection. */
  private spawn(work: Promise<void>): void {
    work.catch((error: unknown) => {
      this.logger.error({ err: this.errorInfo(error) }, 'unexpected error in the connection loop');
    });
  }

  /** Keeps `work` in `set` until it settles; `work` must already handle its own rejection. */
  private track(set: Set<Promise<void>>, work: Promise<void>, after?: () => void): void {
    const tracked: Promise<void> = work.finally(() => {
      set.delete(tracked);
      after?.();
    });
    set.add(tracked);
  }

  private setState(state: ConnectionState): void {
    if (this.state !== state) {
      this.state = state;
      this.notify('onStateChange', state);
    }
  }

  private notify<K extends Hook>(
    hook: K,
    ...args: Parameters<NonNullable<ConnectionListener[K]>>
  ): void {
    for (const listener of this.listeners) {
      try {
        (listener[hook] as ((...a: typeof args) => void) | undefined)?.apply(listener, args);
      } catch (error) {
        this.logger.warn({ err: this.errorInfo(error), hook }, 'connection listener threw');
      }
    }
  }

  private isCurrent(generation: number): boolean {
    return this.running && generation === this.generation;
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(fn, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    timer.unref();
    return timer;
  }

  private clearTimer(
    name: 'reconnectTimer' | 'refreshTimer' | 'stableTimer' | 'subscriptionTimer',
  ): void {
    const timer = this[name];
    if (timer) {
      clearTimeout(timer);
      this[name] = undefined;
    }
  }

  /** Resolves true if `work` settled within `ms`, false otherwise; never leaves a timer behind. */
  private async within(work: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      timer.unref();
    });
    try {
      return await Promise.race([work.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private iso(ms: number | undefined): string | undefined {
    return ms === undefined ? undefined : new Date(ms).toISOString();
  }

  /** Error fields safe to log: the message and code, never request options or headers. */
  private errorInfo(error: unknown): { message: string; code?: string } {
    if (error instanceof Error) {
      const code = (error as { code?: unknown }).code;
      return { message: error.message, code: typeof code === 'string' ? code : undefined };
    }
    return { message: String(error) };
  }
}
