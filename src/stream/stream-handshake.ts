import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { bearerToken, digestKey, matchesAnyKey } from '../api/api-keys';
import { AppConfig } from '../config/app-config';
import { EventLog } from '../events/event-log';
import { MATCH_ALL } from '../subscriptions/subscription-matcher';
import { eventTypeProblems } from '../subscriptions/subscription-rules';

/** Who may stream: the admin key, or a read-only stream key. */
export type StreamPrincipal = 'admin' | 'stream';

/** What a stream client asked for, read from the upgrade request. */
export interface StreamRequest {
  /** Event-type patterns, the same syntax as subscriptions' eventTypes. */
  types: string[];
  /**
   * Resume after this event. `entryId` is its log entry, looked up at the upgrade when a key came
   * with it; a browser authenticating by message has it looked up then (see `resolveSince`).
   */
  since?: { eventId: string; entryId?: string };
  /** Set when the upgrade carried a valid `Authorization: Bearer` key. */
  principal?: StreamPrincipal;
}

/** A refused upgrade: the HTTP status and a message that says what is wrong. */
export interface HandshakeRefusal {
  status: 400 | 401 | 404 | 503;
  message: string;
}

const MAX_TYPES = 50;
const MAX_ID_LENGTH = 256;

/**
 * Checks a `GET /v1/stream` upgrade before it is accepted: the key if one was sent (a wrong one
 * is a 401 on the upgrade; none at all leaves the browser's first-message auth), the `types`
 * patterns, and the `since` event, which must still be in the log or the resume would have a
 * gap nobody is told about. The accepted request is kept for the gateway, by request object.
 */
@Injectable()
export class StreamHandshake {
  private readonly adminDigests: Buffer[];
  private readonly streamDigests: Buffer[];
  private readonly accepted = new WeakMap<IncomingMessage, StreamRequest>();

  constructor(
    config: AppConfig,
    private readonly log: EventLog,
  ) {
    this.adminDigests = config.adminApiKey ? [digestKey(config.adminApiKey)] : [];
    this.streamDigests = config.stream.apiKeys.map(digestKey);
  }

  /** The principal a key stands for, if any. */
  identify(key: string | undefined): StreamPrincipal | undefined {
    if (key === undefined || key === '') {
      return undefined;
    }
    // Both checked: no early exit that would tell, by timing, which kind of key almost matched.
    const admin = matchesAnyKey(key, this.adminDigests);
    const stream = matchesAnyKey(key, this.streamDigests);
    return admin ? 'admin' : stream ? 'stream' : undefined;
  }

  async verify(req: IncomingMessage): Promise<HandshakeRefusal | undefined> {
    let principal: StreamPrincipal | undefined;
    if (req.headers.authorization !== undefined) {
      principal = this.identify(bearerToken(req.headers.authorization));
      if (!principal) {
        return { status: 401, message: 'invalid stream key' };
      }
    }
    const url = new URL(req.url ?? '/', 'http://stream.invalid');
    const typesParam = url.searchParams.get('types');
    const types =
      typesParam === null
        ? [MATCH_ALL]
        : typesParam
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== '');
    if (types.length === 0 || types.length > MAX_TYPES) {
      return { status: 400, message: `types: give 1 to ${MAX_TYPES} comma-separated patterns` };
    }
    const problems = eventTypeProblems(types);
    if (problems.length > 0) {
      return {
        status: 400,
        message: `types: ${problems.map((p) => p.problems.join('; ')).join('; ')}`.slice(0, 500),
      };
    }
    const request: StreamRequest = { types, principal };
    const sinceParam = url.searchParams.get('since');
    if (sinceParam !== null) {
      if (sinceParam === '' || sinceParam.length > MAX_ID_LENGTH) {
        return { status: 400, message: `since: an event id of 1 to ${MAX_ID_LENGTH} characters` };
      }
      request.since = { eventId: sinceParam };
      // Without a key yet, whether an event exists is nobody's business.
      if (principal) {
        const refusal = await this.resolveSince(request);
        if (refusal) {
          return refusal;
        }
      }
    }
    this.accepted.set(req, request);
    return undefined;
  }

  /** Looks up the log entry of `since`; a refusal when that event is no longer retained. */
  async resolveSince(request: StreamRequest): Promise<HandshakeRefusal | undefined> {
    if (!request.since || request.since.entryId !== undefined) {
      return undefined;
    }
    const entryId = await this.log.entryIdOf(request.since.eventId);
    if (entryId === undefined) {
      return {
        status: 404,
        message: `since: event ${request.since.eventId} is not retained any more; connect without since`,
      };
    }
    request.since.entryId = entryId;
    return undefined;
  }

  /** What `verify` accepted for this upgrade request. */
  requestOf(req: IncomingMessage): StreamRequest | undefined {
    return this.accepted.get(req);
  }
}
