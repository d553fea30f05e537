import { Injectable, Module } from '@nestjs/common';

/**
 * The one source of time for everything that decides by it (expiry, backoff, windows, rotation
 * overlaps), so a spec can move time instead of waiting.
 */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** Provides the system clock; a spec overrides `Clock` with a clock it moves. */
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }],
  exports: [Clock],
})
export class ClockModule {}
