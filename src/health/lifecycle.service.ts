import { Injectable } from '@nestjs/common';

/** Set when a shutdown begins, so readiness fails while in-flight work drains. */
@Injectable()
export class Lifecycle {
  private shuttingDownSince?: Date;

  beginShutdown(): void {
    this.shuttingDownSince ??= new Date();
  }

  get shuttingDown(): boolean {
    return this.shuttingDownSince !== undefined;
  }
}
