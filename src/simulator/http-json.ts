import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * JSON over node:http, shared by the simulator's REST API and its control server: the error that
 * answers a status, the body reader and writer, and starting and stopping a server.
 */

/** An error that maps to an HTTP status with a JSON body carrying its message. */
export class SimulatorHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Reads a JSON body with a size cap. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      throw new SimulatorHttpError(413, `body larger than ${limitBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    throw new SimulatorHttpError(400, 'body must be JSON');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SimulatorHttpError(400, 'body is not valid JSON');
  }
}

/** Resolves once `server` listens on `port` (0 = ephemeral) and `host`; rejects if it cannot. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops `server`, cutting the connections it still holds (keep-alive ones included). */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
