import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { CALL_STATES, type CallState, isGeneration, isScenarioName } from './frame-factory';
import {
  closeServer,
  isRecord,
  listen,
  readJsonBody,
  sendJson,
  SimulatorHttpError,
} from './http-json';
import type { EmitAtRateOptions, EmitAtRateResult, RateKind } from './rate-generator';
import type { SimulatorControls } from './simulator-controls';

const MAX_CONTROL_BODY_BYTES = 16 * 1024 * 1024;
const RATE_KINDS: readonly RateKind[] = ['call', 'sms', 'mixed'];

function badRequest(message: string): SimulatorHttpError {
  return new SimulatorHttpError(400, message);
}

function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw badRequest(`${key} must be a non-negative number`);
  }
  return value;
}

/**
 * JSON-over-HTTP remote control for a running simulator, so the demo and out-of-process
 * benchmarks can inject frames and faults. Always bound to 127.0.0.1: it has no authentication.
 */
export class SimulatorControlServer {
  private server?: Server;
  private rateController?: AbortController;
  private lastRate?: EmitAtRateResult | { error: string };

  constructor(
    private readonly simulator: SimulatorControls,
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  get url(): string | undefined {
    const address = this.server?.address();
    if (!address || typeof address === 'string') {
      return undefined;
    }
    return `http://${this.host}:${address.port}/control`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (error instanceof SimulatorHttpError) {
          sendJson(res, error.status, { message: error.message });
          return;
        }
        sendJson(res, 500, { message: error instanceof Error ? error.message : 'internal error' });
      });
    });
    this.server = server;
    await listen(server, this.port, this.host);
  }

  async stop(): Promise<void> {
    this.rateController?.abort();
    const server = this.server;
    if (!server?.listening) {
      return;
    }
    await closeServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://control.invalid').pathname;
    const route = `${req.method ?? 'GET'} ${path}`;
    switch (route) {
      case 'GET /control/stats':
        sendJson(res, 200, {
          ...this.simulator.stats,
          sentCount: this.simulator.sentCount,
          rate: { running: this.rateController !== undefined, last: this.lastRate ?? null },
        });
        return;
      case 'POST /control/emit':
        sendJson(res, 200, this.emit(await this.body(req)));
        return;
      case 'POST /control/rate':
        this.startRate(await this.body(req));
        sendJson(res, 202, { started: true });
        return;
      case 'POST /control/rate/stop': {
        const running = this.rateController !== undefined;
        this.rateController?.abort();
        sendJson(res, 200, { stopped: running });
        return;
      }
      case 'POST /control/drop': {
        const dropped = this.simulator.stats.connections;
        this.simulator.dropAll();
        sendJson(res, 200, { dropped });
        return;
      }
      case 'POST /control/pongs': {
        const body = await this.body(req);
        if (typeof body.enabled !== 'boolean') {
          throw badRequest('enabled must be a boolean');
        }
        this.simulator.setPongs(body.enabled);
        sendJson(res, 200, { enabled: body.enabled });
        return;
      }
      case 'POST /control/auth': {
        const body = await this.body(req);
        if (body.mode !== 'accept' && body.mode !== 'refuse') {
          throw badRequest("mode must be 'accept' or 'refuse'");
        }
        this.simulator.setAuthMode(body.mode);
        sendJson(res, 200, { mode: body.mode });
        return;
      }
      case 'POST /control/subscriptions/filter': {
        const body = await this.body(req);
        if (typeof body.enabled !== 'boolean') {
          throw badRequest('enabled must be a boolean');
        }
        this.simulator.setSubscriptionFiltering(body.enabled);
        sendJson(res, 200, { enabled: body.enabled });
        return;
      }
      case 'POST /control/subscriptions/fault': {
        const body = await this.body(req);
        const status = body.status;
        if (
          status !== null &&
          (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599)
        ) {
          throw badRequest('status must be an HTTP error status (400-599) or null');
        }
        this.simulator.setSubscriptionFault(status ?? undefined);
        sendJson(res, 200, { status });
        return;
      }
      case 'POST /control/subscriptions/api': {
        const body = await this.body(req);
        const { refuseCreates, update, remove } = body;
        if (
          (refuseCreates !== undefined &&
            (typeof refuseCreates !== 'number' ||
              !Number.isInteger(refuseCreates) ||
              refuseCreates < 0)) ||
          (update !== undefined && typeof update !== 'boolean') ||
          (remove !== undefined && typeof remove !== 'boolean')
        ) {
          throw badRequest(
            'refuseCreates must be a non-negative integer; update and remove booleans',
          );
        }
        sendJson(res, 200, this.simulator.setSubscriptionApi({ refuseCreates, update, remove }));
        return;
      }
      case 'POST /control/subscriptions/expire': {
        const body = await this.body(req);
        const types = body.types;
        if (
          types !== undefined &&
          (!Array.isArray(types) || !types.every((t): t is string => typeof t === 'string'))
        ) {
          throw badRequest('types must be an array of strings');
        }
        sendJson(res, 200, { expired: this.simulator.expireSubscriptions(types) });
        return;
      }
      case 'POST /control/history/sms': {
        const count = (await this.body(req)).count ?? 1;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10_000) {
          throw badRequest('count must be an integer from 1 to 10000');
        }
        const uuids: string[] = [];
        for (let i = 0; i < count; i++) {
          uuids.push(String(this.simulator.recordInboundSms().uuid));
        }
        sendJson(res, 200, { created: count, uuids });
        return;
      }
      case 'POST /control/history/call': {
        const body = await this.body(req);
        if (!isCallState(body.state)) {
          throw badRequest(`state must be one of ${CALL_STATES.join(', ')}`);
        }
        if (body.callId !== undefined && typeof body.callId !== 'string') {
          throw badRequest('callId must be a string');
        }
        try {
          sendJson(res, 200, { callId: this.simulator.recordCallState(body.state, body.callId) });
        } catch (error) {
          throw badRequest(error instanceof Error ? error.message : String(error));
        }
        return;
      }
      case 'POST /control/refuse': {
        const seconds = (await this.body(req)).seconds;
        if (typeof seconds !== 'number' || !(seconds >= 0) || seconds > 3_600) {
          throw badRequest('seconds must be a number from 0 to 3600');
        }
        this.simulator.refuseConnections(seconds * 1000);
        sendJson(res, 200, { refusedForSeconds: seconds });
        return;
      }
      case 'POST /control/search/fault': {
        const body = await this.body(req);
        try {
          this.simulator.setSearchFault(body.status as number, body.count as number);
        } catch (error) {
          throw badRequest(error instanceof Error ? error.message : String(error));
        }
        sendJson(res, 200, { status: body.status, count: body.count });
        return;
      }
      default:
        throw new SimulatorHttpError(404, `no route ${route}`);
    }
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const body = await readJsonBody(req, MAX_CONTROL_BODY_BYTES);
    if (!isRecord(body)) {
      throw badRequest('body must be a JSON object');
    }
    return body;
  }

  private emit(body: Record<string, unknown>): { sent: number; frames: number } {
    if (body.frame !== undefined) {
      if (!isRecord(body.frame)) {
        throw badRequest('frame must be a JSON object');
      }
      return { sent: this.simulator.emit(body.frame), frames: 1 };
    }
    if (body.frames !== undefined) {
      const frames = body.frames;
      if (!Array.isArray(frames) || !frames.every(isRecord)) {
        throw badRequest('frames must be an array of JSON objects');
      }
      const sent = frames.reduce<number>((sum, frame) => sum + this.simulator.emit(frame), 0);
      return { sent, frames: frames.length };
    }
    if (body.raw !== undefined) {
      if (typeof body.raw !== 'string') {
        throw badRequest('raw must be a string');
      }
      return { sent: this.simulator.emit(body.raw, { binary: body.binary === true }), frames: 1 };
    }
    if (body.scenario !== undefined) {
      if (!isScenarioName(body.scenario)) {
        throw badRequest('unknown scenario');
      }
      if (body.generation !== undefined && !isGeneration(body.generation)) {
        throw badRequest("generation must be 'newer' or 'older'");
      }
      const before = this.simulator.stats.framesSent;
      const frames = this.simulator.emitScenario(body.scenario, body.generation ?? 'newer');
      return { sent: this.simulator.stats.framesSent - before, frames: frames.length };
    }
    throw badRequest('expected one of frame, frames, raw or scenario');
  }

  private startRate(body: Record<string, unknown>): void {
    if (this.rateController) {
      throw new SimulatorHttpError(409, 'a rate run is already in progress');
    }
    const ratePerSecond = optionalNumber(body, 'ratePerSecond');
    if (ratePerSecond === undefined || ratePerSecond <= 0) {
      throw badRequest('ratePerSecond must be a positive number');
    }
    const options: EmitAtRateOptions = {
      ratePerSecond,
      count: optionalNumber(body, 'count'),
      durationMs: optionalNumber(body, 'durationMs'),
      payloadBytes: optionalNumber(body, 'payloadBytes'),
    };
    if (options.count === undefined && options.durationMs === undefined) {
      throw badRequest('count or durationMs is required');
    }
    if (body.kind !== undefined) {
      if (!RATE_KINDS.includes(body.kind as RateKind)) {
        throw badRequest("kind must be 'call', 'sms' or 'mixed'");
      }
      options.kind = body.kind as RateKind;
    }
    if (body.generation !== undefined) {
      if (!isGeneration(body.generation)) {
        throw badRequest("generation must be 'newer' or 'older'");
      }
      options.generation = body.generation;
    }
    const controller = new AbortController();
    this.rateController = controller;
    this.simulator
      .emitAtRate({ ...options, signal: controller.signal })
      .then(
        (result) => {
          this.lastRate = result;
        },
        (error: unknown) => {
          this.lastRate = { error: error instanceof Error ? error.message : String(error) };
        },
      )
      .finally(() => {
        if (this.rateController === controller) {
          this.rateController = undefined;
        }
      });
  }
}

function isCallState(value: unknown): value is CallState {
  return typeof value === 'string' && (CALL_STATES as readonly string[]).includes(value);
}
