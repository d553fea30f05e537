import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import {
  accountSnapshot,
  buildFrame,
  buildScenario,
  CALL_STATES,
  FrameKind,
  frameLogId,
  FrameType,
  Generation,
  newCall,
  ScenarioName,
  type CallState,
  type SimCall,
} from './frame-factory';
import {
  EntityHistory,
  type HistoryFilters,
  type HistorySearch,
  SEARCH_FILTERS,
  type TimeRange,
} from './entity-history';
import { issueJwt, JwtClaims, verifyJwt } from './jwt';
import {
  readJsonBody,
  sendJson,
  SimulatorControlServer,
  SimulatorHttpError as HttpError,
} from './simulator-control.server';

export type { Generation, ScenarioName } from './frame-factory';

export type AuthMode = 'accept' | 'refuse';
export type AuthFailure = 'close' | 'silent' | 'error-frame';
export type RateKind = 'call' | 'sms' | 'mixed';

export interface SimulatorOptions {
  /** REST + WSS port, 0 = ephemeral. */
  port?: number;
  host?: string;
  /** Control API port on 127.0.0.1; undefined = no control server; 0 = ephemeral. */
  controlPort?: number;
  email?: string;
  password?: string;
  jwtSecret?: string;
  tokenTtlSeconds?: number;
  authMode?: AuthMode;
  /** How a refused auth looks on the wire; the real server's behaviour is undocumented. */
  authFailure?: AuthFailure;
  /**
   * Send each frame only if the user has an active, unexpired WSS subscription of its `type`, as
   * Opentact does. Off by default: most tests and the benchmarks emit every kind whatever the
   * bridge subscribed to.
   */
  filterBySubscription?: boolean;
  /** `expired_on` given to a subscription created without one (seconds; default 30 days). */
  subscriptionTtlSeconds?: number;
}

export interface EmitAtRateOptions {
  ratePerSecond: number;
  count?: number;
  durationMs?: number;
  kind?: RateKind;
  generation?: Generation;
  payloadBytes?: number;
  signal?: AbortSignal;
  /**
   * kind `call` only: play `calls` call lifecycles interleaved (frame n is state
   * floor(n / calls) of call n % calls), so every call's states go out in order with other
   * calls' frames between them. Without it each frame is a new call.
   */
  calls?: number;
}

export interface EmitAtRateResult {
  /** Socket-level sends (a frame that reached two sockets counts twice). */
  sent: number;
  /** Distinct frames emitted. */
  frames: number;
}

export interface SentLogEntry {
  id: string;
  at: number;
  sockets: number;
}

export interface SimulatorStats {
  /** Open WSS connections, authenticated or not. */
  connections: number;
  /** WSS connections ever accepted (reconnect tests count these). */
  connectionsTotal: number;
  authenticated: number;
  authAttempts: number;
  authRefused: number;
  /** Socket-level sends of emitted frames (auth acknowledgements excluded). */
  framesSent: number;
  /** Sends made while the socket already had more than 1 MiB queued: counted, never dropped. */
  backpressuredSends: number;
  /** Frames not sent because the user has no usable subscription of their type (filtering on). */
  framesFiltered: number;
  /** Types with an active, unexpired subscription. */
  subscriptions: string[];
  subscriptionRequests: number;
  /** Requests to the SMS and call searches, failed ones included. */
  searchRequests: number;
  /** WSS upgrades refused while `refuseConnections` was in force. */
  connectionsRefused: number;
}

/** See `setSubscriptionApi`. */
export interface SubscriptionApiBehaviour {
  refuseCreates?: number;
  update?: boolean;
  remove?: boolean;
}

export interface SubscriptionRecord {
  uuid: string;
  created_on: string;
  modified_on: string;
  channel: string;
  type: string;
  is_active: boolean;
  expired_on: string | null;
}

interface ClientState {
  connectionId: string;
  ip: string;
  authenticated: boolean;
}

/** The login the simulator accepts unless told otherwise (demo-only, never a real account). */
export const SIMULATOR_DEMO_LOGIN: Readonly<{ email: string; password: string }> = {
  email: 'demo@opentact.local',
  password: 'demo-password',
};

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  ...SIMULATOR_DEMO_LOGIN,
  tokenTtlSeconds: 86_400,
  authMode: 'accept' as AuthMode,
  authFailure: 'close' as AuthFailure,
  filterBySubscription: false,
  subscriptionTtlSeconds: 30 * 86_400,
};

export const AUTH_FAILED_CLOSE_CODE = 4001;
export const GOING_AWAY_CLOSE_CODE = 1001;
const SENT_LOG_LIMIT = 1_000_000;
/** Trimming a 1M-entry array is O(n), so it is done in chunks rather than on every push. */
const SENT_LOG_SLACK = 50_000;
const BACKPRESSURE_BYTES = 1024 * 1024;
const MAX_REST_BODY_BYTES = 64 * 1024;
/** Subscription entries kept; a client creating without end is refused past this. */
const MAX_SUBSCRIPTION_RECORDS = 10_000;
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
const STOP_GRACE_MS = 1_000;
/** One timer tick never sends more than this, so a long stall cannot monopolise the loop. */
const MAX_FRAMES_PER_TICK = 2_000;
const MAX_RATE_PER_SECOND = 100_000;
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

const SEARCH_PATHS: ReadonlyMap<string, HistorySearch> = new Map([
  ['/rest/sms/search/inbound', 'sms-inbound'],
  ['/rest/sms/search/outbound', 'sms-outbound'],
  ['/rest/sip/app/call/search', 'calls'],
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An ISO bound of a search body, as epoch ms; absent or null means unbounded. */
function searchBound(filters: Record<string, unknown>, name: string): number | undefined {
  const value = filters[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    throw new HttpError(400, `${name} must be an ISO date`);
  }
  return ms;
}

function searchRange(filters: Record<string, unknown>, field: string): TimeRange {
  return {
    fromMs: searchBound(filters, `${field}_from`),
    toMs: searchBound(filters, `${field}_to`),
  };
}

/** The body of a search as filters; a filter of the wrong JSON type is a 400, not ignored. */
function searchFilters(search: HistorySearch, body: Record<string, unknown>): HistoryFilters {
  const equals: Record<string, string | boolean> = {};
  for (const key of SEARCH_FILTERS[search]) {
    const value = body[key];
    if (value === undefined || value === null) {
      continue;
    }
    const flag = key === 'delivered' || key === 'readed';
    if (flag && typeof value === 'boolean') {
      equals[key] = value;
    } else if (!flag && (typeof value === 'string' || typeof value === 'number')) {
      equals[key] = String(value);
    } else {
      throw new HttpError(400, `${key} must be a ${flag ? 'boolean' : 'string'}`);
    }
  }
  return {
    created: searchRange(body, 'created_on'),
    modified: searchRange(body, 'modified_on'),
    equals,
  };
}

function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') {
    return '127.0.0.1';
  }
  if (host === '::') {
    return '[::1]';
  }
  return host.includes(':') ? `[${host}]` : host;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) {
    return data.toString('utf8');
  }
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The `type` of a frame given as text, to filter by; undefined when it has none to read. */
function textFrameType(data: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    return isRecord(parsed) && typeof parsed.type === 'string' ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}

function rateFrameKind(kind: RateKind, seq: number): FrameKind {
  const sms: FrameKind = seq % 4 < 2 ? 'sms_outbound' : 'sms_inbound';
  switch (kind) {
    case 'call':
      return 'call_state';
    case 'sms':
      return sms;
    case 'mixed':
      return seq % 2 === 0 ? 'call_state' : sms;
  }
}

/** Bounds the memory one interleaved run can hold (a SimCall is a few hundred bytes). */
const MAX_INTERLEAVED_CALLS = 100_000;

/** The calls of one interleaved run: frame n is state floor(n / size) of call n % size. */
class CallLifecycles {
  private readonly calls: SimCall[] = [];

  constructor(private readonly size: number) {}

  next(seq: number): { call: SimCall; state: CallState } {
    const index = seq % this.size;
    const round = Math.floor(seq / this.size);
    if (round % CALL_STATES.length === 0) {
      // A new generation of calls every full lifecycle.
      this.calls[index] = newCall('in');
    }
    return { call: this.calls[index], state: CALL_STATES[round % CALL_STATES.length] };
  }
}

/**
 * A stand-in for Opentact: `GET /rest/auth`, the event-subscription API and the WSS event stream
 * on one port, plus fault switches (refused auth, no pongs, dropped sockets) for tests. Plain
 * node:http + ws so that benchmarks can drive it at thousands of frames per second.
 *
 * Subscriptions carry `expired_on`; with `filterBySubscription` only the kinds the user has an
 * active, unexpired WSS subscription for are pushed, as Opentact does. It is off by default, since
 * most tests of the bridge need every kind to arrive whatever was subscribed.
 */
export class OpentactSimulator {
  private readonly config: typeof DEFAULTS & { jwtSecret: string; controlPort?: number };
  private readonly user: Record<string, unknown> & { uuid: string; email: string };
  private server?: Server;
  private wss?: WebSocketServer;
  private control?: SimulatorControlServer;
  private readonly clients = new Map<WebSocket, ClientState>();
  /** Insertion-ordered, so frames go out to sockets in the order they authenticated. */
  private readonly authenticated = new Set<WebSocket>();
  private authMode: AuthMode;
  private pongsEnabled = true;
  private filterBySubscription: boolean;
  /** When set, the subscription API answers every request with this HTTP status. */
  private subscriptionFault?: number;
  private readonly subscriptionApi: Required<SubscriptionApiBehaviour> = {
    refuseCreates: 0,
    update: true,
    remove: true,
  };
  private readonly subscriptionList: SubscriptionRecord[] = [];
  private readonly rateRuns = new Set<AbortController>();
  private log: SentLogEntry[] = [];
  /** What the REST searches answer from: every SMS and call sent or created. */
  readonly history = new EntityHistory();
  /** Calls created with `recordCallState`, by uuid, so later states continue the same call. */
  private readonly historyCalls = new Map<string, SimCall>();
  private refuseUntilMs = 0;
  /** Exact bytes to answer an auth frame with, instead of the built acknowledgement. */
  private authAckOverride?: { text: string; accepted: boolean };
  private searchFault?: { status: number; remaining: number };
  private logTotal = 0;
  private rawIdSeq = 0;
  private counters = {
    connectionsTotal: 0,
    authAttempts: 0,
    authRefused: 0,
    framesSent: 0,
    backpressuredSends: 0,
    framesFiltered: 0,
    subscriptionRequests: 0,
    searchRequests: 0,
    connectionsRefused: 0,
  };
  private startPromise?: Promise<void>;
  private stopPromise?: Promise<void>;

  constructor(options: SimulatorOptions = {}) {
    this.config = {
      port: options.port ?? DEFAULTS.port,
      host: options.host ?? DEFAULTS.host,
      email: options.email ?? DEFAULTS.email,
      password: options.password ?? DEFAULTS.password,
      tokenTtlSeconds: options.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds,
      authMode: options.authMode ?? DEFAULTS.authMode,
      authFailure: options.authFailure ?? DEFAULTS.authFailure,
      filterBySubscription: options.filterBySubscription ?? DEFAULTS.filterBySubscription,
      subscriptionTtlSeconds: options.subscriptionTtlSeconds ?? DEFAULTS.subscriptionTtlSeconds,
      jwtSecret: options.jwtSecret ?? randomBytes(32).toString('hex'),
      controlPort: options.controlPort,
    };
    this.authMode = this.config.authMode;
    this.filterBySubscription = this.config.filterBySubscription;
    const createdOn = new Date(Date.now() - 30 * 86_400_000).toISOString();
    this.user = {
      created_on: createdOn,
      modified_on: createdOn,
      uuid: randomUUID(),
      email: this.config.email,
      phone_number: '+15550100',
      first_name: 'Demo',
      wss_online: false,
      last_name: 'User',
      avatar: null,
      dob: null,
      role: 'User',
      gender: null,
      deleted_on: null,
    };
  }

  start(): Promise<void> {
    this.startPromise ??= this.listen();
    return this.startPromise;
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  get restUrl(): string {
    return `${this.baseUrl('http')}/rest`;
  }

  get wssUrl(): string {
    return this.baseUrl('ws');
  }

  get controlUrl(): string | undefined {
    return this.control?.url;
  }

  get stats(): SimulatorStats {
    return {
      connections: this.clients.size,
      connectionsTotal: this.counters.connectionsTotal,
      authenticated: this.authenticated.size,
      authAttempts: this.counters.authAttempts,
      authRefused: this.counters.authRefused,
      framesSent: this.counters.framesSent,
      backpressuredSends: this.counters.backpressuredSends,
      framesFiltered: this.counters.framesFiltered,
      subscriptions: [...this.subscribedTypes()],
      subscriptionRequests: this.counters.subscriptionRequests,
      searchRequests: this.counters.searchRequests,
      connectionsRefused: this.counters.connectionsRefused,
    };
  }

  /** Every subscription record, expired and inactive ones included. */
  get subscriptionRecords(): SubscriptionRecord[] {
    return this.subscriptionList.map((record) => ({ ...record }));
  }

  /** The last 1,000,000 frames emitted, including those that reached no socket (sockets: 0). */
  get sentLog(): SentLogEntry[] {
    this.trimLog(SENT_LOG_LIMIT);
    return this.log;
  }

  /** Frames ever emitted, including those trimmed out of `sentLog`. */
  get sentCount(): number {
    return this.logTotal;
  }

  issueToken(ttlSeconds: number = this.config.tokenTtlSeconds): string {
    return issueJwt({ uuid: this.user.uuid, role: 'User' }, this.config.jwtSecret, ttlSeconds);
  }

  /**
   * Sends one frame to every authenticated connection. Buffers go out as binary unless
   * `binary: false`; strings and objects as text unless `binary: true`.
   */
  emit(frame: Record<string, unknown> | string | Buffer, opts: { binary?: boolean } = {}): number {
    if (Buffer.isBuffer(frame)) {
      return this.send(frame, opts.binary ?? true, this.rawLogId(frame.toString('utf8')));
    }
    if (typeof frame === 'string') {
      return this.send(Buffer.from(frame), opts.binary ?? false, this.rawLogId(frame));
    }
    const id = frameLogId(frame) ?? `sim-${++this.rawIdSeq}`;
    this.history.recordFrame(frame);
    return this.send(Buffer.from(JSON.stringify(frame)), opts.binary ?? false, id);
  }

  emitScenario(name: ScenarioName, generation: Generation = 'newer'): Record<string, unknown>[] {
    const frames = buildScenario(name, generation);
    for (const frame of frames) {
      this.emit(frame);
    }
    return frames;
  }

  /**
   * Sends frames in small batches per timer tick, sized from the elapsed time, so the average
   * rate holds even though Node timers fire late; one setTimeout per frame cannot reach 5,000/s.
   */
  emitAtRate(opts: EmitAtRateOptions): Promise<EmitAtRateResult> {
    const { ratePerSecond: rate, count, durationMs } = opts;
    if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE_PER_SECOND) {
      return Promise.reject(new RangeError(`ratePerSecond must be in (0, ${MAX_RATE_PER_SECOND}]`));
    }
    if (count === undefined && durationMs === undefined) {
      // Unbounded runs would outlive the test that started them.
      return Promise.reject(new RangeError('emitAtRate needs count or durationMs'));
    }
    if (
      (count !== undefined && !(count >= 0)) ||
      (durationMs !== undefined && !(durationMs >= 0))
    ) {
      return Promise.reject(new RangeError('count and durationMs must be >= 0'));
    }
    const target = Math.min(
      count ?? Number.POSITIVE_INFINITY,
      durationMs !== undefined ? Math.floor((rate * durationMs) / 1000) : Number.POSITIVE_INFINITY,
    );
    const kind = opts.kind ?? 'call';
    const generation = opts.generation ?? 'newer';
    const payloadBytes = Math.min(Math.max(0, opts.payloadBytes ?? 0), MAX_PAYLOAD_BYTES);
    const lifecycles =
      kind === 'call' && opts.calls !== undefined && opts.calls > 0
        ? new CallLifecycles(Math.min(Math.floor(opts.calls), MAX_INTERLEAVED_CALLS))
        : undefined;
    const controller = new AbortController();
    const onOuterAbort = (): void => controller.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (opts.signal?.aborted) {
      controller.abort();
    }
    this.rateRuns.add(controller);

    return new Promise((resolve) => {
      const startedAt = performance.now();
      let frames = 0;
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;

      const finish = (): void => {
        if (timer) {
          clearTimeout(timer);
        }
        controller.signal.removeEventListener('abort', finish);
        opts.signal?.removeEventListener('abort', onOuterAbort);
        this.rateRuns.delete(controller);
        resolve({ sent, frames });
      };

      const tick = (): void => {
        timer = undefined;
        const elapsed = performance.now() - startedAt;
        // Frame n is due at n / rate seconds, so frame 0 goes out immediately.
        const due = Math.min(target, Math.floor((elapsed * rate) / 1000) + 1);
        const batchEnd = Math.min(due, frames + MAX_FRAMES_PER_TICK);
        while (frames < batchEnd) {
          sent += this.sendRateFrame(frames, kind, generation, payloadBytes, lifecycles);
          frames++;
        }
        if (frames >= target) {
          finish();
          return;
        }
        const nextDueMs = (frames * 1000) / rate - (performance.now() - startedAt);
        timer = setTimeout(tick, Math.max(1, Math.min(Math.floor(nextDueMs), 100)));
      };

      if (controller.signal.aborted) {
        finish();
        return;
      }
      controller.signal.addEventListener('abort', finish, { once: true });
      tick();
    });
  }

  /** Terminates every WSS connection abruptly (no close frame), like a network cut. */
  dropAll(_code?: number): void {
    // terminate() sends no close frame, so there is no code on the wire; the parameter is kept
    // for API compatibility and the peer sees 1006 as with a real network failure.
    for (const ws of this.clients.keys()) {
      ws.terminate();
    }
  }

  setPongs(enabled: boolean): void {
    this.pongsEnabled = enabled;
  }

  setAuthMode(mode: AuthMode): void {
    this.authMode = mode;
  }

  /**
   * Answers every auth frame carrying a valid token with exactly `text` (a conformance test's
   * bytes, e.g. a documented ack) instead of the built acknowledgement; `accepted: false` leaves
   * the socket unauthenticated, so it receives no events, as after a refusal. Undefined restores
   * the built ack.
   */
  setAuthAck(text: string | undefined, opts: { accepted?: boolean } = {}): void {
    this.authAckOverride =
      text === undefined ? undefined : { text, accepted: opts.accepted ?? true };
  }

  /** Turns sending only subscribed kinds on or off (see `filterBySubscription`). */
  setSubscriptionFiltering(enabled: boolean): void {
    this.filterBySubscription = enabled;
  }

  /** Makes the subscription API answer `status` to every request; undefined restores it. */
  setSubscriptionFault(status: number | undefined): void {
    if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) {
      throw new RangeError('the fault status must be an HTTP error status (400-599)');
    }
    this.subscriptionFault = status;
  }

  /**
   * How the subscription API behaves where the reference cannot say (§5.2, §5.3): the next
   * `refuseCreates` creates answer HTTP 200 `{ success: false }`; `update` (PATCH) and `remove`
   * (DELETE `/event/subscription/{uuid}`) exist or answer 405. Fields left out keep their value.
   * Returns the behaviour now in force.
   */
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

  /**
   * Lets the subscriptions of `types` (all when omitted) lapse now, as time would: their
   * `expired_on` moves into the past. Returns how many lapsed.
   */
  expireSubscriptions(types?: readonly string[]): number {
    const past = new Date(Date.now() - 1_000).toISOString();
    let expired = 0;
    for (const record of this.subscriptionList) {
      if (types === undefined || types.includes(record.type)) {
        record.expired_on = past;
        record.modified_on = new Date().toISOString();
        expired++;
      }
    }
    return expired;
  }

  /**
   * An inbound SMS Opentact received, known to its REST searches, with no frame sent: what a
   * bridge that was not connected would have missed. Returns the entity.
   */
  recordInboundSms(at: number = Date.now()): Record<string, unknown> {
    const frame = buildFrame('sms_inbound', 'older', undefined, { at });
    const entity = frame.payload as Record<string, unknown>;
    this.history.recordSms(entity, 'inbound');
    return { ...entity };
  }

  /**
   * A call changing state with no frame sent (see recordInboundSms). A new inbound call unless
   * `callId` names one made here before. Returns the call's uuid.
   */
  recordCallState(state: CallState, callId?: string, at: number = Date.now()): string {
    const known = callId === undefined ? undefined : this.historyCalls.get(callId);
    if (callId !== undefined && !known) {
      throw new RangeError(`no call ${callId} was recorded here`);
    }
    const call = known ?? newCall('in', at - 1_000);
    this.historyCalls.set(call.uuid, call);
    const frame = buildFrame('call_state', 'older', undefined, { call, state, at });
    this.history.recordCall(frame.payload as Record<string, unknown>);
    return call.uuid;
  }

  /**
   * Cuts every WSS connection now and refuses new ones (HTTP 503 on the upgrade) for `ms`: an
   * outage of the event stream while REST still answers.
   */
  refuseConnections(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > 3_600_000) {
      throw new RangeError('ms must be between 0 and 3600000');
    }
    this.refuseUntilMs = Date.now() + ms;
    if (ms > 0) {
      this.dropAll();
    }
  }

  /** The next `count` SMS and call search requests answer `status`; count 0 clears the fault. */
  setSearchFault(status: number, count: number): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError('the fault status must be an HTTP error status (400-599)');
    }
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError('count must be a non-negative integer');
    }
    this.searchFault = count === 0 ? undefined : { status, remaining: count };
  }

  private baseUrl(scheme: 'http' | 'ws'): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') {
      throw new Error('simulator is not started');
    }
    return `${scheme}://${urlHost(this.config.host)}:${address.port}`;
  }

  private async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handleRest(req, res).catch((error: unknown) => {
        if (error instanceof HttpError) {
          sendJson(res, error.status, { success: false, message: error.message });
          return;
        }
        sendJson(res, 500, { success: false, message: 'Internal Server Error' });
      });
    });
    // autoPong is off so setPongs(false) can simulate a peer that stopped answering.
    const wss = new WebSocketServer({
      server,
      autoPong: false,
      maxPayload: MAX_CLIENT_FRAME_BYTES,
      verifyClient: (_info, done) => {
        if (Date.now() < this.refuseUntilMs) {
          this.counters.connectionsRefused++;
          done(false, 503, 'event stream unavailable');
          return;
        }
        done(true);
      },
    });
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.server = server;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (this.config.controlPort !== undefined) {
      this.control = new SimulatorControlServer(this, this.config.controlPort, this.config.host);
      await this.control.start();
    }
  }

  private async shutdown(): Promise<void> {
    for (const controller of this.rateRuns) {
      controller.abort();
    }
    if (!this.startPromise) {
      return;
    }
    await this.startPromise.catch(() => undefined);
    await this.control?.stop();
    const wss = this.wss;
    const server = this.server;
    if (wss) {
      for (const ws of this.clients.keys()) {
        ws.close(GOING_AWAY_CLOSE_CODE, 'simulator stopping');
      }
      // wss.close waits for every client's close handshake; peers that never answer are cut.
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => {
          for (const ws of this.clients.keys()) {
            ws.terminate();
          }
        }, STOP_GRACE_MS);
        wss.close(() => {
          clearTimeout(grace);
          resolve();
        });
      });
    }
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const state: ClientState = {
      connectionId: randomUUID(),
      ip: clientIp(req),
      authenticated: false,
    };
    this.clients.set(ws, state);
    this.counters.connectionsTotal++;
    // A client that vanishes mid-frame raises 'error'; without a listener it would crash us.
    ws.on('error', () => undefined);
    ws.on('ping', (data: Buffer) => {
      if (this.pongsEnabled && ws.readyState === WebSocket.OPEN) {
        ws.pong(data);
      }
    });
    ws.on('message', (data: RawData, isBinary: boolean) =>
      this.onClientFrame(ws, state, data, isBinary),
    );
    ws.on('close', () => {
      this.clients.delete(ws);
      this.authenticated.delete(ws);
    });
  }

  private onClientFrame(ws: WebSocket, state: ClientState, data: RawData, isBinary: boolean): void {
    // Only a JSON text auth frame means anything; the real server's reaction to anything else
    // is undocumented, so it is ignored rather than guessed at.
    if (isBinary || state.authenticated) {
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      return;
    }
    if (!isRecord(message) || message.type !== FrameType.Auth) {
      return;
    }
    this.counters.authAttempts++;
    const claims =
      typeof message.payload === 'string' ? this.verifyToken(message.payload) : undefined;
    if (!claims || this.authMode === 'refuse') {
      this.counters.authRefused++;
      this.refuseAuth(ws, state);
      return;
    }
    const override = this.authAckOverride;
    if (override !== undefined) {
      if (override.accepted) {
        state.authenticated = true;
        this.authenticated.add(ws);
      } else {
        this.counters.authRefused++;
      }
      ws.send(override.text);
      return;
    }
    state.authenticated = true;
    this.authenticated.add(ws);
    ws.send(JSON.stringify(this.authAck(state)));
  }

  private refuseAuth(ws: WebSocket, state: ClientState): void {
    switch (this.config.authFailure) {
      case 'close':
        ws.close(AUTH_FAILED_CLOSE_CODE, 'auth failed');
        return;
      case 'silent':
        return;
      case 'error-frame':
        ws.send(
          JSON.stringify({
            type: FrameType.Auth,
            message: `WSS connection ${state.connectionId}@${state.ip} - auth failed`,
            success: false,
          }),
        );
        ws.close(AUTH_FAILED_CLOSE_CODE, 'auth failed');
        return;
    }
  }

  /** Shaped like opentact.md §2.3. */
  private authAck(state: ClientState): Record<string, unknown> {
    const now = new Date().toISOString();
    // The auth example's account has phone as a string and no balance, unlike event frames.
    const account = accountSnapshot();
    account.phone = String(account.phone);
    delete account.balance;
    return {
      uuid: randomUUID(),
      created_on: now,
      type: FrameType.Auth,
      message: `WSS connection ${state.connectionId}@${state.ip} - success auth ${this.user.email}`,
      payload: {
        uuid: state.connectionId,
        ip: state.ip,
        user: { ...this.user, wss_online: true },
        account,
      },
      account,
      modified_on: now,
      delivery_report: [],
    };
  }

  private verifyToken(token: string): JwtClaims | undefined {
    try {
      const claims = verifyJwt(token, this.config.jwtSecret);
      return claims.uuid === this.user.uuid ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Every authenticated socket of the user receives every frame. The docs do not say whether
   * Opentact fans out to all of a user's connections; sending to all is the choice that lets
   * tests detect a bridge accidentally holding two connections (duplicates).
   */
  private send(data: Buffer, binary: boolean, id: string, type?: string): number {
    if (this.filterBySubscription && !this.isSubscribed(type ?? textFrameType(data))) {
      this.counters.framesFiltered++;
      this.appendLog({ id, at: epochMs(), sockets: 0 });
      return 0;
    }
    let sockets = 0;
    for (const ws of this.authenticated) {
      if (ws.readyState !== WebSocket.OPEN) {
        continue;
      }
      if (ws.bufferedAmount > BACKPRESSURE_BYTES) {
        this.counters.backpressuredSends++;
      }
      ws.send(data, { binary });
      sockets++;
    }
    this.counters.framesSent += sockets;
    this.appendLog({ id, at: epochMs(), sockets });
    return sockets;
  }

  private sendRateFrame(
    seq: number,
    kind: RateKind,
    generation: Generation,
    payloadBytes: number,
    lifecycles?: CallLifecycles,
  ): number {
    // An outbound SMS of a rate run is one frame, the first event of §4.9: sent, not delivered.
    const frame = buildFrame(rateFrameKind(kind, seq), generation, undefined, {
      ...(lifecycles?.next(seq) ?? { state: CALL_STATES[seq % CALL_STATES.length] }),
      smsDelivered: false,
    });
    frame.sim_seq = seq;
    frame.sim_sent_at = epochMs();
    this.history.recordFrame(frame);
    let text = JSON.stringify(frame);
    if (payloadBytes > 0) {
      const padLength = payloadBytes - text.length - ',"sim_pad":""'.length;
      if (padLength > 0) {
        text = `${text.slice(0, -1)},"sim_pad":"${'x'.repeat(padLength)}"}`;
      }
    }
    return this.send(
      Buffer.from(text),
      false,
      frameLogId(frame) ?? `sim-${++this.rawIdSeq}`,
      String(frame.type),
    );
  }

  /** A frame without a readable type (deliberately malformed ones) is sent regardless. */
  private isSubscribed(type: string | undefined): boolean {
    return type === undefined || this.subscribedTypes().has(type);
  }

  /** Types with an active WSS subscription whose `expired_on` is absent or still ahead. */
  private subscribedTypes(): Set<string> {
    const now = Date.now();
    const types = new Set<string>();
    for (const record of this.subscriptionList) {
      const expiresAt = record.expired_on === null ? Infinity : Date.parse(record.expired_on);
      if (record.is_active && record.channel === 'wss' && expiresAt > now) {
        types.add(record.type);
      }
    }
    return types;
  }

  private rawLogId(text: string): string {
    try {
      const parsed: unknown = JSON.parse(text);
      const id = isRecord(parsed) ? frameLogId(parsed) : undefined;
      if (id !== undefined) {
        return id;
      }
    } catch {
      // Not JSON: deliberately malformed frames still get a log entry.
    }
    return `raw-${++this.rawIdSeq}`;
  }

  private appendLog(entry: SentLogEntry): void {
    this.log.push(entry);
    this.logTotal++;
    if (this.log.length > SENT_LOG_LIMIT + SENT_LOG_SLACK) {
      this.trimLog(SENT_LOG_LIMIT);
    }
  }

  private trimLog(limit: number): void {
    if (this.log.length > limit) {
      this.log = this.log.slice(this.log.length - limit);
    }
  }

  private async handleRest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const method = req.method ?? 'GET';
    if (url.pathname === '/rest/auth') {
      if (method !== 'GET') {
        throw new HttpError(405, 'Method Not Allowed');
      }
      this.handleLogin(req, res);
      return;
    }
    if (url.pathname === '/rest/event/subscription') {
      this.requireJwt(req, url);
      this.counters.subscriptionRequests++;
      if (this.subscriptionFault !== undefined) {
        throw new HttpError(this.subscriptionFault, 'subscription service unavailable');
      }
      if (method === 'GET') {
        sendJson(res, 200, { success: true, payload: this.subscriptionList });
        return;
      }
      if (method === 'POST') {
        const body = await readJsonBody(req, MAX_REST_BODY_BYTES);
        if (this.subscriptionApi.refuseCreates > 0) {
          this.subscriptionApi.refuseCreates--;
          sendJson(res, 200, { success: false, message: 'subscription not created' });
          return;
        }
        const record = this.createSubscriptionRecord(body);
        sendJson(res, 200, {
          success: true,
          payload: { ...record, user: { ...this.user, account: accountSnapshot() } },
        });
        return;
      }
      throw new HttpError(405, 'Method Not Allowed');
    }
    if (url.pathname.startsWith('/rest/event/subscription/')) {
      this.requireJwt(req, url);
      this.counters.subscriptionRequests++;
      if (this.subscriptionFault !== undefined) {
        throw new HttpError(this.subscriptionFault, 'subscription service unavailable');
      }
      const uuid = decodeURIComponent(url.pathname.slice('/rest/event/subscription/'.length));
      const allowed =
        (method === 'PATCH' && this.subscriptionApi.update) ||
        (method === 'DELETE' && this.subscriptionApi.remove);
      if (!allowed) {
        throw new HttpError(405, 'Method Not Allowed');
      }
      const index = this.subscriptionList.findIndex((s) => s.uuid === uuid);
      if (index < 0) {
        throw new HttpError(404, 'Not Found');
      }
      if (method === 'DELETE') {
        const [removed] = this.subscriptionList.splice(index, 1);
        sendJson(res, 200, { success: true, payload: removed });
        return;
      }
      const record = this.updateSubscriptionRecord(
        this.subscriptionList[index],
        await readJsonBody(req, MAX_REST_BODY_BYTES),
      );
      sendJson(res, 200, { success: true, payload: record });
      return;
    }
    const search = SEARCH_PATHS.get(url.pathname);
    if (search !== undefined) {
      if (method !== 'POST') {
        throw new HttpError(405, 'Method Not Allowed');
      }
      this.requireJwt(req, url);
      this.counters.searchRequests++;
      if (this.searchFault) {
        const { status } = this.searchFault;
        if (--this.searchFault.remaining <= 0) {
          this.searchFault = undefined;
        }
        throw new HttpError(status, 'search unavailable');
      }
      sendJson(res, 200, {
        success: true,
        payload: this.search(search, url, await readJsonBody(req, MAX_REST_BODY_BYTES)),
      });
      return;
    }
    throw new HttpError(404, 'Not Found');
  }

  /**
   * Reference §7.1: `take` (1-100) and `skip` in the query; in the body `created_on_from` / `_to`
   * and `modified_on_from` / `_to` (ISO) and the equality filters of the search (SMS: `from`,
   * `to`, `thread`, `state`, `delivered`, `readed`, `tn`, `reference_id`; calls: `tn`, `from`,
   * `to`, `state`, `sip_control_app`). Answers `{ total, data }` inside the usual wrapper.
   */
  private search(
    search: HistorySearch,
    url: URL,
    body: unknown,
  ): { total: number; data: Record<string, unknown>[] } {
    const take = Number(url.searchParams.get('take') ?? '10');
    const skip = Number(url.searchParams.get('skip') ?? '0');
    if (!Number.isInteger(take) || take < 1 || take > 100) {
      throw new HttpError(400, 'take must be an integer from 1 to 100');
    }
    if (!Number.isInteger(skip) || skip < 0) {
      throw new HttpError(400, 'skip must be a non-negative integer');
    }
    return this.history.search(
      search,
      searchFilters(search, isRecord(body) ? body : {}),
      take,
      skip,
    );
  }

  private handleLogin(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const separator = decoded.indexOf(':');
    const email = separator >= 0 ? decoded.slice(0, separator) : '';
    const password = separator >= 0 ? decoded.slice(separator + 1) : '';
    if (email !== this.config.email || password !== this.config.password) {
      throw new HttpError(401, 'Unauthorized');
    }
    sendJson(res, 200, {
      success: true,
      payload: {
        ...this.user,
        wss_online: this.authenticated.size > 0,
        token: this.issueToken(),
        account: accountSnapshot(),
      },
    });
  }

  private requireJwt(req: IncomingMessage, url: URL): JwtClaims {
    const header = req.headers['x-auth-token'];
    const token = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('jwt');
    const claims = token ? this.verifyToken(token) : undefined;
    if (!claims) {
      throw new HttpError(401, 'Unauthorized');
    }
    return claims;
  }

  /**
   * Each create is a new entry with its own uuid, as the documented answer (§5.2) shows; nothing
   * documented says a second create of a type replaces the first, so entries pile up unless the
   * client re-activates or removes them.
   */
  private createSubscriptionRecord(body: unknown): SubscriptionRecord {
    if (!isRecord(body)) {
      throw new HttpError(400, 'body must be a JSON object');
    }
    const { type, channel, is_active: isActive, expired_on: expiredOn } = body;
    if (typeof type !== 'string' || type.trim() === '') {
      throw new HttpError(400, 'type must be a non-empty string');
    }
    if (typeof channel !== 'string' || channel.trim() === '') {
      throw new HttpError(400, 'channel must be a non-empty string');
    }
    if (typeof isActive !== 'boolean') {
      throw new HttpError(400, 'is_active must be a boolean');
    }
    const expiry = subscriptionExpiry(expiredOn);
    if (this.subscriptionList.length >= MAX_SUBSCRIPTION_RECORDS) {
      throw new HttpError(400, `at most ${MAX_SUBSCRIPTION_RECORDS} subscriptions`);
    }
    const now = new Date().toISOString();
    const record: SubscriptionRecord = {
      uuid: randomUUID(),
      created_on: now,
      modified_on: now,
      channel,
      type,
      is_active: isActive,
      // Every documented entry has an expiry; one asked for without gets the default lifetime.
      expired_on:
        expiry === undefined
          ? new Date(Date.now() + this.config.subscriptionTtlSeconds * 1000).toISOString()
          : expiry,
    };
    this.subscriptionList.push(record);
    return record;
  }

  /** PATCH: `is_active` and `expired_on` change when given; type and channel stay. */
  private updateSubscriptionRecord(record: SubscriptionRecord, body: unknown): SubscriptionRecord {
    if (!isRecord(body)) {
      throw new HttpError(400, 'body must be a JSON object');
    }
    const { is_active: isActive, expired_on: expiredOn } = body;
    if (isActive !== undefined && typeof isActive !== 'boolean') {
      throw new HttpError(400, 'is_active must be a boolean');
    }
    const expiry = subscriptionExpiry(expiredOn);
    if (isActive !== undefined) {
      record.is_active = isActive;
    }
    if (expiry !== undefined) {
      record.expired_on = expiry;
    }
    record.modified_on = new Date().toISOString();
    return record;
  }
}

/** `expired_on` of a request: an ISO date, null (no expiry), or undefined when not given. */
function subscriptionExpiry(value: unknown): string | null | undefined {
  if (value === undefined || value === null) {
    return value;
  }
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new HttpError(400, 'expired_on must be an ISO date');
  }
  return value;
}
