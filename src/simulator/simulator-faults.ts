export type AuthMode = 'accept' | 'refuse';

/** See `SimulatorFaults.setSubscriptionApi`. */
export interface SubscriptionApiBehaviour {
  refuseCreates?: number;
  update?: boolean;
  remove?: boolean;
}

/** Exact bytes to answer an auth frame with, instead of the built acknowledgement. */
export interface AuthAckOverride {
  text: string;
  accepted: boolean;
}

const MAX_REFUSE_MS = 3_600_000;

function assertErrorStatus(status: number): void {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError('the fault status must be an HTTP error status (400-599)');
  }
}

/**
 * The switches tests turn to make the simulator misbehave: refused auth, no pongs, a failing
 * subscription or search API, refused WSS upgrades. The WSS server and the REST API read them on
 * every request; nothing here sends or answers anything itself.
 */
export class SimulatorFaults {
  authMode: AuthMode;
  pongsEnabled = true;
  /** Send only the kinds the user has an active, unexpired subscription of. */
  filterBySubscription: boolean;
  authAckOverride?: AuthAckOverride;
  /** When set, the subscription API answers every request with this HTTP status. */
  subscriptionFault?: number;
  private readonly subscriptionApi: Required<SubscriptionApiBehaviour> = {
    refuseCreates: 0,
    update: true,
    remove: true,
  };
  private searchFault?: { status: number; remaining: number };
  private refuseUntilMs = 0;

  constructor(
    initial: { authMode: AuthMode; filterBySubscription: boolean },
    private readonly now: () => number = Date.now,
  ) {
    this.authMode = initial.authMode;
    this.filterBySubscription = initial.filterBySubscription;
  }

  get subscriptionUpdates(): boolean {
    return this.subscriptionApi.update;
  }

  get subscriptionRemoves(): boolean {
    return this.subscriptionApi.remove;
  }

  setAuthAck(text: string | undefined, opts: { accepted?: boolean } = {}): void {
    this.authAckOverride =
      text === undefined ? undefined : { text, accepted: opts.accepted ?? true };
  }

  setSubscriptionFault(status: number | undefined): void {
    if (status !== undefined) {
      assertErrorStatus(status);
    }
    this.subscriptionFault = status;
  }

  setSubscriptionApi(behaviour: SubscriptionApiBehaviour): Required<SubscriptionApiBehaviour> {
    const { refuseCreates } = behaviour;
    if (refuseCreates !== undefined && (!Number.isInteger(refuseCreates) || refuseCreates < 0)) {
      throw new RangeError('refuseCreates must be a non-negative integer');
    }
    Object.assign(
      this.subscriptionApi,
      Object.fromEntries(Object.entries(behaviour).filter(([, v]) => v !== undefined)),
    );
    return { ...this.subscriptionApi };
  }

  /** True when this create is to be refused, using up one of the refusals asked for. */
  takeCreateRefusal(): boolean {
    if (this.subscriptionApi.refuseCreates > 0) {
      this.subscriptionApi.refuseCreates--;
      return true;
    }
    return false;
  }

  setSearchFault(status: number, count: number): void {
    assertErrorStatus(status);
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError('count must be a non-negative integer');
    }
    this.searchFault = count === 0 ? undefined : { status, remaining: count };
  }

  /** The status this search is to fail with, using up one of the failures asked for. */
  takeSearchFault(): number | undefined {
    const fault = this.searchFault;
    if (fault === undefined) {
      return undefined;
    }
    if (--fault.remaining <= 0) {
      this.searchFault = undefined;
    }
    return fault.status;
  }

  /** Refuse WSS upgrades for the next `ms`. */
  refuseConnectionsFor(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_REFUSE_MS) {
      throw new RangeError('ms must be between 0 and 3600000');
    }
    this.refuseUntilMs = this.now() + ms;
  }

  get refusingConnections(): boolean {
    return this.now() < this.refuseUntilMs;
  }
}
