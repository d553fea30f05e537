import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { OperationalEvents } from '../delivery/operational-events';
import { EventType } from '../events/event-type.enum';
import { InjectLogger } from '../logging/logging.module';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import { OpentactConnection } from '../platform/opentact-connection.service';
import type { ConnectionState } from '../platform/opentact-connection.types';
import { RecoveryStateRepository } from './recovery-state.repository';

const CHECK_EVERY_MS = 1_000;

export interface OpentactDisconnectedData {
  /** The last moment any ingest process was known to receive. */
  disconnectedAt: string;
  downSeconds: number;
  alertAfterSeconds: number;
}

export interface OpentactReconnectedData {
  disconnectedAt: string;
  reconnectedAt: string;
  outageSeconds: number;
}

/**
 * Tells the operator, through bridge.* events, that the bridge lost Opentact and when it is back.
 * `bridge.opentact.disconnected` goes out once this process's link has been down for
 * OPS_DISCONNECT_ALERT_SECONDS and no ingest process has been receiving for as long (the shared
 * mark in Redis), so one replica going down while another holds the stream is no outage.
 * `bridge.opentact.reconnected` follows, with the outage's length, when a link authenticates
 * again. A record in Redis makes each go out once, however many ingest processes see it.
 */
@Injectable()
export class OutageWatch implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly errors: RepeatedErrorLog;
  private timer?: NodeJS.Timeout;
  private downSinceMs?: number = Date.now();
  private checking = false;

  constructor(
    private readonly config: AppConfig,
    private readonly connection: OpentactConnection,
    private readonly state: RecoveryStateRepository,
    private readonly operational: OperationalEvents,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'outage-watch' });
    this.errors = new RepeatedErrorLog(this.logger, 'outage bookkeeping failed');
  }

  onApplicationBootstrap(): void {
    this.connection.addListener({ onStateChange: (state) => this.onStateChange(state) });
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private onStateChange(state: ConnectionState): void {
    if (state === 'open') {
      if (this.downSinceMs !== undefined) {
        this.downSinceMs = undefined;
        void this.announceReconnected();
      }
    } else {
      this.downSinceMs ??= Date.now();
    }
  }

  private async check(): Promise<void> {
    const alertMs = this.config.recovery.disconnectAlertMs;
    const downSince = this.downSinceMs;
    const nowMs = Date.now();
    if (this.checking || downSince === undefined || nowMs - downSince < alertMs) {
      return;
    }
    this.checking = true;
    try {
      const seen = await this.state.lastSeen();
      const sinceMs = seen ?? downSince;
      if (nowMs - sinceMs < alertMs || this.downSinceMs === undefined) {
        return;
      }
      const opened = await this.state.openOutage({ sinceMs, alertedAtMs: nowMs }, nowMs - alertMs);
      this.errors.recovered('check');
      if (!opened) {
        return;
      }
      const data: OpentactDisconnectedData = {
        disconnectedAt: new Date(sinceMs).toISOString(),
        downSeconds: Math.round((nowMs - sinceMs) / 1000),
        alertAfterSeconds: alertMs / 1000,
      };
      this.logger.warn(data, 'Opentact disconnected: no ingest process receives events');
      await this.operational.emit(
        EventType.BridgeOpentactDisconnected,
        `bridge.opentact.disconnected.${sinceMs}`,
        new Date(nowMs).toISOString(),
        data,
      );
    } catch (error) {
      this.errors.report('check', error);
    } finally {
      this.checking = false;
    }
  }

  private async announceReconnected(): Promise<void> {
    try {
      const outage = await this.state.closeOutage();
      if (outage === undefined) {
        return;
      }
      const nowMs = Date.now();
      const data: OpentactReconnectedData = {
        disconnectedAt: new Date(outage.sinceMs).toISOString(),
        reconnectedAt: new Date(nowMs).toISOString(),
        outageSeconds: Math.round((nowMs - outage.sinceMs) / 100) / 10,
      };
      this.logger.info(data, 'Opentact reconnected after an outage');
      await this.operational.emit(
        EventType.BridgeOpentactReconnected,
        `bridge.opentact.reconnected.${outage.sinceMs}`,
        data.reconnectedAt,
        data,
      );
    } catch (error) {
      this.errors.report('reconnected', error);
    }
  }
}
