import { EventLog } from '../../src/events/event-log';
import { MetricsService } from '../../src/metrics/metrics.service';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import {
  api,
  createSubscription,
  deliveryEnv,
  startBridge,
  waitForIdle,
  waitForRegistry,
} from './delivery-app';
import { deletePrefix, startApp, type StartedApp, uniquePrefix, waitFor } from './harness';
import { RecordingReceiver, type RecordedWebhook } from './recording-receiver';
import { ReferenceRest } from './reference-rest';

/** One event as the bridge published it: the webhook body (`GET /v1/events/:id` answers the same). */
export interface PublishedEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
  raw?: unknown;
}

/**
 * The real bridge (APP_ROLE all) connected over the WSS to a loopback server speaking the
 * documented protocol (the bundled simulator's server: `GET /rest/auth`, the auth frame, then the
 * event stream) that answers the auth frame with exactly the bytes given and sends frames as
 * exactly the bytes given. One subscription to every event type, on a real HTTP receiver.
 */
export class ReferenceLink {
  readonly receiver = new RecordingReceiver({ hook: { status: 200 } });
  private eventFramesSent = 0;

  private constructor(
    readonly sim: OpentactSimulator,
    readonly bridge: StartedApp,
    private readonly prefix: string,
    /** Present when the link was opened with a subscription list to answer. */
    readonly rest?: ReferenceRest,
  ) {}

  /**
   * Connects with `authAck` as the server's acknowledgement; resolves once authenticated. With
   * `subscriptionList`, `GET /rest/event/subscription` answers those bytes and the bridge ensures
   * the `subscribe` types (OPENTACT_SUBSCRIBE); without, it ensures none.
   */
  static async open(
    name: string,
    authAck: string,
    opts: { subscriptionList?: string; subscribe?: string } = {},
  ): Promise<ReferenceLink> {
    const sim = new OpentactSimulator({ port: 0 });
    await sim.start();
    sim.setAuthAck(authAck);
    const rest =
      opts.subscriptionList === undefined
        ? undefined
        : await new ReferenceRest(sim.restUrl, opts.subscriptionList).start();
    const prefix = uniquePrefix(name);
    const bridge = await startBridge(sim, prefix, {
      OPENTACT_SUBSCRIBE: opts.subscribe ?? '',
      ...(rest === undefined ? {} : { OPENTACT_REST_URL: rest.restUrl }),
    });
    const link = new ReferenceLink(sim, bridge, prefix, rest);
    await link.receiver.start();
    const sub = await createSubscription(bridge, {
      url: link.receiver.url('hook'),
      eventTypes: ['*'],
    });
    await waitForRegistry(bridge, [sub.id]);
    return link;
  }

  /**
   * Starts the bridge against a server whose acknowledgement is `authAck` and which does not let
   * the socket in (no events follow), without waiting for an authentication that should not come.
   */
  static async refused(name: string, authAck: string): Promise<ReferenceLink> {
    const sim = new OpentactSimulator({ port: 0 });
    await sim.start();
    sim.setAuthAck(authAck, { accepted: false });
    const prefix = uniquePrefix(name);
    const bridge = await startApp(deliveryEnv(sim, prefix, { OPENTACT_SUBSCRIBE: '' }));
    return new ReferenceLink(sim, bridge, prefix);
  }

  /** Sends frames as the given bytes, in order, on the one socket; counts them as event frames. */
  send(...wire: string[]): void {
    for (const text of wire) {
      if (this.sim.emit(text) !== 1) {
        throw new Error('the bridge is not connected to the reference server');
      }
      this.eventFramesSent++;
    }
  }

  /**
   * Waits until every frame sent was appended or suppressed as a duplicate, and every delivery
   * has been attempted; then answers the events in the order of the log (the order of the socket).
   */
  async settle(): Promise<PublishedEvent[]> {
    const metrics = this.bridge.app.get(MetricsService).registry;
    const count = async (name: string): Promise<number> =>
      ((await metrics.getSingleMetric(name)?.get())?.values ?? []).reduce(
        (sum, v) => sum + v.value,
        0,
      );
    await waitFor(
      async () =>
        (await count('otb_events_enqueued_total')) +
          (await count('otb_events_duplicates_total')) +
          (await count('otb_frames_quarantined_total')) >=
        this.eventFramesSent,
      10_000,
      `${this.eventFramesSent} frames read off the socket`,
    );
    await waitForIdle(this.bridge);
    return this.logged();
  }

  /** Every event in the log, oldest first. */
  async logged(): Promise<PublishedEvent[]> {
    const entries = await this.bridge.app.get(EventLog).readAfter(undefined, 10_000);
    return entries.map((entry) => JSON.parse(entry.body) as PublishedEvent);
  }

  /** Webhooks received, in arrival order. */
  webhooks(): RecordedWebhook[] {
    return this.receiver.on('hook');
  }

  /** `GET /v1/events/:id` over HTTP. */
  async event(id: string): Promise<{ status: number; body: PublishedEvent }> {
    return api<PublishedEvent>(this.bridge, 'GET', `/v1/events/${encodeURIComponent(id)}`);
  }

  async close(): Promise<void> {
    await this.bridge.app.close();
    await this.receiver.stop();
    await this.rest?.stop();
    await this.sim.stop();
    await deletePrefix(this.prefix);
  }
}
