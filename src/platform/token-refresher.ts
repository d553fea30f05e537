import type { Logger } from 'pino';
import type { Clock } from '../common/clock';
import type { OpentactConfig } from '../config/app-config';
import { errorInfo, OneShotTimer, spawn } from './connection-support';
import { OpentactAuthError } from './opentact-errors';
import type { LinkEnd, OpentactLink } from './opentact-link';
import { computeEqualJitterBackoffMs } from './reconnect-backoff';
import type { OpentactToken, TokenProvider } from './token-provider.service';

export type TokenRefresherConfig = Pick<
  OpentactConfig,
  'tokenRefreshMarginMs' | 'reconnectBaseMs' | 'reconnectMaxMs'
>;

/** What the refresher needs from the connection it serves. */
export interface RefreshHost {
  isRunning(): boolean;
  /** An authenticated (or authenticating) primary link exists to be replaced. */
  hasPrimary(): boolean;
  /** Opens a link with `token`; undefined when no socket could be opened. */
  openLink(token: OpentactToken): OpentactLink | undefined;
  /** The refresh socket's credentials were refused. */
  onAuthFailure(reason: string): void;
}

/**
 * Replaces the token before it expires, over a second socket: the candidate authenticates with a
 * fresh token, and only then does the connection switch to it and close the old one. A failed
 * refresh keeps the old socket and tries again with backoff.
 */
export class TokenRefresher {
  private readonly timer = new OneShotTimer();
  /** Bumped by stop(): a refresh started before drops its result. */
  private generation = 0;
  private failures = 0;
  private candidateLink?: OpentactLink;

  constructor(
    private readonly config: TokenRefresherConfig,
    private readonly tokens: Pick<TokenProvider, 'getToken' | 'canRefresh'>,
    private readonly host: RefreshHost,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  /** The socket being authenticated with a fresh token, to replace the primary. */
  get candidate(): OpentactLink | undefined {
    return this.candidateLink;
  }

  /** Plans the next refresh of `token`: `tokenRefreshMarginMs` before it expires, or at half. */
  schedule(token: OpentactToken): void {
    this.timer.clear();
    if (!this.tokens.canRefresh || token.expiresAtMs === undefined) {
      return;
    }
    const remaining = token.expiresAtMs - this.clock.now().getTime();
    const margin = this.config.tokenRefreshMarginMs;
    const delay = margin < remaining ? remaining - margin : remaining / 2;
    const generation = this.generation;
    this.timer.set(delay, () => spawn(this.logger, this.refresh(generation)));
  }

  /** The candidate authenticated and became the primary. */
  promoted(): void {
    this.candidateLink = undefined;
    this.failures = 0;
  }

  /** The candidate ended before it authenticated. */
  candidateEnded(end: LinkEnd): void {
    this.candidateLink = undefined;
    this.failed(end.authFailure ?? `socket closed (code ${end.code})`, end.authFailure);
  }

  /** The primary is gone: hands over the candidate (if one is on its way) to take its place. */
  takeCandidate(): OpentactLink | undefined {
    const candidate = this.candidateLink;
    this.candidateLink = undefined;
    return candidate;
  }

  /** No refresh while there is no primary; the next authentication schedules one. */
  cancel(): void {
    this.timer.clear();
  }

  /** Stops refreshing; returns the candidate, if any, for the caller to close. */
  stop(): OpentactLink | undefined {
    this.generation++;
    this.timer.clear();
    return this.takeCandidate();
  }

  private isCurrent(generation: number): boolean {
    return this.host.isRunning() && generation === this.generation;
  }

  private async refresh(generation: number): Promise<void> {
    if (!this.host.hasPrimary() || this.candidateLink) {
      return;
    }
    let token: OpentactToken;
    try {
      token = await this.tokens.getToken({ fresh: true });
    } catch (error) {
      if (this.isCurrent(generation)) {
        const rejected = error instanceof OpentactAuthError && error.rejected;
        this.failed(
          `could not get a fresh token: ${errorInfo(error).message}`,
          rejected ? errorInfo(error).message : undefined,
        );
      }
      return;
    }
    if (!this.isCurrent(generation) || !this.host.hasPrimary() || this.candidateLink) {
      return;
    }
    this.logger.info('refreshing the Opentact token over a new socket');
    this.candidateLink = this.host.openLink(token);
    if (!this.candidateLink) {
      this.failed('could not open a socket', undefined);
    }
  }

  /** The old socket stays primary; try again later. */
  private failed(reason: string, authFailure: string | undefined): void {
    if (!this.host.isRunning()) {
      return;
    }
    if (authFailure !== undefined) {
      this.host.onAuthFailure(authFailure);
    }
    const delay = computeEqualJitterBackoffMs(
      this.failures++,
      { baseMs: this.config.reconnectBaseMs, maxMs: this.config.reconnectMaxMs },
      this.random,
    );
    this.logger.warn({ reason, retryInMs: delay }, 'token refresh failed; keeping the old socket');
    if (this.host.hasPrimary()) {
      const generation = this.generation;
      this.timer.set(delay, () => spawn(this.logger, this.refresh(generation)));
    }
  }
}
