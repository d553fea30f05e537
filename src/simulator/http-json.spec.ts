import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { readJsonBody, SimulatorHttpError } from './http-json';

function request(...chunks: string[]): IncomingMessage {
  return Readable.from(chunks.map((chunk) => Buffer.from(chunk))) as unknown as IncomingMessage;
}

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (error) {
    return error instanceof SimulatorHttpError ? error.status : -1;
  }
  return undefined;
}

describe('readJsonBody', () => {
  it('parses a body that arrives in chunks', async () => {
    await expect(readJsonBody(request('{"a":', '[1,2]}'), 64)).resolves.toEqual({ a: [1, 2] });
  });

  it('answers 413 past the limit, 400 to an empty or invalid body', async () => {
    expect(await statusOf(readJsonBody(request('{"a":"', 'x'.repeat(60), '"}'), 64))).toBe(413);
    expect(await statusOf(readJsonBody(request('  '), 64))).toBe(400);
    expect(await statusOf(readJsonBody(request('{"a":'), 64))).toBe(400);
  });
});
