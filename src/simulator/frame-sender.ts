import { isRecord } from './http-json';
import type { SentLog } from './sent-log';
import type { SimulatorFaults } from './simulator-faults';
import type { SimulatorCounters } from './simulator-stats';
import type { SimulatorWssServer } from './simulator-wss.server';
import type { SubscriptionRecords } from './subscription-records';

/** The `type` of a frame given as text, to filter by; undefined when it has none to read. */
function textFrameType(data: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    return isRecord(parsed) && typeof parsed.type === 'string' ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends one emitted frame the way Opentact would: with filtering on, only a type the user has a
 * usable subscription of; then to every authenticated socket, and into the sent log either way.
 */
export class FrameSender {
  constructor(
    private readonly wss: Pick<SimulatorWssServer, 'broadcast'>,
    private readonly subscriptions: Pick<SubscriptionRecords, 'isSubscribed'>,
    private readonly faults: Pick<SimulatorFaults, 'filterBySubscription'>,
    private readonly counters: Pick<SimulatorCounters, 'framesFiltered'>,
    private readonly log: Pick<SentLog, 'append'>,
  ) {}

  /** Returns the number of sockets the frame reached. `type` saves parsing a built frame again. */
  send(data: Buffer, binary: boolean, id: string, type?: string): number {
    if (
      this.faults.filterBySubscription &&
      !this.subscriptions.isSubscribed(type ?? textFrameType(data))
    ) {
      this.counters.framesFiltered++;
      this.log.append(id, 0);
      return 0;
    }
    const sockets = this.wss.broadcast(data, binary);
    this.log.append(id, sockets);
    return sockets;
  }
}
