import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EntityHistory } from './entity-history';
import { accountSnapshot } from './frame-factory';
import { isRecord, readJsonBody, sendJson, SimulatorHttpError } from './http-json';
import type { JwtClaims } from './jwt';
import { SEARCH_PATHS, searchFilters, searchPage } from './search-request';
import type { SimulatorFaults } from './simulator-faults';
import type { SimulatorIdentity } from './simulator-identity';
import type { SimulatorCounters } from './simulator-stats';
import type { SubscriptionRecords } from './subscription-records';

const MAX_REST_BODY_BYTES = 64 * 1024;
const SUBSCRIPTION_PATH = '/rest/event/subscription';

/** What the REST API needs to know of the WSS side: whether the user is online. */
export interface WssPresence {
  readonly authenticated: number;
}

/**
 * The simulator's REST API: `GET /rest/auth` (§2.1), the event-subscription endpoints (§5) and the
 * SMS and call searches (§7.1), every answer in Opentact's `{ success, payload }` wrapper. Errors
 * answer `{ success: false, message }` with their status.
 */
export class SimulatorRestApi {
  constructor(
    private readonly identity: SimulatorIdentity,
    private readonly subscriptions: SubscriptionRecords,
    private readonly history: EntityHistory,
    private readonly faults: SimulatorFaults,
    private readonly counters: SimulatorCounters,
    private readonly presence: WssPresence,
  ) {}

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((error: unknown) => {
      if (error instanceof SimulatorHttpError) {
        sendJson(res, error.status, { success: false, message: error.message });
        return;
      }
      sendJson(res, 500, { success: false, message: 'Internal Server Error' });
    });
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const method = req.method ?? 'GET';
    if (url.pathname === '/rest/auth') {
      if (method !== 'GET') {
        throw new SimulatorHttpError(405, 'Method Not Allowed');
      }
      this.login(req, res);
      return;
    }
    if (url.pathname === SUBSCRIPTION_PATH) {
      this.startSubscriptionRequest(req, url);
      await this.subscriptionCollection(req, res, method);
      return;
    }
    if (url.pathname.startsWith(`${SUBSCRIPTION_PATH}/`)) {
      this.startSubscriptionRequest(req, url);
      const uuid = decodeURIComponent(url.pathname.slice(SUBSCRIPTION_PATH.length + 1));
      await this.subscriptionEntry(req, res, method, uuid);
      return;
    }
    const search = SEARCH_PATHS.get(url.pathname);
    if (search !== undefined) {
      if (method !== 'POST') {
        throw new SimulatorHttpError(405, 'Method Not Allowed');
      }
      this.requireJwt(req, url);
      this.counters.searchRequests++;
      const faultStatus = this.faults.takeSearchFault();
      if (faultStatus !== undefined) {
        throw new SimulatorHttpError(faultStatus, 'search unavailable');
      }
      const body = await readJsonBody(req, MAX_REST_BODY_BYTES);
      const page = searchPage(url);
      const filters = searchFilters(search, isRecord(body) ? body : {});
      sendJson(res, 200, {
        success: true,
        payload: this.history.search(search, filters, page.take, page.skip),
      });
      return;
    }
    throw new SimulatorHttpError(404, 'Not Found');
  }

  private login(req: IncomingMessage, res: ServerResponse): void {
    if (!this.identity.acceptsBasicAuth(req.headers.authorization ?? '')) {
      throw new SimulatorHttpError(401, 'Unauthorized');
    }
    sendJson(res, 200, {
      success: true,
      payload: {
        ...this.identity.user,
        wss_online: this.presence.authenticated > 0,
        token: this.identity.issueToken(),
        account: accountSnapshot(),
      },
    });
  }

  private requireJwt(req: IncomingMessage, url: URL): JwtClaims {
    const header = req.headers['x-auth-token'];
    const token = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('jwt');
    const claims = token ? this.identity.verifyToken(token) : undefined;
    if (!claims) {
      throw new SimulatorHttpError(401, 'Unauthorized');
    }
    return claims;
  }

  /** Every subscription request needs a JWT, is counted, and fails whole under the fault. */
  private startSubscriptionRequest(req: IncomingMessage, url: URL): void {
    this.requireJwt(req, url);
    this.counters.subscriptionRequests++;
    if (this.faults.subscriptionFault !== undefined) {
      throw new SimulatorHttpError(
        this.faults.subscriptionFault,
        'subscription service unavailable',
      );
    }
  }

  /** GET lists, POST creates (§5.1, §5.2); a refused create is HTTP 200 `success: false`. */
  private async subscriptionCollection(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
  ): Promise<void> {
    if (method === 'GET') {
      sendJson(res, 200, { success: true, payload: this.subscriptions.all });
      return;
    }
    if (method !== 'POST') {
      throw new SimulatorHttpError(405, 'Method Not Allowed');
    }
    const body = await readJsonBody(req, MAX_REST_BODY_BYTES);
    if (this.faults.takeCreateRefusal()) {
      sendJson(res, 200, { success: false, message: 'subscription not created' });
      return;
    }
    const record = this.subscriptions.create(body);
    sendJson(res, 200, {
      success: true,
      payload: { ...record, user: { ...this.identity.user, account: accountSnapshot() } },
    });
  }

  /** PATCH and DELETE of one entry (§5.3), each answering 405 when switched off. */
  private async subscriptionEntry(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    uuid: string,
  ): Promise<void> {
    const allowed =
      (method === 'PATCH' && this.faults.subscriptionUpdates) ||
      (method === 'DELETE' && this.faults.subscriptionRemoves);
    if (!allowed) {
      throw new SimulatorHttpError(405, 'Method Not Allowed');
    }
    if (method === 'DELETE') {
      sendJson(res, 200, { success: true, payload: this.subscriptions.remove(uuid) });
      return;
    }
    this.subscriptions.assertExists(uuid);
    const body = await readJsonBody(req, MAX_REST_BODY_BYTES);
    sendJson(res, 200, { success: true, payload: this.subscriptions.update(uuid, body) });
  }
}
