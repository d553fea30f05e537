import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { EntityHistory } from './entity-history';
import {
  buildFrame,
  buildScenario,
  type CallState,
  Generation,
  newCall,
  ScenarioName,
  type SimCall,
} from './frame-factory';
import { FrameSender } from './frame-sender';
import { closeServer, listen } from './http-json';
import { type EmitAtRateOptions, type EmitAtRateResult, RateGenerator } from './rate-generator';
import { SentLog, type SentLogEntry } from './sent-log';
import { SimulatorControlServer } from './simulator-control.server';
import type { SimulatorControls } from './simulator-controls';
import { type AuthMode, SimulatorFaults, type SubscriptionApiBehaviour } from './simulator-faults';
import { SimulatorIdentity } from './simulator-identity';
import { SimulatorRestApi } from './simulator-rest.api';
import { newCounters, type SimulatorStats } from './simulator-stats';
import { type AuthFailure, SimulatorWssServer } from './simulator-wss.server';
import { type SubscriptionRecord, SubscriptionRecords } from './subscription-records';

export type { Generation, ScenarioName } from './frame-factory';
export type { EmitAtRateOptions, EmitAtRateResult, RateKind } from './rate-generator';
export type { SentLogEntry } from './sent-log';
export type { AuthMode, SubscriptionApiBehaviour } from './simulator-faults';
export type { SimulatorStats } from './simulator-stats';
export {
  AUTH_FAILED_CLOSE_CODE,
  type AuthFailure,
  GOING_AWAY_CLOSE_CODE,
} from './simulator-wss.server';
export type { SubscriptionRecord } from './subscription-records';

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

/** The login the simulator accepts unless told otherwise (demo-only, never a real account). */
export const SIMULATOR_DEMO_LOGIN: Readonly<{ email: string; password: string }> = {
  email: 'demo@opentact.local',
  password: 'demo-password',
};

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  tokenTtlSeconds: 86_400,
  authMode: 'accept' as AuthMode,
  authFailure: 'close' as AuthFailure,
  filterBySubscription: false,
  subscriptionTtlSeconds: 30 * 86_400,
};

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') {
    return '127.0.0.1';
  }
  if (host === '::') {
    return '[::1]';
  }
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * A stand-in for Opentact: `GET /rest/auth`, the event-subscription API, the searches and the WSS
 * event stream on one port, plus fault switches (refused auth, no pongs, dropped sockets) for
 * tests. Plain node:http + ws so that benchmarks can drive it at thousands of frames per second.
 *
 * This class wires the parts together and is the one entry point tests, benchmarks and the demo
 * use: the WSS server (`simulator-wss.server.ts`), the REST API (`simulator-rest.api.ts`), the
 * subscriptions (`subscription-records.ts`), the fault switches (`simulator-faults.ts`), the rate
 * generator (`rate-generator.ts`) and the optional control server.
 *
 * Subscriptions carry `expired_on`; with `filterBySubscription` only the kinds the user has an
 * active, unexpired WSS subscription for are pushed, as Opentact does. It is off by default, since
 * most tests of the bridge need every kind to arrive whatever was subscribed.
 */
export class OpentactSimulator implements SimulatorControls {
  /** What the REST searches answer from: every SMS and call sent or created. */
  readonly history = new EntityHistory();
  private readonly host: string;
  private readonly port: number;
  private readonly controlPort?: number;
  private readonly counters = newCounters();
  private readonly log = new SentLog();
  private readonly faults: SimulatorFaults;
  private readonly identity: SimulatorIdentity;
  private readonly subscriptions: SubscriptionRecords;
  private readonly wss: SimulatorWssServer;
  private readonly sender: FrameSender;
  private readonly rates: RateGenerator;
  private readonly rest: SimulatorRestApi;
  /** Calls created with `recordCallState`, by uuid, so later states continue the same call. */
  private readonly historyCalls = new Map<string, SimCall>();
  private server?: Server;
  private control?: SimulatorControlServer;
  private startPromise?: Promise<void>;
  private stopPromise?: Promise<void>;

  constructor(options: SimulatorOptions = {}) {
    this.host = options.host ?? DEFAULTS.host;
    this.port = options.port ?? DEFAULTS.port;
    this.controlPort = options.controlPort;
    this.faults = new SimulatorFaults({
      authMode: options.authMode ?? DEFAULTS.authMode,
      filterBySubscription: options.filterBySubscription ?? DEFAULTS.filterBySubscription,
    });
    this.identity = new SimulatorIdentity(
      {
        email: options.email ?? SIMULATOR_DEMO_LOGIN.email,
        password: options.password ?? SIMULATOR_DEMO_LOGIN.password,
      },
      options.jwtSecret ?? randomBytes(32).toString('hex'),
      options.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds,
    );
    this.subscriptions = new SubscriptionRecords(
      options.subscriptionTtlSeconds ?? DEFAULTS.subscriptionTtlSeconds,
    );
    this.wss = new SimulatorWssServer(
      this.identity,
      this.faults,
      this.counters,
      options.authFailure ?? DEFAULTS.authFailure,
    );
    this.sender = new FrameSender(
      this.wss,
      this.subscriptions,
      this.faults,
      this.counters,
      this.log,
    );
    this.rates = new RateGenerator(this.sender, this.history, this.log);
    this.rest = new SimulatorRestApi(
      this.identity,
      this.subscriptions,
      this.history,
      this.faults,
      this.counters,
      this.wss,
    );
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
      connections: this.wss.connections,
      connectionsTotal: this.counters.connectionsTotal,
      authenticated: this.wss.authenticated,
      authAttempts: this.counters.authAttempts,
      authRefused: this.counters.authRefused,
      framesSent: this.counters.framesSent,
      backpressuredSends: this.counters.backpressuredSends,
      framesFiltered: this.counters.framesFiltered,
      subscriptions: [...this.subscriptions.subscribedTypes()],
      subscriptionRequests: this.counters.subscriptionRequests,
      searchRequests: this.counters.searchRequests,
      connectionsRefused: this.counters.connectionsRefused,
    };
  }

  /** Every subscription record, expired and inactive ones included. */
  get subscriptionRecords(): SubscriptionRecord[] {
    return this.subscriptions.all.map((record) => ({ ...record }));
  }

  /** The last 1,000,000 frames emitted, including those that reached no socket (sockets: 0). */
  get sentLog(): SentLogEntry[] {
    return this.log.entries;
  }

  /** Frames ever emitted, including those trimmed out of `sentLog`. */
  get sentCount(): number {
    return this.log.total;
  }

  issueToken(ttlSeconds?: number): string {
    return this.identity.issueToken(ttlSeconds);
  }

  /** Every token issued so far, by login or issueToken (the last 1,000), the newest last. */
  get issuedTokens(): readonly string[] {
    return this.identity.issuedTokens;
  }

  /**
   * Sends one frame to every authenticated connection. Buffers go out as binary unless
   * `binary: false`; strings and objects as text unless `binary: true`.
   */
  emit(frame: Record<string, unknown> | string | Buffer, opts: { binary?: boolean } = {}): number {
    if (Buffer.isBuffer(frame)) {
      return this.sender.send(frame, opts.binary ?? true, this.log.rawId(frame.toString('utf8')));
    }
    if (typeof frame === 'string') {
      return this.sender.send(Buffer.from(frame), opts.binary ?? false, this.log.rawId(frame));
    }
    const id = this.log.frameId(frame);
    this.history.recordFrame(frame);
    return this.sender.send(Buffer.from(JSON.stringify(frame)), opts.binary ?? false, id);
  }

  emitScenario(name: ScenarioName, generation: Generation = 'newer'): Record<string, unknown>[] {
    const frames = buildScenario(name, generation);
    for (const frame of frames) {
      this.emit(frame);
    }
    return frames;
  }

  /** Generated frames at a steady rate (see `RateGenerator`); needs `count` or `durationMs`. */
  emitAtRate(opts: EmitAtRateOptions): Promise<EmitAtRateResult> {
    return this.rates.emitAtRate(opts);
  }

  /** Terminates every WSS connection abruptly (no close frame), like a network cut. */
  dropAll(_code?: number): void {
    // terminate() sends no close frame, so there is no code on the wire; the parameter is kept
    // for API compatibility and the peer sees 1006 as with a real network failure.
    this.wss.dropAll();
  }

  setPongs(enabled: boolean): void {
    this.faults.pongsEnabled = enabled;
  }

  setAuthMode(mode: AuthMode): void {
    this.faults.authMode = mode;
  }

  /**
   * Answers every auth frame carrying a valid token with exactly `text` (a conformance test's
   * bytes, e.g. a documented ack) instead of the built acknowledgement; `accepted: false` leaves
   * the socket unauthenticated, so it receives no events, as after a refusal. Undefined restores
   * the built ack.
   */
  setAuthAck(text: string | undefined, opts: { accepted?: boolean } = {}): void {
    this.faults.setAuthAck(text, opts);
  }

  /** Turns sending only subscribed kinds on or off (see `filterBySubscription`). */
  setSubscriptionFiltering(enabled: boolean): void {
    this.faults.filterBySubscription = enabled;
  }

  /** Makes the subscription API answer `status` to every request; undefined restores it. */
  setSubscriptionFault(status: number | undefined): void {
    this.faults.setSubscriptionFault(status);
  }

  /**
   * How the subscription API behaves where the reference cannot say (§5.2, §5.3): the next
   * `refuseCreates` creates answer HTTP 200 `{ success: false }`; `update` (PATCH) and `remove`
   * (DELETE `/event/subscription/{uuid}`) exist or answer 405. Fields left out keep their value.
   * Returns the behaviour now in force.
   */
  setSubscriptionApi(behaviour: SubscriptionApiBehaviour): Required<SubscriptionApiBehaviour> {
    return this.faults.setSubscriptionApi(behaviour);
  }

  /**
   * Lets the subscriptions of `types` (all when omitted) lapse now, as time would: their
   * `expired_on` moves into the past. Returns how many lapsed.
   */
  expireSubscriptions(types?: readonly string[]): number {
    return this.subscriptions.expire(types);
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
    this.faults.refuseConnectionsFor(ms);
    if (ms > 0) {
      this.dropAll();
    }
  }

  /** The next `count` SMS and call search requests answer `status`; count 0 clears the fault. */
  setSearchFault(status: number, count: number): void {
    this.faults.setSearchFault(status, count);
  }

  private baseUrl(scheme: 'http' | 'ws'): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') {
      throw new Error('simulator is not started');
    }
    return `${scheme}://${urlHost(this.host)}:${address.port}`;
  }

  private async listen(): Promise<void> {
    const server = createServer(this.rest.listener);
    this.wss.attach(server);
    this.server = server;
    await listen(server, this.port, this.host);
    if (this.controlPort !== undefined) {
      this.control = new SimulatorControlServer(this, this.controlPort, this.host);
      await this.control.start();
    }
  }

  private async shutdown(): Promise<void> {
    this.rates.abortAll();
    if (!this.startPromise) {
      return;
    }
    await this.startPromise.catch(() => undefined);
    await this.control?.stop();
    await this.wss.close();
    if (this.server) {
      await closeServer(this.server);
    }
  }
}
