import type { IncomingMessage, ServerResponse } from 'node:http';

/** JSON over node:http, shared by the simulator's REST API and its control server. */

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
