import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { CONNECTION_LISTENER, FRAME_SINK } from '../platform/opentact-connection.types';
import { PlatformModule } from '../platform/platform.module';
import { ConnectionReporter } from './connection-reporter.service';
import { IngestConnectionListener } from './ingest-connection.listener';
import { EventIngestor } from './event-ingestor.service';

/** The frame sink and connection listener the platform connection feeds. */
@Module({
  imports: [EventsModule],
  providers: [
    EventIngestor,
    IngestConnectionListener,
    { provide: FRAME_SINK, useExisting: EventIngestor },
    { provide: CONNECTION_LISTENER, useExisting: IngestConnectionListener },
  ],
  exports: [FRAME_SINK, CONNECTION_LISTENER, EventIngestor],
})
export class IngestSinkModule {}

/** The ingest role: the Opentact connection feeding normalise → quarantine or append to the event log. */
@Module({
  imports: [PlatformModule.forRoot({ imports: [IngestSinkModule] })],
  providers: [ConnectionReporter],
  exports: [PlatformModule],
})
export class IngestModule {}
