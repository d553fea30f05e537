import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pino from 'pino';
import { setupOpenApi } from '../../../src/api/openapi';
import { createValidationPipe } from '../../../src/api/validation';
import { ConfigModule } from '../../../src/config/config.module';
import { EventType, type NormalizedEventType } from '../../../src/events/event-type.enum';
import type { EventData } from '../../../src/events/normalized-event';
import { LoggingModule } from '../../../src/logging/logging.module';
import { RedisModule } from '../../../src/redis/redis.module';
import { generateSecret } from '../../../src/webhook-security/webhook-signer';
import { SubscriptionRegistry } from '../../../src/subscriptions/subscription-registry.service';
import { activeSecrets } from '../../../src/subscriptions/subscription-secrets';
import { SubscriptionsApiModule } from '../../../src/subscriptions/subscriptions.module';
import { SubscriptionsRepository } from '../../../src/subscriptions/subscriptions.repository';
import { ADMIN_KEY, deleteKeys, eventually, testConfig, testPrefix } from './helpers';

interface Booted {
  app: INestApplication;
  base: string;
}

async function boot(prefix: string, env: Record<string, string> = {}): Promise<Booted> {
  const config = testConfig(prefix, env);
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      LoggingModule.forRoot(pino({ level: 'silent' })),
      RedisModule,
      SubscriptionsApiModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app, '0.0.0');
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    // A refused start-up has already opened Redis connections; close them as main.ts's exit would.
    await app.close();
    throw error;
  }
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}` };
}

interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = ADMIN_KEY,
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (key !== null) {
    headers.authorization = `Bearer ${key}`;
  }
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
}

interface ErrorBody {
  statusCode: number;
  message: string;
  errors: { field: string; problems: string[] }[];
}

interface SubBody {
  id: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  source: string;
  secret?: string;
  secretPreview: string;
  previousSecrets: { secretPreview: string; expiresAt: string }[];
  description?: string;
  createdAt: string;
  disabledReason?: string;
}

const validBody = { url: 'http://127.0.0.1:9/hook', eventTypes: ['call.*', 'sms.inbound'] };

describe('subscriptions admin API (real Redis, real HTTP)', () => {
  const prefix = testPrefix();
  let a: Booted;

  beforeAll(async () => {
    a = await boot(prefix);
  });

  afterAll(async () => {
    await a?.app.close();
    await deleteKeys(prefix);
  });

  describe('authentication', () => {
    it.each<[string, string | null]>([
      ['no key', null],
      ['a wrong key', 'x'.repeat(40)],
    ])('401 with %s', async (_name, key) => {
      const res = await call<ErrorBody>(a.base, 'GET', '/v1/subscriptions', undefined, key);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.headers.get('content-type')).toMatch(/json/);
      expect(res.body.message).toMatch(/admin API key/);
      expect(JSON.stringify(res.body)).not.toContain(ADMIN_KEY);
    });
  });

  describe('validation', () => {
    it.each<[string, Record<string, unknown>, string[]]>([
      ['missing url', { eventTypes: ['*'] }, ['url']],
      ['ftp url', { url: 'ftp://example.com/x', eventTypes: ['*'] }, ['url']],
      ['metadata address', { url: 'http://169.254.169.254/', eventTypes: ['*'] }, ['url']],
      [
        'bad event type',
        { ...validBody, eventTypes: ['call.*', 'call.ringin'] },
        ['eventTypes[1]'],
      ],
      ['empty event types', { ...validBody, eventTypes: [] }, ['eventTypes']],
      ['reserved header', { ...validBody, headers: { 'webhook-id': 'x' } }, ['headers.webhook-id']],
      ['string for enabled', { ...validBody, enabled: 'false' }, ['enabled']],
      ['unknown field', { ...validBody, eventType: 'x' }, ['eventType']],
      [
        'bad filter',
        { ...validBody, filter: { direction: 1, region: 'x' } },
        ['filter.direction', 'filter.region'],
      ],
      ['bad secret', { ...validBody, secret: 'whsec_nope' }, ['secret']],
      [
        'several fields',
        { url: 'ftp://x', eventTypes: 'call.*', description: 'd'.repeat(501) },
        ['url', 'eventTypes', 'description'],
      ],
    ])('400 for %s, naming the fields', async (_name, body, fields) => {
      const res = await call<ErrorBody>(a.base, 'POST', '/v1/subscriptions', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        message: 'validation failed',
      });
      expect(res.body.errors.map((e) => e.field).sort()).toEqual([...fields].sort());
      expect(res.body.errors.every((e) => e.problems.length > 0)).toBe(true);
    });

    it('names the SSRF reason', async () => {
      const res = await call<ErrorBody>(a.base, 'POST', '/v1/subscriptions', {
        url: 'http://169.254.169.254/latest/meta-data',
        eventTypes: ['*'],
      });
      expect(res.body.errors[0].problems[0]).toMatch(/169\.254\.0\.0\/16/);
    });
  });

  describe('lifecycle', () => {
    let created: SubBody;

    it('POST creates and returns the secret once', async () => {
      const res = await call<SubBody>(a.base, 'POST', '/v1/subscriptions', {
        ...validBody,
        description: 'calls',
        headers: { 'X-Tenant': 'acme' },
        filter: { direction: 'inbound' },
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      created = res.body;
      expect(created.id).toMatch(/^sub_[A-Za-z0-9_-]{24}$/);
      expect(created.secret).toMatch(/^whsec_/);
      expect(created.secretPreview).toBe(`${created.secret!.slice(0, 9)}…`);
      expect(created).toMatchObject({ enabled: true, source: 'api', description: 'calls' });
    });

    it('GET returns it without the secret', async () => {
      const res = await call<SubBody>(a.base, 'GET', `/v1/subscriptions/${created.id}`);
      expect(res.status).toBe(200);
      expect(res.body.secret).toBeUndefined();
      expect(JSON.stringify(res.body)).not.toContain(created.secret!);
      expect(res.body).toMatchObject({
        id: created.id,
        url: validBody.url,
        secretPreview: created.secretPreview,
      });
    });

    it('GET /:id/secret returns the current secret', async () => {
      const res = await call<{ secret: string }>(
        a.base,
        'GET',
        `/v1/subscriptions/${created.id}/secret`,
      );
      expect(res.body).toEqual({ secret: created.secret });
    });

    it('PATCH changes only the given fields', async () => {
      const res = await call<SubBody>(a.base, 'PATCH', `/v1/subscriptions/${created.id}`, {
        eventTypes: ['sms.*'],
        description: null,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ eventTypes: ['sms.*'], url: validBody.url });
      expect(res.body.description).toBeUndefined();
      const bad = await call<ErrorBody>(a.base, 'PATCH', `/v1/subscriptions/${created.id}`, {
        url: 'http://10.0.0.1/',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].field).toBe('url');
    });

    it('rotate-secret: both secrets sign, the old one expires after the overlap', async () => {
      const before = Date.now();
      const res = await call<{ secret: string; previousSecretExpiresAt: string }>(
        a.base,
        'POST',
        `/v1/subscriptions/${created.id}/rotate-secret`,
      );
      expect(res.status).toBe(200);
      expect(res.body.secret).toMatch(/^whsec_/);
      expect(res.body.secret).not.toBe(created.secret);
      const expires = Date.parse(res.body.previousSecretExpiresAt);
      expect(expires).toBeGreaterThanOrEqual(before + 24 * 3_600_000 - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000 + 1000);

      const shown = await call<SubBody>(a.base, 'GET', `/v1/subscriptions/${created.id}`);
      expect(shown.body.previousSecrets).toEqual([
        expect.objectContaining({
          secretPreview: created.secretPreview,
          expiresAt: res.body.previousSecretExpiresAt,
        }),
      ]);

      const stored = await a.app.get(SubscriptionsRepository).get(created.id);
      const active = activeSecrets(stored!, Date.now());
      expect(active).toEqual([res.body.secret, created.secret]);
      const current = await call<{ secret: string }>(
        a.base,
        'GET',
        `/v1/subscriptions/${created.id}/secret`,
      );
      expect(current.body.secret).toBe(res.body.secret);
    });

    it('DELETE answers 204, then the id is 404', async () => {
      const del = await call(a.base, 'DELETE', `/v1/subscriptions/${created.id}`);
      expect(del.status).toBe(204);
      for (const [method, path] of [
        ['GET', ''],
        ['DELETE', ''],
        ['PATCH', ''],
        ['POST', '/rotate-secret'],
        ['GET', '/secret'],
      ] as const) {
        const res = await call<ErrorBody>(
          a.base,
          method,
          `/v1/subscriptions/${created.id}${path}`,
          method === 'PATCH' ? {} : undefined,
        );
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({
          statusCode: 404,
          message: `subscription ${created.id} not found`,
        });
      }
    });
  });

  describe('pagination', () => {
    it('walks every subscription once, oldest first', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await call<SubBody>(a.base, 'POST', '/v1/subscriptions', {
          ...validBody,
          description: `p${i}`,
        });
        ids.push(res.body.id);
      }
      const seen: SubBody[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : '?limit=3';
        const res: Reply<{ data: SubBody[]; nextCursor: string | null }> = await call(
          a.base,
          'GET',
          `/v1/subscriptions${query}`,
        );
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(3);
        res.body.data.forEach((s) => expect(s.secret).toBeUndefined());
        seen.push(...res.body.data);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      const mine = seen.filter((s) => ids.includes(s.id)).map((s) => s.id);
      expect(mine).toEqual(ids);
      expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
      const order = seen.map((s) => `${s.createdAt}|${s.id}`);
      expect(order).toEqual([...order].sort());
    });

    it.each(['?limit=0', '?limit=101', '?limit=abc', '?cursor=nope'])(
      '400 for %s',
      async (query) => {
        const res = await call<ErrorBody>(a.base, 'GET', `/v1/subscriptions${query}`);
        expect(res.status).toBe(400);
        expect(res.body.errors[0].field).toBe(query.startsWith('?limit') ? 'limit' : 'cursor');
      },
    );
  });

  it('/docs-json lists the routes and the bearer scheme', async () => {
    const res = await call<{
      paths: Record<string, Record<string, unknown>>;
      components: { securitySchemes: Record<string, { scheme: string }> };
    }>(a.base, 'GET', '/docs-json', undefined, null);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/subscriptions',
        '/v1/subscriptions/{id}',
        '/v1/subscriptions/{id}/rotate-secret',
        '/v1/subscriptions/{id}/secret',
      ]),
    );
    expect(Object.keys(res.body.paths['/v1/subscriptions']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(res.body.paths['/v1/subscriptions/{id}']).sort()).toEqual([
      'delete',
      'get',
      'patch',
    ]);
    expect(Object.values(res.body.components.securitySchemes)[0].scheme).toBe('bearer');
  });

  describe('another process', () => {
    let b: Booted;

    beforeAll(async () => {
      b = await boot(prefix, { DELIVERY_ALLOW_CIDRS: '' });
    });

    afterAll(async () => {
      await b?.app.close();
    });

    it('refuses a mapped loopback URL when loopback is not allowed', async () => {
      const res = await call<ErrorBody>(b.base, 'POST', '/v1/subscriptions', {
        url: 'http://[::ffff:127.0.0.1]/',
        eventTypes: ['*'],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e) => e.field)).toEqual(['url']);
      expect(res.body.errors[0].problems[0]).toMatch(/loopback/);
    });

    it("sees a subscription created through the other's API within 1 s, and drops it once disabled", async () => {
      const registry = b.app.get(SubscriptionRegistry);
      const event = {
        type: EventType.TnOrderChanged as NormalizedEventType,
        data: { orderId: 'o1' } as EventData,
      };
      expect(registry.matching(event)).toEqual([]);

      const created = await call<SubBody>(a.base, 'POST', '/v1/subscriptions', {
        ...validBody,
        eventTypes: ['tn.*'],
      });
      const seen = await eventually(
        () => registry.matching(event).find((s) => s.id === created.body.id),
        1000,
      );
      expect(seen.value.subscription.url).toBe(validBody.url);

      await call(a.base, 'PATCH', `/v1/subscriptions/${created.body.id}`, { enabled: false });
      await eventually(
        () => (registry.matching(event).some((s) => s.id === created.body.id) ? undefined : true),
        1000,
      );
      expect((await registry.getEnabled()).some((s) => s.id === created.body.id)).toBe(false);
      await call(a.base, 'DELETE', `/v1/subscriptions/${created.body.id}`);
    });
  });
});

describe('SUBSCRIPTIONS_FILE', () => {
  const prefix = testPrefix();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otb-subs-file-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await deleteKeys(prefix);
  });

  const yaml = (eventTypes: string, extra = ''): string => `
subscriptions:
  - id: billing
    url: http://127.0.0.1:9/billing
    eventTypes: [${eventTypes}]
    description: declared
${extra}`;

  it('upserts at start-up: creates, then updates and keeps the secret', async () => {
    const path = join(dir, 'subs.yaml');
    await writeFile(path, yaml('account.*'));
    const first = await boot(prefix, { SUBSCRIPTIONS_FILE: path });
    let secret: string;
    try {
      const got = await call<SubBody>(first.base, 'GET', '/v1/subscriptions/billing');
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: 'billing', source: 'file', eventTypes: ['account.*'] });
      secret = (
        await call<{ secret: string }>(first.base, 'GET', '/v1/subscriptions/billing/secret')
      ).body.secret;
      expect(secret).toMatch(/^whsec_/);
    } finally {
      await first.app.close();
    }

    await writeFile(path, yaml('account.*, tn.*'));
    const second = await boot(prefix, { SUBSCRIPTIONS_FILE: path });
    try {
      const got = await call<SubBody>(second.base, 'GET', '/v1/subscriptions/billing');
      expect(got.body).toMatchObject({ source: 'file', eventTypes: ['account.*', 'tn.*'] });
      const now = await call<{ secret: string }>(
        second.base,
        'GET',
        '/v1/subscriptions/billing/secret',
      );
      expect(now.body.secret).toBe(secret);
    } finally {
      await second.app.close();
    }

    const given = generateSecret();
    await writeFile(path, yaml('account.*, tn.*', `    secret: ${given}\n`));
    const third = await boot(prefix, { SUBSCRIPTIONS_FILE: path });
    try {
      const now = await call<{ secret: string }>(
        third.base,
        'GET',
        '/v1/subscriptions/billing/secret',
      );
      expect(now.body.secret).toBe(given);
    } finally {
      await third.app.close();
    }
  });

  it('stops start-up on an invalid file, naming the entry and field, without writing', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(
      path,
      JSON.stringify({
        subscriptions: [
          { id: 'fine', url: 'http://127.0.0.1:9/a', eventTypes: ['*'] },
          { id: 'meta', url: 'http://169.254.169.254/', eventTypes: ['call.*', 'nope'] },
        ],
      }),
    );
    await expect(boot(prefix, { SUBSCRIPTIONS_FILE: path })).rejects.toThrow(
      /subscriptions\[1\] \(id "meta"\): url: .*169\.254[\s\S]*subscriptions\[1\] \(id "meta"\): eventTypes\[1\]/,
    );
    const check = await boot(prefix);
    try {
      expect((await call(check.base, 'GET', '/v1/subscriptions/fine')).status).toBe(404);
    } finally {
      await check.app.close();
    }
  });
});
