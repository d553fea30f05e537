import type { Logger } from 'pino';
import type { Clock } from '../common/clock';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import { connectCause, type SocketErrorInfo } from './connect-error';

/** An outage is logged when it starts; while the same cause persists, only this often. */
const CONNECT_ERROR_REMINDER_MS = 10 * 60_000;

/**
 * Why the link is not authenticated, for /v1/status and readiness: the last connect error (with
 * the redacted URL, never credentials), auth refusal or login failure, cleared once a socket
 * authenticates. Connect errors are logged at warn once per run of the same cause, then as a
 * reminder with the count every 10 minutes.
 */
export class ConnectionErrors {
  private lastError?: string;
  private lastErrorAt?: Date;
  private readonly connectErrors: RepeatedErrorLog;

  constructor(
    logger: Logger,
    private readonly clock: Clock,
    /** The WSS URL with any credentials removed: the only form of it that may be logged. */
    private readonly safeUrl: string,
  ) {
    this.connectErrors = new RepeatedErrorLog(
      logger,
      'could not connect to the Opentact WSS',
      CONNECT_ERROR_REMINDER_MS,
      () => this.clock.now().getTime(),
    );
  }

  note(reason: string): void {
    this.lastError = reason;
    this.lastErrorAt = this.clock.now();
  }

  /** The socket never reached the server. */
  connectFailed(error: SocketErrorInfo | undefined): void {
    const cause = connectCause(error);
    this.note(`could not connect to ${this.safeUrl}: ${cause}`);
    // Keyed by the cause: the same outage reached over another address is not news.
    const summary = Object.assign(new Error(cause), { code: error?.code });
    this.connectErrors.report('wss', summary, {
      url: this.safeUrl,
      cause,
      detail: error?.message,
    });
  }

  /** A socket authenticated: nothing is wrong, and the next connect error is news again. */
  recovered(): void {
    this.lastError = undefined;
    this.lastErrorAt = undefined;
    this.connectErrors.recovered('wss');
  }

  status(): { lastError?: string; lastErrorAt?: string } {
    return { lastError: this.lastError, lastErrorAt: this.lastErrorAt?.toISOString() };
  }
}
