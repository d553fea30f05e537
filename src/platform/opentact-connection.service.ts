import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { Clock } from '../common/clock';
import type { OpentactConfig } from '../config/app-config';
import { connectCause, redactUrl } from './connect-error';
import { ConnectionErrors } from './connection-errors';
import { ConnectionListeners } from './connection-listeners';
import { errorInfo, spawn, within } from './connection-support';
import { FrameForwarder } from './frame-forwarder';
import type { SocketFactory } from './live-socket';
import {
  type ConnectionListener,
  type ConnectionState,
  type ConnectionStatus,
  FRAME_SINK,
  type FrameSink,
} from './opentact-connection.types';
import { OpentactAuthError } from './opentact-errors';
import { type LinkEnd, OpentactLink } from './opentact-link';
import { OpentactSubscriptionsClient } from './opentact-subscriptions.client';
import { ReconnectScheduler } from './reconnect-scheduler';
import { SubscriptionKeeper } from './subscription-keeper';
import { TokenRefresher } from './token-refresher';
import { type OpentactToken, TokenProvider } from './token-provider.service';
import { WebSocketFactory } from './websocket.factory';

/** Nest token of the `ConnectionOptions`. */
export const CONNECTION_OPTIONS = Symbol('CONNECTION_OPTIONS');

export interface ConnectionOptions {
  config: OpentactConfig;
  /** In-flight sink calls at which reading pauses; it resumes at half. */
  ingestBufferMax: number;
  /**
   * Bytes of in-flight frames at which reading pauses too (it resumes at half): frames up to the
   * hard limit are read whole, and a run of them must not pile up. Default: twice that limit, or
   * 64 MiB when the socket factory does not say.
   */
  ingestBufferMaxBytes?: number;
  logger: Logger;
  /** Jitter source of every backoff; Math.random unless a spec pins it. */
  random?: () => number;
  /** Bounds for `stop()`: closing handshakes, then in-flight sink calls. */
  stopCloseTimeoutMs?: number;
  stopDrainTimeoutMs?: number;
}

const DEFAULT_BUFFER_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The live connection to Opentact's event stream: dials a link (connect, authenticate, heartbeat:
 * `OpentactLink`) with a token, and on its end decides what comes next. The parts own their state:
 * `ReconnectScheduler` when to dial again, `TokenRefresher` the second socket that replaces the
 * token, `SubscriptionKeeper` Opentact's event subscriptions, `FrameForwarder` the frames to the
 * `FrameSink` and backpressure, `ConnectionErrors` why the link is down. This class only
 * orchestrates.
 */
@Injectable()
export class OpentactConnection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly config: OpentactConfig;
  private readonly logger: Logger;
  private readonly safeUrl: string;
  private readonly listeners: ConnectionListeners;
  private readonly errors: ConnectionErrors;
  private readonly frames: FrameForwarder;
  private readonly subscriptions: SubscriptionKeeper;
  private readonly refresher: TokenRefresher;
  private readonly reconnects: ReconnectScheduler;

  private running = false;
  /** Bumped by stop(): work started for an older generation drops its result. */
  private generation = 0;
  private state: ConnectionState = 'closed';
  private primary?: OpentactLink;
  /** Former primaries closing after a token refresh; their frames are still forwarded. */
  private readonly retiring = new Set<OpentactLink>();
  private linkCount = 0;
  private attemptsStarted = 0;
  private reconnectCount = 0;
  private authFailures = 0;
  private oversizeFrames = 0;
  private needFreshToken = false;
  private connectedSince?: Date;

  constructor(
    @Inject(CONNECTION_OPTIONS) private readonly options: ConnectionOptions,
    @Inject(TokenProvider) private readonly tokens: Pick<TokenProvider, 'getToken' | 'canRefresh'>,
    @Inject(OpentactSubscriptionsClient)
    rest: Pick<OpentactSubscriptionsClient, 'ensureSubscriptions'>,
    @Inject(WebSocketFactory) private readonly sockets: SocketFactory,
    @Inject(FRAME_SINK) sink: FrameSink,
    private readonly clock: Clock,
  ) {
    const { config, logger } = options;
    const random = options.random ?? Math.random;
    this.config = config;
    this.logger = logger;
    this.safeUrl = redactUrl(config.wssUrl);
    this.listeners = new ConnectionListeners(logger);
    this.errors = new ConnectionErrors(logger, clock, this.safeUrl);
    const hardLimit = sockets.maxPayloadBytes;
    this.frames = new FrameForwarder(
      sink,
      {
        maxFrames: options.ingestBufferMax,
        maxBytes:
          options.ingestBufferMaxBytes ??
          (hardLimit === undefined ? DEFAULT_BUFFER_MAX_BYTES : 2 * hardLimit),
      },
      this.listeners,
      logger,
    );
    this.subscriptions = new SubscriptionKeeper(
      config,
      rest,
      this.listeners,
      logger,
      clock,
      random,
    );
    this.refresher = new TokenRefresher(
      config,
      tokens,
      {
        isRunning: () => this.running,
        hasPrimary: () => this.primary !== undefined,
        openLink: (token) => this.openLink(token),
        onAuthFailure: (reason) => this.recordAuthFailure(reason),
      },
      logger,
      clock,
      random,
    );
    const generationOf = (): number => this.generation;
    this.reconnects = new ReconnectScheduler(
      config,
      () => spawn(this.logger, this.connect(generationOf())),
      logger,
      random,
    );
  }

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.stop();
  }

  addListener(listener: ConnectionListener): void {
    this.listeners.add(listener);
  }

  /** Starts connecting and returns at once: start-up never waits for Opentact. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.setState('connecting');
      spawn(this.logger, this.connect(this.generation));
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
    this.reconnects.cancel();
    this.subscriptions.stop();
    const candidate = this.refresher.stop();
    const links = [this.primary, candidate, ...this.retiring].filter(
      (l): l is OpentactLink => l !== undefined,
    );
    this.primary = undefined;
    this.retiring.clear();
    this.frames.detachAll();
    for (const link of links) {
      link.close(1000, 'shutdown');
    }
    const closed = await within(
      Promise.all(links.map((l) => l.ended)),
      this.options.stopCloseTimeoutMs ?? 2_000,
    );
    if (!closed) {
      links.forEach((l) => l.terminate());
    }
    this.setState('closed');
    const drained = await within(
      Promise.allSettled([...this.frames.inFlight(), ...this.subscriptions.inFlight()]),
      this.options.stopDrainTimeoutMs ?? 5_000,
    );
    if (!drained) {
      this.logger.warn(
        { pendingFrames: this.frames.status().pendingFrames },
        'stopped with sink calls still in flight',
      );
    }
  }

  status(): ConnectionStatus {
    return {
      state: this.state,
      authenticated: this.state === 'open',
      connectedSince: this.connectedSince?.toISOString(),
      reconnectCount: this.reconnectCount,
      authFailures: this.authFailures,
      ...this.frames.status(),
      oversizeFrames: this.oversizeFrames,
      ...this.errors.status(),
      subscriptions: this.subscriptions.status(),
    };
  }

  isAuthenticated(): boolean {
    return this.state === 'open';
  }

  // --- connecting -------------------------------------------------------------------------

  private async connect(generation: number): Promise<void> {
    if (this.attemptsStarted++ > 0) {
      this.reconnectCount++;
      this.listeners.notify('onReconnect');
    }
    this.setState('connecting');
    let token: OpentactToken;
    try {
      token = await this.tokens.getToken({ fresh: this.needFreshToken });
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
      this.reconnects.afterFailure();
      return;
    }
    this.primary = link;
  }

  private onTokenError(error: unknown): void {
    this.setState('closed');
    if (error instanceof OpentactAuthError && error.rejected) {
      this.recordAuthFailure(error.message);
      this.reconnects.afterAuthFailure();
      return;
    }
    this.errors.note(`could not get an Opentact token: ${errorInfo(error).message}`);
    this.logger.warn({ err: errorInfo(error) }, 'could not get an Opentact token');
    this.reconnects.afterFailure();
  }

  private openLink(token: OpentactToken): OpentactLink | undefined {
    const id = ++this.linkCount;
    const logger = this.logger.child({ socket: id });
    let socket;
    try {
      socket = this.sockets.create(this.config.wssUrl);
    } catch (error) {
      // An invalid URL is quoted in the error: only the redacted one may be logged.
      const message = errorInfo(error).message.split(this.config.wssUrl).join(this.safeUrl);
      logger.warn({ err: { message }, url: this.safeUrl }, 'could not open a socket to Opentact');
      this.errors.note(`could not open a socket to ${this.safeUrl}: ${message}`);
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
        onFrame: (data, isBinary, receivedAtMs) =>
          this.frames.forward(data, isBinary, receivedAtMs),
        onDeadPeer: () => {
          logger.warn(
            { pongTimeoutMs: this.config.pongTimeoutMs },
            'Opentact did not answer a ping; terminating the socket',
          );
          this.listeners.notify('onDeadPeer');
        },
        onEnd: (end) => this.onLinkEnd(link, end, logger),
      },
      logger,
      this.config.credentials.kind === 'password' ? [this.config.credentials.password] : [],
      this.clock,
    );
    this.frames.attach(link);
    return link;
  }

  private onAuthenticated(link: OpentactLink, token: OpentactToken, logger: Logger): void {
    link.setPaused(this.frames.isPaused);
    if (link === this.refresher.candidate) {
      const old = this.primary;
      this.refresher.promoted();
      this.primary = link;
      this.connectedSince = this.clock.now();
      this.subscriptions.useToken(token.token);
      if (old) {
        // Frames still arriving on the old socket are forwarded until it closes.
        this.retiring.add(old);
        old.close(1000, 'token refresh');
      }
      logger.info('token refreshed: switched to a newly authenticated socket');
      this.refresher.schedule(token);
      return;
    }
    if (link !== this.primary) {
      return;
    }
    this.reconnects.connected();
    this.connectedSince = this.clock.now();
    this.errors.recovered();
    this.setState('open');
    logger.info({ reconnectCount: this.reconnectCount }, 'authenticated to Opentact');
    this.refresher.schedule(token);
    this.subscriptions.linkUp(token.token);
  }

  private onLinkEnd(link: OpentactLink, end: LinkEnd, logger: Logger): void {
    this.frames.detach(link);
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
    if (link === this.refresher.candidate) {
      this.refresher.candidateEnded(end);
      return;
    }
    if (link !== this.primary) {
      return;
    }
    this.primary = undefined;
    this.connectedSince = undefined;
    this.reconnects.linkLost();
    this.refresher.cancel();
    if (!this.running) {
      return;
    }
    const candidate = this.refresher.takeCandidate();
    if (candidate) {
      // The refresh socket is already on its way: let it take over instead of dialling again.
      this.primary = candidate;
      this.reconnectCount++;
      this.listeners.notify('onReconnect');
      this.setState(candidate.currentPhase === 'connecting' ? 'connecting' : 'authenticating');
      logger.warn(details, 'Opentact socket closed during a token refresh; using the new socket');
      return;
    }
    this.setState('closed');
    if (end.authFailure !== undefined) {
      this.recordAuthFailure(end.authFailure);
      this.reconnects.afterAuthFailure();
      return;
    }
    if (end.oversizeFrame && this.onOversizeFrame(details, logger)) {
      return;
    }
    if (!end.reachedServer) {
      this.errors.connectFailed(end.error);
      this.reconnects.afterFailure();
      return;
    }
    this.errors.note(
      `socket to ${this.safeUrl} closed (code ${end.code}${end.error ? `, ${connectCause(end.error)}` : ''})`,
    );
    logger.warn(details, 'Opentact socket closed; reconnecting');
    this.reconnects.afterFailure();
  }

  /** Returns false once too many came in a row, to fall back to backoff. */
  private onOversizeFrame(details: Record<string, unknown>, logger: Logger): boolean {
    this.oversizeFrames++;
    const limitBytes = this.sockets.maxPayloadBytes;
    this.listeners.notify('onOversizeFrame', limitBytes);
    const { immediate, inARow } = this.reconnects.afterOversizeFrame();
    if (!immediate) {
      logger.error(
        { ...details, limitBytes, inARow },
        'frames over the hard size limit keep closing the socket; reconnecting with backoff',
      );
      return false;
    }
    logger.warn(
      { ...details, limitBytes },
      'a frame over the hard size limit closed the Opentact socket; reconnecting at once',
    );
    return true;
  }

  private recordAuthFailure(reason: string): void {
    this.errors.note(`authentication failed: ${reason}`);
    this.authFailures++;
    const consecutive = this.reconnects.authRefused();
    this.needFreshToken = this.tokens.canRefresh;
    this.logger.error({ reason, consecutive }, 'Opentact authentication failed');
    this.listeners.notify('onAuthFailure', reason);
  }

  // --- helpers ----------------------------------------------------------------------------

  private setState(state: ConnectionState): void {
    if (state !== 'open') {
      this.subscriptions.linkDown();
    }
    if (this.state !== state) {
      this.state = state;
      this.listeners.notify('onStateChange', state);
    }
  }

  private isCurrent(generation: number): boolean {
    return this.running && generation === this.generation;
  }
}
