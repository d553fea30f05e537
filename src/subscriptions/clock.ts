import { Injectable } from '@nestjs/common';

/** Time as a provider, so rotation overlaps and expiry can be tested without waiting. */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
