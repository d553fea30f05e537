import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { OpenAPIObject } from '@nestjs/swagger';
import ts from 'typescript';
import { generateOpenApiDocument } from '../../../scripts/openapi';

interface Operation {
  operationId?: string;
  summary?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: { type?: string } }[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

function operations(doc: OpenAPIObject): { key: string; op: Operation }[] {
  const out: { key: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
      out.push({ key: `${method.toUpperCase()} ${path}`, op });
    }
  }
  return out;
}

/**
 * A typed client over the generated `operations`, and one call to every operation. Each call uses
 * what the document promises (typed fields of the response, typed query parameters), and the
 * `@ts-expect-error` lines fail the compilation if the document stops refusing what the server
 * refuses (a string limit, a replay without `since`).
 */
const CLIENT = `import type { operations } from './schema';

type Id = keyof operations;
type Params<K extends Id> = operations[K]['parameters'];
type Body<K extends Id> = operations[K] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : operations[K] extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B | undefined
    : undefined;
type Success<R> = {
  [S in keyof R]: S extends 200 | 201 | 202 | 204
    ? R[S] extends { content: { 'application/json': infer T } }
      ? T
      : void
    : never;
}[keyof R];
type Result<K extends Id> = Success<operations[K]['responses']>;

declare function call<K extends Id>(id: K, params: Params<K>, body?: Body<K>): Promise<Result<K>>;

export const called = async (): Promise<unknown[]> => {
  const id = 'sub_8fJk2LmN0pQrStUvWxYz01Ab';
  const created = await call('createSubscription', {}, {
    url: 'https://example.com/hook',
    eventTypes: ['call.*'],
    headers: { 'X-Tenant': 'acme' },
    filter: { direction: 'inbound', tn: ['15550001111'] },
    ordering: 'per-key',
    rateLimitPerSecond: 5,
    maxInFlight: 2,
  });
  const secret: string = created.secret;
  const page = await call('listSubscriptions', { query: { limit: 10, cursor: 'abc' } });
  const next: string | null = page.nextCursor;
  const paused: string | undefined = page.data[0]?.pausedUntil;
  const one = await call('getSubscription', { path: { id } });
  const ordering: 'none' | 'per-key' = one.ordering;
  const rate: number | undefined = one.rateLimitPerSecond;
  const inFlight: number | undefined = one.maxInFlight;
  const updated = await call('updateSubscription', { path: { id } }, { enabled: false, maxInFlight: 3 });
  const enabled: boolean = updated.enabled;
  await call('deleteSubscription', { path: { id } });
  const rotated = await call('rotateSubscriptionSecret', { path: { id } });
  const expires: string = rotated.previousSecretExpiresAt;
  const current = await call('getSubscriptionSecret', { path: { id } });
  const test = await call('sendTestEvent', { path: { id } });
  const deliveryId: string = test.deliveryId;
  const replay = await call('replaySubscription', { path: { id } }, { since: '2026-11-28T00:00:00Z' });
  await call('replaySubscription', { path: { id } }, { since: '2026-11-28T00:00:00Z', scope: 'all' });
  await call('listDeliveries', {});
  await call('listSubscriptions', {});
  await call('listQuarantine', {});
  await call('createSubscription', {}, { url: 'https://example.com/hook', eventTypes: ['*'] });
  await call('updateSubscription', { path: { id } }, { description: null, filter: null, rateLimitPerSecond: null });
  const replayed: number = replay.replayed;
  const deliveries = await call('listDeliveries', {
    query: { status: 'dead', limit: 20, since: '2026-11-28T00:00:00Z', subscriptionId: id },
  });
  const attemptMs: number | undefined = deliveries.data[0]?.attempts?.[0]?.durationMs;
  const delivery = await call('getDelivery', { path: { id: deliveryId } });
  const attempts: number = delivery.attemptCount;
  const retried = await call('retryDelivery', { path: { id: deliveryId } });
  const event = await call('getEvent', { path: { id: 'e1' } });
  const type: string = event.type;
  const quarantine = await call('listQuarantine', { query: { offset: 0, limit: 50 } });
  const raw: string | undefined = quarantine.items[0]?.rawBase64;
  const status = await call('getStatus', {});
  const failing: number = status.subscriptions.failing;
  await call('openEventStream', { query: { types: 'call.*', since: 'e1' } });

  // @ts-expect-error limit is a number, not a string
  await call('listQuarantine', { query: { limit: '50' } });
  // @ts-expect-error offset is a number, not a string
  await call('listQuarantine', { query: { offset: '0' } });
  // @ts-expect-error limit is a number, not a string
  await call('listDeliveries', { query: { limit: '20' } });
  // @ts-expect-error a replay needs since
  await call('replaySubscription', { path: { id } }, { until: '2026-11-28T00:00:00Z' });
  // @ts-expect-error a subscription needs eventTypes
  await call('createSubscription', {}, { url: 'https://example.com/hook' });
  // @ts-expect-error ordering is one of none, per-key
  await call('updateSubscription', { path: { id } }, { ordering: 'fifo' });

  return [secret, next, paused, ordering, rate, inFlight, enabled, expires, current.secret,
    replayed, attemptMs, attempts, retried.status, type, raw, failing];
};
`;

describe('the OpenAPI document as a contract', () => {
  let doc: OpenAPIObject;

  beforeAll(async () => {
    doc = await generateOpenApiDocument();
  });

  it('gives every operation a summary, a readable operationId, a success and error schemas', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(16);
    for (const { key, op } of ops) {
      expect({ key, summary: typeof op.summary }).toEqual({ key, summary: 'string' });
      expect({ key, operationId: op.operationId }).toEqual({
        key,
        operationId: expect.stringMatching(/^[a-z][A-Za-z]+$/) as unknown,
      });
      const statuses = Object.keys(op.responses);
      expect({ key, has401: statuses.includes('401') }).toEqual({ key, has401: true });
      for (const status of statuses.filter((s) => /^[2]/.test(s) && s !== '204')) {
        expect({ key, status, schema: op.responses[status].content !== undefined }).toEqual({
          key,
          status,
          schema: true,
        });
      }
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        expect({ key, status, body: op.responses[status].content !== undefined }).toEqual({
          key,
          status,
          body: true,
        });
      }
    }
  });

  it('types paging parameters as integers, requires since for a replay, claims no JWT', () => {
    for (const { key, op } of operations(doc)) {
      for (const param of op.parameters ?? []) {
        if (param.name === 'limit' || param.name === 'offset') {
          expect({ key, name: param.name, type: param.schema?.type }).toEqual({
            key,
            name: param.name,
            type: 'integer',
          });
        }
      }
    }
    const schemas = doc.components?.schemas as Record<string, { required?: string[] }>;
    expect(schemas.ReplayRequestDto.required).toContain('since');
    const bearer = doc.components?.securitySchemes?.bearer as unknown as Record<string, unknown>;
    expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(bearer.bearerFormat).toBeUndefined();
  });

  it('documents the subscription delivery options and the status', () => {
    const schemas = doc.components?.schemas as Record<
      string,
      { properties?: Record<string, unknown> }
    >;
    for (const field of ['ordering', 'rateLimitPerSecond', 'maxInFlight', 'pausedUntil']) {
      expect(Object.keys(schemas.SubscriptionResponseDto.properties ?? {})).toContain(field);
    }
    for (const field of ['ordering', 'rateLimitPerSecond', 'maxInFlight']) {
      expect(Object.keys(schemas.CreateSubscriptionDto.properties ?? {})).toContain(field);
      expect(Object.keys(schemas.UpdateSubscriptionDto.properties ?? {})).toContain(field);
    }
    expect(doc.paths['/v1/status']?.get?.operationId).toBe('getStatus');
    expect(doc.paths['/v1/stream']?.get?.description).toMatch(/Authorization: Bearer/);
  });

  it('matches the wire types the console and the CLI compile against (npm run api:types)', async () => {
    // As its own process: the script formats with prettier, whose ES modules jest cannot load.
    const root = join(__dirname, '..', '..', '..');
    const check = promisify(execFile)(
      process.execPath,
      [require.resolve('ts-node/dist/bin'), '--transpile-only', 'scripts/api-types.ts', '--check'],
      { cwd: root },
    );
    await expect(check).resolves.toMatchObject({ stderr: '' });
  });

  it('generates a typed client that compiles a call to every operation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otb-openapi-client-'));
    try {
      // Its CLI, as a client's developer would run it, outside this repository (whose strict
      // redocly.yaml it would otherwise pick up); the package's CommonJS build needs an ES module.
      await writeFile(join(dir, 'openapi.json'), JSON.stringify(doc));
      await promisify(execFile)(
        process.execPath,
        [
          join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js'),
          'openapi.json',
          '--output',
          'schema.ts',
        ],
        { cwd: dir },
      );
      await writeFile(join(dir, 'client.ts'), CLIENT);

      const ids = operations(doc).map(({ op }) => op.operationId);
      const called = [...CLIENT.matchAll(/call\('([A-Za-z]+)'/g)].map((m) => m[1]);
      expect([...new Set(called)].sort()).toEqual([...ids].sort());

      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        lib: ['lib.es2022.d.ts'],
        types: [],
        skipLibCheck: true,
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
