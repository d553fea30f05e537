import { Module } from '@nestjs/common';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { EventLog } from './event-log';
import { EventNormalizer } from './event-normalizer.service';
import { EventsController } from './events.controller';
import { QuarantineRepository } from './quarantine.repository';

@Module({
  providers: [EventNormalizer, QuarantineRepository, EventLog],
  exports: [EventNormalizer, QuarantineRepository, EventLog],
})
export class EventsModule {}

/** The api role's routes for retained events and quarantined frames. */
@Module({
  imports: [EventsModule],
  controllers: [EventsController],
  providers: [AdminApiKeyGuard],
})
export class EventsApiModule {}
