import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import type { ConnectionListener, ConnectionState } from '../platform/opentact-connection.types';
import { EventIngestor } from './event-ingestor.service';

const STATES: ConnectionState[] = ['connecting', 'authenticating', 'open', 'closed'];

/**
 * Turns connection events into Prometheus series, and leaves a quarantine entry for a frame the
 * socket could not even read (over its hard size limit): the only trace such a frame leaves.
 */
@Injectable()
export class IngestConnectionListener implements ConnectionListener {
  constructor(
    private readonly metrics: MetricsService,
    private readonly ingestor: EventIngestor,
  ) {
    this.onStateChange('closed');
  }

  onStateChange(state: ConnectionState): void {
    for (const s of STATES) {
      this.metrics.connectionState.set({ state: s }, s === state ? 1 : 0);
    }
  }
  onReconnect(): void {
    this.metrics.reconnects.inc();
  }
  onAuthFailure(): void {
    this.metrics.authFailures.inc();
  }
  onDeadPeer(): void {
    this.metrics.deadPeers.inc();
  }
  onPause(): void {
    this.metrics.ingestPaused.set(1);
    this.metrics.ingestPauses.inc();
  }
  onResume(): void {
    this.metrics.ingestPaused.set(0);
  }
  onOversizeFrame(limitBytes: number | undefined): void {
    void this.ingestor.recordUnreadableFrame(limitBytes, Date.now());
  }
}
