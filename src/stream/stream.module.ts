import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { StreamHandshake } from './stream-handshake';
import { StreamHub } from './stream-hub.service';
import { StreamController } from './stream.controller';
import { StreamGateway } from './stream.gateway';

/** GET /v1/stream, served by the api role (see StreamWsAdapter for the upgrade check). */
@Module({
  imports: [EventsModule],
  controllers: [StreamController],
  providers: [StreamHandshake, StreamHub, StreamGateway],
})
export class StreamModule {}
