import { Module } from '@nestjs/common';
import { OperationalEvents } from '../delivery/operational-events';
import { EventsModule } from '../events/events.module';
import { IngestModule, IngestSinkModule } from '../ingest/ingest.module';
import { GapRecoverer } from './gap-recoverer.service';
import { GapTracker } from './gap-tracker.service';
import { OutageWatch } from './outage-watch.service';
import { RecoveryStateRepository } from './recovery-state.repository';

/**
 * The ingest role's recovery of what the socket missed (REST searches over each gap) and its
 * outage notices (bridge.opentact.disconnected / reconnected).
 */
@Module({
  imports: [EventsModule, IngestModule, IngestSinkModule],
  providers: [RecoveryStateRepository, GapRecoverer, GapTracker, OutageWatch, OperationalEvents],
})
export class RecoveryModule {}

/** The recovery report alone, for GET /v1/status in the api role. */
@Module({
  providers: [RecoveryStateRepository],
  exports: [RecoveryStateRepository],
})
export class RecoveryStatusModule {}
