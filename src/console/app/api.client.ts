import type {
  CreatedSubscription,
  Delivery,
  ReplayResult,
  RotatedSecret,
  TestSent,
  DeliveryPage,
  QuarantinePage,
  Status,
  Subscription,
  SubscriptionInput,
  SubscriptionPage,
  SubscriptionPatch,
} from './types';

/** The admin API refused the key: the console signs out. */
export class UnauthorizedError extends Error {}

/** Any other refusal, with the API's own message (and its field problems, for a 400). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  message?: unknown;
  errors?: { field?: unknown; problems?: unknown }[];
}

function errorMessage(status: number, body: unknown): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
  const problems = Array.isArray(b.errors)
    ? b.errors.map(
        (e) => `${String(e.field)}: ${Array.isArray(e.problems) ? e.problems.join('; ') : ''}`,
      )
    : [];
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  return problems.length > 0 ? `${message}: ${problems.join(', ')}` : message;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') {
      search.set(name, String(value));
    }
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export interface DeliveryFilter {
  subscriptionId?: string;
  status?: string;
  eventType?: string;
  since?: string;
  until?: string;
  cursor?: string;
}

/** The admin API, with the operator's key. A 401 calls `onUnauthorized` once, then throws. */
export class ApiClient {
  constructor(
    private readonly key: string,
    private readonly onUnauthorized: (message: string) => void,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.status === 401) {
      const message = errorMessage(401, parsed);
      this.onUnauthorized(message);
      throw new UnauthorizedError(message);
    }
    if (!res.ok) {
      throw new ApiError(res.status, errorMessage(res.status, parsed));
    }
    return parsed as T;
  }

  status(): Promise<Status> {
    return this.call('GET', '/v1/status');
  }

  subscriptions(cursor?: string): Promise<SubscriptionPage> {
    return this.call('GET', `/v1/subscriptions${query({ limit: 100, cursor })}`);
  }

  createSubscription(input: SubscriptionInput): Promise<CreatedSubscription> {
    return this.call('POST', '/v1/subscriptions', input);
  }

  updateSubscription(id: string, input: SubscriptionPatch): Promise<Subscription> {
    return this.call('PATCH', `/v1/subscriptions/${encodeURIComponent(id)}`, input);
  }

  rotateSecret(id: string): Promise<RotatedSecret> {
    return this.call('POST', `/v1/subscriptions/${encodeURIComponent(id)}/rotate-secret`);
  }

  sendTest(id: string): Promise<TestSent> {
    return this.call('POST', `/v1/subscriptions/${encodeURIComponent(id)}/test`);
  }

  replay(
    id: string,
    window: { since: string; until?: string; scope: 'failed' | 'all' },
  ): Promise<ReplayResult> {
    return this.call('POST', `/v1/subscriptions/${encodeURIComponent(id)}/replay`, window);
  }

  deliveries(filter: DeliveryFilter): Promise<DeliveryPage> {
    return this.call('GET', `/v1/deliveries${query({ ...filter, limit: 50 })}`);
  }

  delivery(id: string): Promise<Delivery> {
    return this.call('GET', `/v1/deliveries/${encodeURIComponent(id)}`);
  }

  retry(id: string): Promise<Delivery> {
    return this.call('POST', `/v1/deliveries/${encodeURIComponent(id)}/retry`);
  }

  quarantine(offset: number, limit: number): Promise<QuarantinePage> {
    return this.call('GET', `/v1/quarantine${query({ offset, limit })}`);
  }
}
