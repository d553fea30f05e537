import { Module } from '@nestjs/common';
import { AdminAuthModule } from '../api/admin-auth.module';
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
  imports: [AdminAuthModule, EventsModule],
  controllers: [EventsController],
})
export class EventsApiModule {}
