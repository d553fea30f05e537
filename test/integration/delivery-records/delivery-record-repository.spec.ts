import type { Redis } from 'ioredis';
import type { AppConfig } from '../../../src/config/app-config';
import {
  type DeliveryIdentity,
  DeliveryRecordRepository,
  EARLIER_ATTEMPT_BODY_CHARS,
  InvalidDeliveryCursorError,
} from '../../../src/delivery/delivery-record.repository';
import { type DeliveryAttempt, DeliveryStatus } from '../../../src/delivery/delivery.model';
import { deletePrefix, testRedis, uniquePrefix } from '../../support/harness';

const TTL_SECONDS = 3600;
const T0 = Date.parse('2026-11-28T09:00:00.000Z');

function repository(
  redis: Redis,
  prefix: string,
  caps: { maxCount?: number; maxAttemptRecords?: number } = {},
): DeliveryRecordRepository {
  const config = {
    redis: { prefix },
    eventRetentionSeconds: TTL_SECONDS,
    eventRetentionMaxCount: caps.maxCount ?? 10_000,
    delivery: { maxAttemptRecords: caps.maxAttemptRecords ?? 10 },
  } as AppConfig;
  return new DeliveryRecordRepository(redis, config);
}

function identity(id: string, over: Partial<DeliveryIdentity> = {}): DeliveryIdentity {
  return {
    deliveryId: id,
    eventId: `evt_${id}`,
    eventType: 'call.live',
    subscriptionId: 'sub_1',
    createdAtMs: T0,
    ...over,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const cursorOf = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('DeliveryRecordRepository against Redis', () => {
  let redis: Redis;
  let prefix: string;
  let repo: DeliveryRecordRepository;

  beforeAll(() => {
    redis = testRedis();
  });

  afterAll(() => {
    redis.disconnect();
  });

  beforeEach(() => {
    prefix = uniquePrefix('delivery-records');
    repo = repository(redis, prefix);
  });

  afterEach(async () => {
    await deletePrefix(prefix);
  });

  describe('createPending', () => {
    it('creates a pending record, indexed globally and per subscription, with the retention TTL', async () => {
      await expect(repo.createPending(identity('d1'))).resolves.toBe('created');
      await expect(repo.get('d1')).resolves.toEqual({
        id: 'd1',
        eventId: 'evt_d1',
        eventType: 'call.live',
        subscriptionId: 'sub_1',
        status: DeliveryStatus.Pending,
        createdAt: iso(T0),
        updatedAt: iso(T0),
        attemptCount: 0,
        attempts: [],
      });
      expect(await redis.zscore(`${prefix}:deliveries`, 'd1')).toBe(String(T0));
      expect(await redis.zscore(`${prefix}:subscription:sub_1:deliveries`, 'd1')).toBe(String(T0));
      const ttl = await redis.ttl(`${prefix}:delivery:d1`);
      expect(ttl).toBeGreaterThan(TTL_SECONDS - 5);
      expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);
    });

    it('answers the status of a record that already exists, and changes nothing', async () => {
      await repo.createPending(identity('d1'));
      await repo.setStatus('d1', DeliveryStatus.Skipped, T0 + 5);
      await expect(repo.createPending(identity('d1', { createdAtMs: T0 + 10 }))).resolves.toBe(
        DeliveryStatus.Skipped,
      );
      expect((await repo.get('d1'))?.createdAt).toBe(iso(T0));
    });
  });

  describe('index trimming', () => {
    it('trims the indexes by age on the first write, and refreshes their TTL', async () => {
      const index = `${prefix}:deliveries`;
      // Older than the retention window: dropped.
      await redis.zadd(index, T0 - TTL_SECONDS * 1000 - 1, 'too-old');
      // Exactly at the edge of the window: kept.
      await redis.zadd(index, T0 - TTL_SECONDS * 1000, 'edge');
      await redis.zadd(index, T0 - 1000, 'newer');
      await repo.createPending(identity('d1'));
      expect(await redis.zrange(index, 0, -1)).toEqual(['edge', 'newer', 'd1']);
      expect(await redis.ttl(index)).toBeGreaterThan(TTL_SECONDS - 5);
      expect(await redis.ttl(`${prefix}:subscription:sub_1:deliveries`)).toBeGreaterThan(
        TTL_SECONDS - 5,
      );
    });

    it('keeps the newest entries up to the count cap', async () => {
      const small = repository(redis, prefix, { maxCount: 2 });
      const index = `${prefix}:subscription:sub_1:deliveries`;
      await redis.zadd(index, T0 - 2000, 'older', T0 - 1000, 'newer');
      await small.recordAttempt(
        identity('d1'),
        { attempt: 1, at: iso(T0), durationMs: 5 },
        { status: DeliveryStatus.Succeeded },
      );
      expect(await redis.zrange(index, 0, -1)).toEqual(['newer', 'd1']);
      expect(await redis.ttl(index)).toBeGreaterThan(TTL_SECONDS - 5);
    });

    it('does not trim on the writes that follow', async () => {
      const small = repository(redis, prefix, { maxCount: 1 });
      const index = `${prefix}:deliveries`;
      await small.createPending(identity('d1'));
      await redis.persist(index);
      await small.createPending(identity('d2', { createdAtMs: T0 + 1 }));
      await small.recordAttempt(
        identity('d3', { createdAtMs: T0 + 2 }),
        { attempt: 1, at: iso(T0 + 2), durationMs: 5 },
        { status: DeliveryStatus.Succeeded },
      );
      expect(await redis.zrange(index, 0, -1)).toEqual(['d1', 'd2', 'd3']);
      expect(await redis.ttl(index)).toBe(-1);
    });

    it('trims again once every 256 writes', async () => {
      const small = repository(redis, prefix, { maxCount: 2 });
      const index = `${prefix}:deliveries`;
      for (let i = 0; i < 256; i++) {
        await small.createPending(identity(`d${i}`, { createdAtMs: T0 + i }));
      }
      expect(await redis.zcard(index)).toBe(256);
      await small.createPending(identity('d256', { createdAtMs: T0 + 256 }));
      expect(await redis.zrange(index, 0, -1)).toEqual(['d255', 'd256']);
    });
  });

  describe('recordAttempt', () => {
    it('creates the record on the first attempt and keeps its state and the attempt', async () => {
      const first: DeliveryAttempt = {
        attempt: 1,
        at: iso(T0 + 100),
        durationMs: 84,
        statusCode: 503,
        error: 'HTTP 503',
        responseBody: 'busy',
        responseTruncated: true,
      };
      await expect(
        repo.recordAttempt(identity('d1'), first, {
          status: DeliveryStatus.Failing,
          nextAttemptAtMs: T0 + 60_000,
        }),
      ).resolves.toBe(1);
      await expect(repo.get('d1')).resolves.toEqual({
        id: 'd1',
        eventId: 'evt_d1',
        eventType: 'call.live',
        subscriptionId: 'sub_1',
        status: DeliveryStatus.Failing,
        createdAt: iso(T0),
        updatedAt: iso(T0 + 100),
        attemptCount: 1,
        lastStatusCode: 503,
        lastError: 'HTTP 503',
        nextAttemptAt: iso(T0 + 60_000),
        attempts: [{ ...first, nextAttemptAt: iso(T0 + 60_000) }],
      });
      expect(await redis.zscore(`${prefix}:deliveries`, 'd1')).toBe(String(T0));
      expect(await redis.ttl(`${prefix}:delivery:d1`)).toBeGreaterThan(TTL_SECONDS - 5);
    });

    it('counts every attempt and clears what the last attempt no longer has', async () => {
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 1, at: iso(T0 + 100), durationMs: 10, statusCode: 500, error: 'HTTP 500' },
        { status: DeliveryStatus.Failing, nextAttemptAtMs: T0 + 1000 },
      );
      await expect(
        repo.recordAttempt(
          identity('d1'),
          { attempt: 2, at: iso(T0 + 1000), durationMs: 12, statusCode: 200 },
          { status: DeliveryStatus.Succeeded },
        ),
      ).resolves.toBe(2);
      const record = await repo.get('d1');
      expect(record).toMatchObject({
        status: DeliveryStatus.Succeeded,
        attemptCount: 2,
        lastStatusCode: 200,
        updatedAt: iso(T0 + 1000),
      });
      expect(record?.lastError).toBeUndefined();
      expect(record?.nextAttemptAt).toBeUndefined();
      expect(record?.attempts).toEqual([
        {
          attempt: 1,
          at: iso(T0 + 100),
          durationMs: 10,
          statusCode: 500,
          error: 'HTTP 500',
          nextAttemptAt: iso(T0 + 1000),
        },
        { attempt: 2, at: iso(T0 + 1000), durationMs: 12, statusCode: 200 },
      ]);
    });

    it('stores an attempt compactly, leaving out the trailing empty fields', async () => {
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 1, at: iso(T0), durationMs: 0, statusCode: 200 },
        { status: DeliveryStatus.Succeeded },
      );
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 2, at: iso(T0 + 1), durationMs: 0, error: 'connect ECONNREFUSED' },
        { status: DeliveryStatus.Dead },
      );
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 3, at: iso(T0 + 2), durationMs: 0, responseTruncated: false },
        { status: DeliveryStatus.Dead },
      );
      const hash = await redis.hgetall(`${prefix}:delivery:d1`);
      expect(hash.a1).toBe(JSON.stringify([1, T0, 0, 200]));
      expect(hash.a2).toBe(JSON.stringify([2, T0 + 1, 0, null, 'connect ECONNREFUSED']));
      expect(hash.a3).toBe(JSON.stringify([3, T0 + 2, 0]));
      const record = await repo.get('d1');
      expect(record?.lastStatusCode).toBeUndefined();
      expect(record?.attempts?.[1]).toEqual({
        attempt: 2,
        at: iso(T0 + 1),
        durationMs: 0,
        error: 'connect ECONNREFUSED',
      });
      expect(record?.attempts?.[2]).toEqual({ attempt: 3, at: iso(T0 + 2), durationMs: 0 });
    });

    it('keeps only the newest attempts beyond the configured number, in attempt order', async () => {
      const few = repository(redis, prefix, { maxAttemptRecords: 3 });
      for (let n = 1; n <= 11; n++) {
        await few.recordAttempt(
          identity('d1'),
          { attempt: n, at: iso(T0 + n), durationMs: n },
          { status: DeliveryStatus.Failing },
        );
      }
      const record = await few.get('d1');
      expect(record?.attemptCount).toBe(11);
      expect(record?.attempts?.map((a) => a.attempt)).toEqual([9, 10, 11]);
    });
  });

  describe('what failed attempts store', () => {
    /** A 16 KiB (capped) error page: what each failed attempt of a 200 KB answer brought back. */
    const page = (n: number) => `<html>attempt ${n} `.padEnd(16_384, 'x');

    it('keeps the whole body of the latest attempt only, an excerpt of the earlier ones', async () => {
      for (let n = 1; n <= 3; n++) {
        await repo.recordAttempt(
          identity('d1'),
          {
            attempt: n,
            at: iso(T0 + n),
            durationMs: 5,
            statusCode: 500,
            error: 'HTTP 500',
            responseBody: page(n),
            responseTruncated: true,
          },
          { status: DeliveryStatus.Failing, nextAttemptAtMs: T0 + 1000 * n },
        );
      }
      const record = await repo.get('d1');
      const attempts = record!.attempts!;
      expect(attempts.map((a) => a.responseBody?.length)).toEqual([
        EARLIER_ATTEMPT_BODY_CHARS,
        EARLIER_ATTEMPT_BODY_CHARS,
        16_384,
      ]);
      expect(attempts[0].responseBody).toBe(page(1).slice(0, EARLIER_ATTEMPT_BODY_CHARS));
      expect(attempts[2].responseBody).toBe(page(3));
      expect(attempts.every((a) => a.responseTruncated === true)).toBe(true);
      // Three attempts of a 16 KiB answer take one body and two excerpts, not three bodies.
      const stored = Object.values(await redis.hgetall(`${prefix}:delivery:d1`)).join('').length;
      expect(stored).toBeLessThan(16_384 + 3 * EARLIER_ATTEMPT_BODY_CHARS + 1_000);
    });

    it('says a short body was not cut, and keeps it whole in every attempt', async () => {
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 1, at: iso(T0), durationMs: 1, statusCode: 503, responseBody: 'busy' },
        { status: DeliveryStatus.Failing, nextAttemptAtMs: T0 + 1000 },
      );
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 2, at: iso(T0 + 1), durationMs: 1, statusCode: 200, responseBody: 'ok' },
        { status: DeliveryStatus.Succeeded },
      );
      const attempts = (await repo.get('d1'))!.attempts!;
      expect(attempts.map((a) => [a.responseBody, a.responseTruncated])).toEqual([
        ['busy', undefined],
        ['ok', undefined],
      ]);
      // A long body that was not cut at the cap reads back as not truncated.
      await repo.recordAttempt(
        identity('d2'),
        { attempt: 1, at: iso(T0), durationMs: 1, statusCode: 500, responseBody: 'y'.repeat(1000) },
        { status: DeliveryStatus.Failing },
      );
      const [only] = (await repo.get('d2'))!.attempts!;
      expect(only.responseBody).toBe('y'.repeat(1000));
      expect(only.responseTruncated).toBeUndefined();
    });
  });

  describe('holds on the event log, and the skipped index', () => {
    const holds = () => `${prefix}:event-holds`;
    const entryMs = T0 - 5;

    it('holds the entry while the delivery is pending or failing, and releases it when it ends', async () => {
      await repo.createPending(identity('d1', { entryId: `${entryMs}-3` }));
      expect(await redis.zscore(holds(), 'd1')).toBe(String(entryMs));
      // Later writes need not know the entry: the record does.
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 1, at: iso(T0), durationMs: 1, statusCode: 503 },
        { status: DeliveryStatus.Failing, nextAttemptAtMs: T0 + 1000 },
      );
      expect(await redis.zscore(holds(), 'd1')).toBe(String(entryMs));
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 2, at: iso(T0 + 1), durationMs: 1, statusCode: 200 },
        { status: DeliveryStatus.Succeeded },
      );
      expect(await redis.zscore(holds(), 'd1')).toBeNull();
      // A replay makes it pending again: held again.
      await repo.setStatus('d1', DeliveryStatus.Pending, T0 + 2);
      expect(await redis.zscore(holds(), 'd1')).toBe(String(entryMs));
      // Succeeded inline at once: never held.
      await repo.recordAttempt(
        identity('d2', { entryId: `${entryMs}-4` }),
        { attempt: 1, at: iso(T0), durationMs: 1, statusCode: 200 },
        { status: DeliveryStatus.Succeeded },
      );
      expect(await redis.zscore(holds(), 'd2')).toBeNull();
      await repo.recordAttempt(
        identity('d3', { entryId: `${entryMs}-5` }),
        { attempt: 1, at: iso(T0), durationMs: 1, statusCode: 500 },
        { status: DeliveryStatus.Dead },
      );
      expect(await redis.zcard(holds())).toBe(1);
    });

    it('skips only deliveries that could still be attempted, indexes and counts them, and lists them past the count cap', async () => {
      const capped = repository(redis, prefix, { maxCount: 3 });
      await capped.createPending(identity('open', { entryId: `${entryMs}-1` }));
      await capped.recordAttempt(
        identity('done', { entryId: `${entryMs}-2` }),
        { attempt: 1, at: iso(T0), durationMs: 1, statusCode: 200 },
        { status: DeliveryStatus.Succeeded },
      );
      await expect(
        capped.skipOpen(['open', 'done', 'missing'], T0 + 10, 'event evicted'),
      ).resolves.toEqual(['open']);
      expect(await redis.zcard(holds())).toBe(0);
      await expect(capped.get('open')).resolves.toMatchObject({
        status: DeliveryStatus.Skipped,
        lastError: 'event evicted',
      });
      await expect(capped.get('done')).resolves.toMatchObject({ status: DeliveryStatus.Succeeded });
      // Many later deliveries push it out of the general index; the skipped one is still listed.
      for (let i = 0; i < 5; i++) {
        await capped.createPending(identity(`later${i}`, { createdAtMs: T0 + 100 + i }));
      }
      const listed = await capped.list({ status: DeliveryStatus.Skipped, limit: 10 });
      expect(listed.data.map((r) => r.id)).toEqual(['open']);
      await expect(
        capped.list({ status: DeliveryStatus.Skipped, subscriptionId: 'sub_other', limit: 10 }),
      ).resolves.toEqual({ data: [] });
      await expect(capped.countSkipped()).resolves.toBe(1);
      // Attempted again (a replay): no longer skipped.
      await capped.recordAttempt(
        identity('open'),
        { attempt: 1, at: iso(T0 + 20), durationMs: 1, statusCode: 200 },
        { status: DeliveryStatus.Succeeded },
      );
      await expect(capped.countSkipped()).resolves.toBe(0);
    });
  });

  describe('statuses and setStatus', () => {
    it('answers each status, undefined where there is no record', async () => {
      await expect(repo.statuses([])).resolves.toEqual([]);
      await repo.createPending(identity('d1'));
      await repo.recordAttempt(
        identity('d2'),
        { attempt: 1, at: iso(T0), durationMs: 1 },
        { status: DeliveryStatus.Dead },
      );
      await expect(repo.statuses(['d1', 'gone', 'd2'])).resolves.toEqual([
        DeliveryStatus.Pending,
        undefined,
        DeliveryStatus.Dead,
      ]);
    });

    it('passes a Redis error on a record through', async () => {
      await redis.set(`${prefix}:delivery:broken`, 'not a hash');
      await expect(repo.statuses(['broken'])).rejects.toThrow(/WRONGTYPE/);
    });

    it('sets the state without an attempt, clearing the next attempt time', async () => {
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 1, at: iso(T0), durationMs: 1, error: 'HTTP 500' },
        { status: DeliveryStatus.Failing, nextAttemptAtMs: T0 + 60_000 },
      );
      await expect(repo.setStatus('d1', DeliveryStatus.Pending, T0 + 500)).resolves.toBe(true);
      let record = await repo.get('d1');
      expect(record).toMatchObject({
        status: DeliveryStatus.Pending,
        updatedAt: iso(T0 + 500),
        lastError: 'HTTP 500',
        attemptCount: 1,
      });
      expect(record?.nextAttemptAt).toBeUndefined();

      await repo.setStatus('d1', DeliveryStatus.Skipped, T0 + 600, 'subscription deleted');
      record = await repo.get('d1');
      expect(record).toMatchObject({
        status: DeliveryStatus.Skipped,
        lastError: 'subscription deleted',
      });
    });

    it('creates nothing for a record that does not exist', async () => {
      await expect(repo.setStatus('gone', DeliveryStatus.Pending, T0)).resolves.toBe(false);
      expect(await redis.exists(`${prefix}:delivery:gone`)).toBe(0);
    });
  });

  describe('get', () => {
    it('is undefined for an unknown delivery', async () => {
      await expect(repo.get('nope')).resolves.toBeUndefined();
    });

    it('leaves the attempts out when asked to', async () => {
      await repo.recordAttempt(
        identity('d1'),
        { attempt: 1, at: iso(T0), durationMs: 1 },
        { status: DeliveryStatus.Succeeded },
      );
      const record = await repo.get('d1', false);
      expect(record?.attemptCount).toBe(1);
      expect(record).not.toHaveProperty('attempts');
    });

    it('reads records written with ISO times, and skips attempts it cannot read', async () => {
      await redis.hset(`${prefix}:delivery:old`, {
        eventId: 'evt_old',
        eventType: 'call.live',
        subscriptionId: 'sub_1',
        status: 'dead',
        createdAt: '2026-01-02T03:04:05.000Z',
        nextAttemptAt: '',
        a1: 'not json',
        a2: JSON.stringify(['1', T0]),
        a3: JSON.stringify([3, 'yesterday']),
        a4: JSON.stringify({ 0: 4, 1: T0 }),
        // null would read as 1970-01-01 if its type were not checked.
        a5: JSON.stringify([5, null]),
        a10: JSON.stringify([10, T0 + 10, 'slow', 'x', 5, 7, true, 'soon']),
        a9: JSON.stringify([9, T0 + 9, 1, 404, 'HTTP 404', 'missing', 1, T0 + 99]),
        b1: JSON.stringify([1, T0]),
      });
      const record = await repo.get('old');
      expect(record).toEqual({
        id: 'old',
        eventId: 'evt_old',
        eventType: 'call.live',
        subscriptionId: 'sub_1',
        status: DeliveryStatus.Dead,
        createdAt: '2026-01-02T03:04:05.000Z',
        updatedAt: '2026-01-02T03:04:05.000Z',
        attemptCount: 0,
        attempts: [
          {
            attempt: 9,
            at: iso(T0 + 9),
            durationMs: 1,
            statusCode: 404,
            error: 'HTTP 404',
            responseBody: 'missing',
            responseTruncated: true,
            nextAttemptAt: iso(T0 + 99),
          },
          { attempt: 10, at: iso(T0 + 10), durationMs: 0 },
        ],
      });
    });
  });

  describe('list', () => {
    async function seed(
      rows: { id: string; at: number; sub?: string; status?: DeliveryStatus; type?: string }[],
    ): Promise<void> {
      for (const row of rows) {
        const who = identity(row.id, {
          createdAtMs: row.at,
          subscriptionId: row.sub ?? 'sub_1',
          eventType: row.type ?? 'call.live',
        });
        if (row.status === undefined || row.status === DeliveryStatus.Pending) {
          await repo.createPending(who);
        } else {
          await repo.recordAttempt(
            who,
            { attempt: 1, at: iso(row.at), durationMs: 1 },
            { status: row.status },
          );
        }
      }
    }

    it('lists newest first without the attempts, the last page without a cursor', async () => {
      await seed([
        { id: 'd1', at: T0 },
        { id: 'd2', at: T0 + 1, status: DeliveryStatus.Succeeded },
        { id: 'd3', at: T0 + 2 },
      ]);
      const page = await repo.list({ limit: 10 });
      expect(page.data.map((r) => r.id)).toEqual(['d3', 'd2', 'd1']);
      expect(page.nextCursor).toBeUndefined();
      expect(page.data[1]).not.toHaveProperty('attempts');
      expect(page.data[1].status).toBe(DeliveryStatus.Succeeded);
    });

    it('pages with the cursor, through deliveries created in the same ms', async () => {
      await seed([
        { id: 'x0', at: T0 - 1 },
        { id: 'a', at: T0 },
        { id: 'b', at: T0 },
        { id: 'c', at: T0 },
        { id: 'd', at: T0 },
        { id: 'z', at: T0 + 1 },
      ]);
      const seen: string[] = [];
      let cursor: string | undefined;
      const sizes: number[] = [];
      do {
        const page = await repo.list({ limit: 2, cursor });
        seen.push(...page.data.map((r) => r.id));
        sizes.push(page.data.length);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(['z', 'd', 'c', 'b', 'a', 'x0']);
      // The last full page still hands out a cursor; the page after it is empty.
      expect(sizes).toEqual([2, 2, 2, 0]);
    });

    it('after a cursor, lists every older delivery whatever its id', async () => {
      await seed([
        { id: 'a-older', at: T0 - 5 },
        { id: 'z-older', at: T0 - 4 },
        { id: 'm', at: T0 },
        { id: 'n', at: T0 },
      ]);
      const first = await repo.list({ limit: 1 });
      expect(first.data.map((r) => r.id)).toEqual(['n']);
      const rest = await repo.list({ limit: 10, cursor: first.nextCursor });
      expect(rest.data.map((r) => r.id)).toEqual(['m', 'z-older', 'a-older']);
    });

    it('filters on subscription, status, type and an inclusive time window', async () => {
      await seed([
        { id: 'early', at: T0 - 1, status: DeliveryStatus.Dead },
        { id: 'start', at: T0, status: DeliveryStatus.Dead },
        { id: 'other-sub', at: T0 + 1, sub: 'sub_2', status: DeliveryStatus.Dead },
        { id: 'ok', at: T0 + 2, status: DeliveryStatus.Succeeded },
        { id: 'sms', at: T0 + 3, status: DeliveryStatus.Dead, type: 'sms.received' },
        { id: 'end', at: T0 + 10, status: DeliveryStatus.Dead },
        { id: 'late', at: T0 + 11, status: DeliveryStatus.Dead },
      ]);
      const window = { sinceMs: T0, untilMs: T0 + 10, limit: 10 };
      const ids = async (q: object): Promise<string[]> =>
        (await repo.list({ ...window, ...q })).data.map((r) => r.id);
      expect(await ids({})).toEqual(['end', 'sms', 'ok', 'other-sub', 'start']);
      expect(await ids({ subscriptionId: 'sub_1' })).toEqual(['end', 'sms', 'ok', 'start']);
      expect(await ids({ subscriptionId: 'sub_2' })).toEqual(['other-sub']);
      expect(await ids({ subscriptionId: 'sub_1', status: DeliveryStatus.Dead })).toEqual([
        'end',
        'sms',
        'start',
      ]);
      expect(await ids({ eventType: 'sms.received' })).toEqual(['sms']);
      expect(await ids({ status: DeliveryStatus.Dead, eventType: 'call.live' })).toEqual([
        'end',
        'other-sub',
        'start',
      ]);
    });

    it('keeps to the window end when a cursor points past it', async () => {
      await seed([
        { id: 'd1', at: T0 },
        { id: 'd2', at: T0 + 5 },
        { id: 'd3', at: T0 + 10 },
      ]);
      const page = await repo.list({
        limit: 10,
        untilMs: T0 + 5,
        cursor: cursorOf([String(T0 + 10), 'd3']),
      });
      expect(page.data.map((r) => r.id)).toEqual(['d2', 'd1']);
    });

    it('walks past index entries whose record has expired', async () => {
      await seed([
        { id: 'd1', at: T0 },
        { id: 'gone', at: T0 + 1 },
        { id: 'd3', at: T0 + 2 },
      ]);
      await redis.del(`${prefix}:delivery:gone`);
      const page = await repo.list({ limit: 2 });
      expect(page.data.map((r) => r.id)).toEqual(['d3', 'd1']);
    });

    it('reads on through the index in batches to fill a filtered page', async () => {
      const rows = Array.from({ length: 450 }, (_, i) => ({ id: `p${i}`, at: T0 + 1000 + i }));
      await seed([
        { id: 'dead-2', at: T0, status: DeliveryStatus.Dead },
        { id: 'dead-1', at: T0 + 1, status: DeliveryStatus.Dead },
        ...rows,
      ]);
      const page = await repo.list({ status: DeliveryStatus.Dead, limit: 1 });
      expect(page.data.map((r) => r.id)).toEqual(['dead-1']);
      const next = await repo.list({
        status: DeliveryStatus.Dead,
        limit: 1,
        cursor: page.nextCursor,
      });
      expect(next.data.map((r) => r.id)).toEqual(['dead-2']);
    });

    it.each([
      ['not base64 json', 'not-a-cursor'],
      ['an object', cursorOf({ score: '1', id: 'a' })],
      ['three parts', cursorOf(['1', 'a', 'b'])],
      ['one part', cursorOf(['1'])],
      ['a numeric score', cursorOf([1, 'a'])],
      ['a score that is not digits', cursorOf(['1e3', 'a'])],
      ['a score of 17 digits', cursorOf(['1'.repeat(17), 'a'])],
      ['an empty score', cursorOf(['', 'a'])],
      ['a numeric id', cursorOf(['1', 5])],
      ['an empty id', cursorOf(['1', ''])],
      ['an id over 1024 characters', cursorOf(['1', 'a'.repeat(1025)])],
      // Indexes like a pair: '1' and '2' would pass every check made of an array.
      ['a two-character string', cursorOf('12')],
    ])('refuses a cursor that is %s', async (_what, cursor) => {
      let caught: unknown;
      try {
        await repo.list({ limit: 10, cursor });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidDeliveryCursorError);
      expect(caught).toMatchObject({
        code: 'INVALID_CURSOR',
        name: 'InvalidDeliveryCursorError',
        message: 'cursor is not one returned by a previous page of GET /v1/deliveries',
      });
    });

    it('takes a cursor with the longest id and score it can hand out', async () => {
      await seed([{ id: 'd1', at: T0 }]);
      const page = await repo.list({
        limit: 10,
        cursor: cursorOf(['9'.repeat(16), 'a'.repeat(1024)]),
      });
      expect(page.data.map((r) => r.id)).toEqual(['d1']);
    });
  });
});
