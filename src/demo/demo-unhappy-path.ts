import type { AdminApiClient } from '../cli/admin-api.client';
import { DemoReceiver, type ReceivedWebhook } from './demo-receiver';

export interface DemoUnhappyPathOptions {
  /** The bridge's admin API, with its key. */
  api: AdminApiClient;
  /** One line of demo output. */
  print: (line: string) => void;
  /** How often the dead deliveries of the endpoint that is down are looked for (ms). */
  pollMs?: number;
}

/** Totals for the demo's summary. */
export interface UnhappyPathCounts {
  /** First attempts the flaky endpoint refused, and webhooks it then accepted on a retry. */
  refusedFirstAttempts: number;
  deliveredOnRetry: number;
  /** Deliveries to the endpoint that is down which died, were replayed, and then arrived. */
  died: number;
  replayed: number;
  deliveredAfterReplay: number;
}

const MAX_TRACKED = 1_000;

/**
 * The demo's unhappy path, next to its happy one: a flaky endpoint (SMS events) answers 503 to
 * each first attempt, so every SMS shows a retry that succeeds; an endpoint that is down (balance
 * changes) answers 500 until its delivery has used up the retry schedule and is dead, then it
 * comes back, the dead delivery is replayed through the admin API (`POST
 * /v1/deliveries/:id/retry`) and arrives, and the endpoint goes down again for the next one.
 */
export class DemoUnhappyPath {
  readonly counts: UnhappyPathCounts = {
    refusedFirstAttempts: 0,
    deliveredOnRetry: 0,
    died: 0,
    replayed: 0,
    deliveredAfterReplay: 0,
  };
  private readonly flaky: DemoReceiver;
  private readonly down: DemoReceiver;
  private downSubscriptionId?: string;
  /** Dead deliveries already replayed (by delivery id), and the events they carry. */
  private readonly replayedDeliveries = new Set<string>();
  private readonly replayedEvents = new Set<string>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;

  constructor(private readonly options: DemoUnhappyPathOptions) {
    this.flaky = new DemoReceiver({ mode: 'flaky', onWebhook: (w) => this.onFlaky(w) });
    this.down = new DemoReceiver({ mode: 'down', onWebhook: (w) => this.onDown(w) });
  }

  /** Starts both endpoints and subscribes them. */
  async start(): Promise<void> {
    await Promise.all([this.flaky.start(), this.down.start()]);
    const flaky = await this.subscribe(this.flaky, ['sms.*'], 'demo: flaky endpoint');
    const down = await this.subscribe(
      this.down,
      ['account.balance_changed'],
      'demo: endpoint down',
    );
    this.downSubscriptionId = down;
    this.options.print(
      `subscribed ${flaky} -> ${this.flaky.url} for sms.* (flaky: refuses each first attempt)`,
    );
    this.options.print(
      `subscribed ${down} -> ${this.down.url} for account.balance_changed (down until a delivery dies)`,
    );
    this.timer = setInterval(() => {
      this.polling ??= this.replayDead().finally(() => (this.polling = undefined));
    }, this.options.pollMs ?? 500);
  }

  /**
   * Stops looking for dead deliveries and waits for a look in progress. Call it before the
   * bridge closes: its admin API calls would otherwise keep the HTTP server's connections busy.
   */
  async stopWatching(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  async stop(): Promise<void> {
    await this.stopWatching();
    await Promise.all([this.flaky.stop(), this.down.stop()]);
  }

  /** Requests and verified requests at both endpoints, for the demo's totals. */
  get received(): { requests: number; verified: number } {
    return {
      requests: this.flaky.counts.requests + this.down.counts.requests,
      verified: this.flaky.counts.verified + this.down.counts.verified,
    };
  }

  summary(): string[] {
    const c = this.counts;
    return [
      `  flaky endpoint   ${c.refusedFirstAttempts} first attempt(s) refused with 503, ${c.deliveredOnRetry} delivered on a retry`,
      `  endpoint down    ${c.died} delivery(ies) died, ${c.replayed} replayed, ${c.deliveredAfterReplay} delivered after the replay`,
    ];
  }

  private async subscribe(
    receiver: DemoReceiver,
    eventTypes: string[],
    description: string,
  ): Promise<string> {
    const created = await this.options.api.createSubscription({
      url: receiver.url,
      eventTypes,
      description,
    });
    receiver.setSecret(created.body.secret);
    return created.body.id;
  }

  private onFlaky(w: ReceivedWebhook): void {
    if (w.status >= 300) {
      this.counts.refusedFirstAttempts++;
      this.options.print(
        `webhook    flaky endpoint answered ${w.status} ${w.type.padEnd(24)} ${w.id}  attempt ${w.attempt}: the bridge will retry`,
      );
      return;
    }
    this.counts.deliveredOnRetry += w.attempt > 1 ? 1 : 0;
    this.options.print(
      `webhook    ${w.verified ? 'signature ok ' : 'BAD SIGNATURE'} ${w.type.padEnd(24)} ${w.id}  flaky endpoint, attempt ${w.attempt}: the retry succeeded`,
    );
  }

  private onDown(w: ReceivedWebhook): void {
    if (w.status >= 300) {
      this.options.print(
        `webhook    endpoint down answered ${w.status} ${w.type.padEnd(24)} ${w.id}  attempt ${w.attempt}`,
      );
      return;
    }
    const replayed = this.replayedEvents.delete(w.id);
    this.counts.deliveredAfterReplay += replayed ? 1 : 0;
    this.options.print(
      `webhook    ${w.verified ? 'signature ok ' : 'BAD SIGNATURE'} ${w.type.padEnd(24)} ${w.id}  ${replayed ? 'replayed: delivered after all' : 'endpoint back up'}`,
    );
    if (replayed) {
      // Down again, so the next balance change shows the same story.
      this.down.mode = 'down';
    }
  }

  /** Finds deliveries to the endpoint that is down which died, brings it back and replays them. */
  private async replayDead(): Promise<void> {
    if (this.downSubscriptionId === undefined) {
      return;
    }
    try {
      const page = await this.options.api.listDeliveries({
        subscriptionId: this.downSubscriptionId,
        status: 'dead',
        limit: 20,
      });
      for (const delivery of page.body.data) {
        if (this.replayedDeliveries.has(delivery.id)) {
          continue;
        }
        this.remember(this.replayedDeliveries, delivery.id);
        this.counts.died++;
        this.options.print(
          `dead       ${delivery.id} ${delivery.eventType} after ${delivery.attemptCount} attempts (last: ${delivery.lastStatusCode ?? delivery.lastError ?? '?'}); the endpoint is back, replaying it`,
        );
        this.down.mode = 'ok';
        this.remember(this.replayedEvents, delivery.eventId);
        await this.options.api.retryDelivery(delivery.id);
        this.counts.replayed++;
        this.options.print(`replay     POST /v1/deliveries/${delivery.id}/retry accepted`);
      }
    } catch (error) {
      this.options.print(
        `replay     could not list or replay dead deliveries: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Adds to a set that never holds more than the last 1,000 ids (the demo can run for days). */
  private remember(set: Set<string>, id: string): void {
    set.add(id);
    if (set.size > MAX_TRACKED) {
      set.delete(set.values().next().value!);
    }
  }
}
