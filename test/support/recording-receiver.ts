import {
  ProgrammableReceiver,
  type RecordedRequest,
  type ScriptedReply,
} from './webhook-receivers';

export interface RecordedWebhook {
  /** The route it arrived on: `/<route>`. */
  route: string;
  webhookId: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  status: number;
  at: number;
}

export interface RouteBehaviour {
  status: number;
  delayMs?: number;
}

function routeOf(path: string): string {
  return path.replace(/^\//, '').split('?')[0];
}

/**
 * A customer endpoint for end-to-end tests, on the kit's `ProgrammableReceiver`: each route
 * (`/ok`, `/fail`, ...) answers with its configured status after an optional delay, and every
 * request is recorded with its parsed body, including those answered with an error. Unknown
 * routes answer 404.
 */
export class RecordingReceiver extends ProgrammableReceiver {
  readonly received: RecordedWebhook[] = [];
  private readonly routes = new Map<string, RouteBehaviour>();

  constructor(routes: Record<string, RouteBehaviour> = {}) {
    super((request) => {
      const behaviour = this.routes.get(routeOf(request.path)) ?? { status: 404 };
      return { status: behaviour.status, delayMs: behaviour.delayMs };
    });
    for (const [route, behaviour] of Object.entries(routes)) {
      this.routes.set(route, behaviour);
    }
  }

  setRoute(route: string, behaviour: RouteBehaviour): void {
    this.routes.set(route, behaviour);
  }

  /** `http://127.0.0.1:<port>/<route>`. */
  override url(route: string): string {
    return super.url(`/${route}`);
  }

  /** Requests that arrived on `route` (any status). */
  on(route: string): RecordedWebhook[] {
    return this.received.filter((r) => r.route === route);
  }

  protected override recorded(request: RecordedRequest, reply: ScriptedReply): void {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      // recorded with an empty body
    }
    this.received.push({
      route: routeOf(request.path),
      webhookId: request.headers['webhook-id'] ?? '',
      headers: request.headers,
      body,
      status: reply.status ?? 200,
      at: request.at,
    });
  }
}

/** The simulator's id for the frame behind a webhook: `sim_id` (older frames) or `uuid`. */
export function simulatorId(webhook: RecordedWebhook): string | undefined {
  const raw = webhook.body.raw;
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const { sim_id: simId, uuid } = raw as { sim_id?: unknown; uuid?: unknown };
  if (typeof simId === 'string') {
    return simId;
  }
  return typeof uuid === 'string' ? uuid : undefined;
}
