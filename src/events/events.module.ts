import { Module } from '@nestjs/common';
import { EventNormalizer } from './event-normalizer.service';
import { QuarantineRepository } from './quarantine.repository';

@Module({
  providers: [EventNormalizer, QuarantineRepository],
  exports: [EventNormalizer, QuarantineRepository],
})
export class EventsModule {}
