import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller's id is kept only if it cannot forge log structure or grow without bound. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Paths probed every few seconds: a line each would drown the rest. */
const QUIET = /^\/(health|metrics)(\/|$)/;

export interface IdentifiedRequest extends IncomingMessage {
  id?: string;
  originalUrl?: string;
  /** Express's client address: the TCP peer, or the client a TRUST_PROXY proxy names. */
  ip?: string;
}

/** The request's id: the caller's X-Request-Id when acceptable, otherwise a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
}

/**
 * One log line per admin API request (method, path without the query, status, duration, client
 * address, request id), and the id echoed as X-Request-Id so a caller can quote it. Query strings
 * and headers are left out: they are the caller's, and may hold keys.
 */
export function requestLogMiddleware(
  logger: Logger,
): (request: IdentifiedRequest, response: ServerResponse, next: () => void) => void {
  const log = logger.child({ component: 'http' });
  return (request, response, next) => {
    const id = requestIdOf(request);
    request.id = id;
    response.setHeader('X-Request-Id', id);
    const path = (request.originalUrl ?? request.url ?? '').split('?')[0];
    if (QUIET.test(path)) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const fields = {
        requestId: id,
        method: request.method,
        path: path.slice(0, 512),
        status: response.statusCode,
        durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        address: request.ip ?? request.socket.remoteAddress,
      };
      if (response.statusCode >= 500) {
        log.error(fields, 'request');
      } else {
        log.info(fields, 'request');
      }
    });
    next();
  };
}
