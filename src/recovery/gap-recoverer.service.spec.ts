import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { entityStateAlias } from '../events/entity-state-alias';
import { EventNormalizer } from '../events/event-normalizer.service';
import type { EventIngestor } from '../ingest/event-ingestor.service';
import type { MetricsService } from '../metrics/metrics.service';
import {
  EntitySearch,
  type OpentactRestClient,
  type SearchPage,
  type SearchRequest,
} from '../platform/opentact-rest.client';
import { OpentactRequestError } from '../platform/opentact-errors';
import type { TokenProvider } from '../platform/token-provider.service';
import {
  GapRecoverer,
  MAX_REQUEST_ATTEMPTS,
  RecoveryFailedError,
  RecoveryInterruptedError,
} from './gap-recoverer.service';
import type { RecoveredEvent } from './recovered-events';
import type {
  ClaimedGap,
  RecoveryReport,
  RecoveryStateRepository,
} from './recovery-state.repository';

const GAP: ClaimedGap = {
  id: 'gap-1',
  fromMs: Date.parse('2026-11-30T10:00:00Z'),
  toMs: Date.parse('2026-11-30T10:05:00Z'),
  truncated: false,
  resumed: false,
};

function recordingLogger(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const logger = {
    child: () => logger,
    ...Object.fromEntries(
      ['info', 'warn', 'error'].map((level) => [
        level,
        (_fields: unknown, msg: string) => lines.push({ level, msg }),
      ]),
    ),
  };
  return { logger: logger as unknown as Logger, lines };
}

function build(search: (kind: EntitySearch) => Promise<SearchPage>) {
  const reports: RecoveryReport[] = [];
  const state = {
    saveReport: jest.fn((report: RecoveryReport) => {
      reports.push({ ...report });
      return Promise.resolve();
    }),
    renew: jest.fn(() => Promise.resolve(true)),
    finish: jest.fn(() => Promise.resolve()),
  };
  const counter = { inc: jest.fn() };
  const { logger, lines } = recordingLogger();
  const recoverer = new GapRecoverer(
    {
      recovery: { maxWindowMs: 3_600_000, marginMs: 30_000, requestsPerSecond: 1_000 },
    } as AppConfig,
    {
      search: jest.fn((_token: string, kind: EntitySearch) => search(kind)),
    } as unknown as OpentactRestClient,
    { getToken: () => Promise.resolve({ token: 'jwt' }) } as unknown as TokenProvider,
    {} as EventNormalizer,
    { appendRecovered: jest.fn(() => Promise.resolve([])) } as unknown as EventIngestor,
    state as unknown as RecoveryStateRepository,
    { recoveryEvents: counter, recoveryErrors: counter } as unknown as MetricsService,
    logger,
  );
  return { recoverer, state, reports, lines };
}

const EMPTY: SearchPage = { total: 0, data: [] };

describe('GapRecoverer', () => {
  afterEach(() => jest.useRealTimers());

  it('finishes a gap whose searches find nothing, and reports it done', async () => {
    const { recoverer, state, reports, lines } = build(() => Promise.resolve(EMPTY));
    const report = await recoverer.recover(GAP, 'me');
    expect(report).toMatchObject({ state: 'done', requests: 3, entities: 0, errors: 0 });
    expect(state.finish).toHaveBeenCalledWith('gap-1');
    expect(reports.at(-1)?.state).toBe('done');
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('stops at shutdown as interrupted, not failed: logged at info, the gap left claimable', async () => {
    let running = true;
    const { recoverer, state, reports, lines } = build((kind) => {
      // The process starts shutting down while the first search is in flight.
      if (kind === EntitySearch.SmsInbound) {
        running = false;
      }
      return Promise.resolve(EMPTY);
    });
    await expect(recoverer.recover(GAP, 'me', () => running)).rejects.toBeInstanceOf(
      RecoveryInterruptedError,
    );
    expect(state.finish).not.toHaveBeenCalled();
    expect(reports.at(-1)).toMatchObject({ state: 'interrupted', requests: 1 });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines.some((l) => l.level === 'info' && l.msg.includes('interrupted'))).toBe(true);
  });

  it(`fails after ${MAX_REQUEST_ATTEMPTS} failed attempts at one page, logged as an error`, async () => {
    jest.useFakeTimers();
    const { recoverer, state, reports, lines } = build(() => Promise.reject(new Error('HTTP 503')));
    const outcome = recoverer.recover(GAP, 'me').catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(120_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(RecoveryFailedError);
    expect((error as Error).message).toContain('HTTP 503');
    expect(state.finish).not.toHaveBeenCalled();
    expect(reports.at(-1)).toMatchObject({
      state: 'failed',
      requests: MAX_REQUEST_ATTEMPTS,
      errors: MAX_REQUEST_ATTEMPTS,
    });
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});

type Order = 'oldest first' | 'newest first' | 'by id';

/**
 * Opentact's searches over a set of entities that keeps changing: `take`/`skip` over those
 * modified within the body's bounds (inclusive), in an order the reference does not document
 * (each test runs every order), and `modified_on` moved to the clock's now when one changes.
 */
class ChangingSearches {
  nowMs: number;
  readonly requests: { kind: EntitySearch; token: string; body: SearchRequest }[] = [];
  /** Called after each answered request, with its number (1-based). */
  onAnswered: (n: number, page: SearchPage) => void = () => undefined;

  constructor(
    readonly entities: Map<EntitySearch, Record<string, unknown>[]>,
    private readonly order: Order,
    nowMs: number,
  ) {
    this.nowMs = nowMs;
  }

  search(token: string, kind: EntitySearch, body: SearchRequest): Promise<SearchPage> {
    this.requests.push({ kind, token, body });
    const from = body.modifiedFrom.getTime();
    const to = body.modifiedTo.getTime();
    const at = (e: Record<string, unknown>) => Date.parse(String(e.modified_on));
    const createdTo = body.createdTo?.getTime() ?? Number.POSITIVE_INFINITY;
    const matching = (this.entities.get(kind) ?? [])
      .filter((e) => at(e) >= from && at(e) <= to)
      .filter((e) => Date.parse(String(e.created_on)) <= createdTo)
      .sort((a, b) =>
        this.order === 'by id'
          ? String(a.uuid).localeCompare(String(b.uuid))
          : this.order === 'oldest first'
            ? at(a) - at(b)
            : at(b) - at(a),
      );
    const page: SearchPage = {
      total: matching.length,
      data: matching.slice(body.skip, body.skip + body.take).map((e) => ({ ...e })),
    };
    this.nowMs += 200;
    this.onAnswered(this.requests.length, page);
    return Promise.resolve(page);
  }

  /** The entity changes now: a later state, its `modified_on` the current time. */
  change(entity: Record<string, unknown>, fields: Record<string, unknown> = {}): void {
    Object.assign(entity, fields, { modified_on: new Date(this.nowMs).toISOString() });
  }
}

function inboundSms(i: number, atMs: number): Record<string, unknown> {
  const at = new Date(atMs).toISOString();
  return {
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    created_on: at,
    modified_on: at,
    from: '14158531285',
    to: '18382050008',
    message: `hello ${i}`,
    state: 'success',
    delivered: true,
    tn: { tn: 18382050008 },
  };
}

/** The recoverer with the real normaliser, an ingestor that dedups on aliases, and `searches`. */
function buildWith(
  searches: ChangingSearches,
  tokens: {
    canRefresh: boolean;
    getToken: (o?: { fresh?: boolean }) => Promise<{ token: string }>;
  },
  marginMs = 30_000,
) {
  const appended: RecoveredEvent[] = [];
  const claimed = new Set<string>();
  const ingestor = {
    appendRecovered: (items: RecoveredEvent[]) =>
      Promise.resolve(
        items.map((item) => {
          const aliases = [entityStateAlias(item.event.type, item.event.data), ...item.aliases];
          if (aliases.some((a) => a !== undefined && claimed.has(a))) {
            return undefined;
          }
          aliases.forEach((a) => a !== undefined && claimed.add(a));
          appended.push(item);
          return `${appended.length}-0`;
        }),
      ),
  };
  const state = {
    saveReport: () => Promise.resolve(),
    renew: () => Promise.resolve(true),
    finish: () => Promise.resolve(),
  };
  const counter = { inc: () => undefined };
  const { logger, lines } = recordingLogger();
  const recoverer = new GapRecoverer(
    {
      recovery: { maxWindowMs: 21_600_000, marginMs, requestsPerSecond: 1_000 },
    } as AppConfig,
    { search: searches.search.bind(searches) } as unknown as OpentactRestClient,
    tokens as unknown as TokenProvider,
    new EventNormalizer({ opentact: { maxFrameBytes: 1_048_576 } } as AppConfig),
    ingestor as unknown as EventIngestor,
    state as unknown as RecoveryStateRepository,
    { recoveryEvents: counter, recoveryErrors: counter } as unknown as MetricsService,
    logger,
    { now: () => new Date(searches.nowMs) },
  );
  return { recoverer, appended, lines };
}

const ORDERS: Order[] = ['oldest first', 'newest first', 'by id'];
const STATIC_TOKENS = { canRefresh: true, getToken: () => Promise.resolve({ token: 'jwt' }) };

describe('GapRecoverer over searches that keep changing', () => {
  it.each(ORDERS)(
    'finds a call that changed again after the window, and its states within it (%s)',
    async (order) => {
      const at = (s: number) => new Date(GAP.fromMs + s * 1_000).toISOString();
      const call: Record<string, unknown> = {
        uuid: 'c0ffee00-0000-4000-8000-000000000001',
        direction: 'in',
        from: '+14158531285',
        to: '18382050008',
        state: 'ringing',
        created_on: at(10),
        modified_on: at(11),
        init_on: at(10),
        ring_on: at(11),
      };
      const searches = new ChangingSearches(
        new Map([[EntitySearch.Calls, [call]]]),
        order,
        // A long gap: the searches start a while after it ended.
        GAP.toMs + 120_000,
      );
      // Answered while the link is back, past the window's end (gap end + margin).
      searches.change(call, { state: 'live', answer_on: new Date(searches.nowMs).toISOString() });
      const { recoverer, appended } = buildWith(searches, STATIC_TOKENS);
      const report = await recoverer.recover(GAP, 'me');
      expect(appended.map((r) => r.event.type)).toEqual(['call.initiated', 'call.ringing']);
      expect(report).toMatchObject({ state: 'done', recovered: 2, entities: 1 });
      // Every search ran up to the moment it was asked (plus the margin), not to the window's end.
      for (const request of searches.requests) {
        expect(request.body.modifiedTo.getTime()).toBeGreaterThan(GAP.toMs + 120_000);
      }
    },
  );

  it.each(ORDERS)(
    'skips nothing while entities of pages already read change under it (%s)',
    async (order) => {
      const sms = Array.from({ length: 250 }, (_, i) =>
        inboundSms(i, GAP.fromMs + 1_000 + i * 1_000),
      );
      const searches = new ChangingSearches(
        new Map([[EntitySearch.SmsInbound, sms]]),
        order,
        // Past the window's end: a changed entity leaves a window that ends there.
        GAP.toMs + 60_000,
      );
      // After each of the first requests, three entities it returned change (read later again).
      searches.onAnswered = (n, page) => {
        if (n <= 3) {
          for (const seen of page.data.slice(0, 3)) {
            searches.change(sms.find((e) => e.uuid === seen.uuid) ?? {}, { readed: true });
          }
        }
      };
      const { recoverer, appended } = buildWith(searches, STATIC_TOKENS);
      const report = await recoverer.recover(GAP, 'me');
      const found = new Set(
        appended.map((r) => (r.event.data as { messageId?: string }).messageId),
      );
      expect(sms.filter((e) => !found.has(String(e.uuid))).map((e) => e.uuid)).toEqual([]);
      expect(appended).toHaveLength(250);
      expect(report).toMatchObject({ state: 'done', recovered: 250, duplicates: 0 });
    },
  );

  it('does not read what was created after the window (live traffic while recovering)', async () => {
    const live = Array.from({ length: 1_000 }, (_, i) => inboundSms(i, GAP.toMs + 60_000 + i * 10));
    const searches = new ChangingSearches(
      new Map([[EntitySearch.SmsInbound, [inboundSms(5_000, GAP.fromMs + 1_000), ...live]]]),
      'oldest first',
      GAP.toMs + 80_000,
    );
    const { recoverer, appended } = buildWith(searches, STATIC_TOKENS);
    await recoverer.recover(GAP, 'me');
    expect(appended).toHaveLength(1);
    expect(searches.requests.filter((r) => r.kind === EntitySearch.SmsInbound)).toHaveLength(1);
    for (const request of searches.requests) {
      expect(request.body.createdTo?.getTime()).toBe(GAP.toMs + 30_000);
    }
  });

  it('pages the moment of more entities than one page holds without skipping as they change', async () => {
    const atMs = GAP.fromMs + 60_000;
    const sms = Array.from({ length: 230 }, (_, i) => inboundSms(i, atMs));
    for (const order of ORDERS) {
      sms.forEach((e) => (e.modified_on = new Date(atMs).toISOString()));
      const searches = new ChangingSearches(
        new Map([[EntitySearch.SmsInbound, sms]]),
        order,
        GAP.toMs + 5_000,
      );
      searches.onAnswered = (n, page) => {
        if (n <= 4) {
          for (const seen of page.data.slice(0, 5)) {
            const entity = sms.find((e) => e.uuid === seen.uuid);
            if (entity && entity.modified_on === new Date(atMs).toISOString()) {
              searches.change(entity, { readed: true });
            }
          }
        }
      };
      const { recoverer, appended } = buildWith(searches, STATIC_TOKENS);
      await recoverer.recover(GAP, 'me');
      expect(
        new Set(appended.map((r) => (r.event.data as { messageId?: string }).messageId)).size,
      ).toBe(230);
    }
  });
});

describe('GapRecoverer when a search answers 401', () => {
  function unauthorizedOnce(searches: ChangingSearches): ChangingSearches {
    const answer = searches.search.bind(searches);
    let refused = false;
    searches.search = (token, kind, body) => {
      if (!refused) {
        refused = true;
        searches.requests.push({ kind, token, body });
        return Promise.reject(
          new OpentactRequestError(
            'OPENTACT_REQUEST_FAILED',
            `Opentact POST ${kind} failed (HTTP 401): jwt expired`,
            401,
          ),
        );
      }
      return answer(token, kind, body);
    };
    return searches;
  }

  it('logs in again at once and retries with the fresh token, counting the error', async () => {
    const searches = unauthorizedOnce(
      new ChangingSearches(
        new Map([[EntitySearch.SmsInbound, [inboundSms(1, GAP.fromMs + 1_000)]]]),
        'oldest first',
        GAP.toMs + 5_000,
      ),
    );
    const getToken = jest.fn((options?: { fresh?: boolean }) =>
      Promise.resolve({ token: options?.fresh ? 'jwt-fresh' : 'jwt-old' }),
    );
    const { recoverer, appended, lines } = buildWith(searches, { canRefresh: true, getToken });
    const started = Date.now();
    const report = await recoverer.recover(GAP, 'me');
    expect(getToken).toHaveBeenCalledWith({ fresh: true });
    expect(searches.requests.map((r) => r.token).slice(0, 2)).toEqual(['jwt-old', 'jwt-fresh']);
    expect(appended).toHaveLength(1);
    expect(report).toMatchObject({ state: 'done', errors: 1 });
    // No backoff before the retry with a new token.
    expect(Date.now() - started).toBeLessThan(250);
    expect(lines.some((l) => l.level === 'warn' && /401.*logging in again/.test(l.msg))).toBe(true);
  });

  it('logs in again on every 401, but backs off after the first', async () => {
    jest.useFakeTimers();
    const searches = new ChangingSearches(new Map(), 'oldest first', GAP.toMs + 5_000);
    searches.search = () =>
      Promise.reject(
        new OpentactRequestError('OPENTACT_REQUEST_FAILED', 'Opentact POST failed (HTTP 401)', 401),
      );
    const getToken = jest.fn(() => Promise.resolve({ token: 'jwt' }));
    const { recoverer } = buildWith(searches, { canRefresh: true, getToken });
    const outcome = recoverer.recover(GAP, 'me').catch((error: unknown) => error);
    // Past the pacer's 1 ms, short of the backoff's 250 ms at least.
    await jest.advanceTimersByTimeAsync(20);
    // The first attempt and the one right after logging in again; then the backoff.
    expect(getToken).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(await outcome).toBeInstanceOf(RecoveryFailedError);
    expect(getToken).toHaveBeenCalledTimes(MAX_REQUEST_ATTEMPTS);
    expect(getToken.mock.calls.slice(1)).toEqual(
      Array.from({ length: MAX_REQUEST_ATTEMPTS - 1 }, () => [{ fresh: true }]),
    );
  });

  it('says that a configured token cannot be renewed, and keeps retrying with backoff', async () => {
    jest.useFakeTimers();
    const searches = unauthorizedOnce(
      new ChangingSearches(new Map(), 'oldest first', GAP.toMs + 5_000),
    );
    const getToken = jest.fn(() => Promise.resolve({ token: 'configured' }));
    const { recoverer, lines } = buildWith(searches, { canRefresh: false, getToken });
    const outcome = recoverer.recover(GAP, 'me');
    await jest.advanceTimersByTimeAsync(5_000);
    const report = await outcome;
    expect(getToken).not.toHaveBeenCalledWith({ fresh: true });
    expect(report).toMatchObject({ state: 'done', errors: 1 });
    const warning = lines.find((l) => l.level === 'warn' && l.msg.includes('OPENTACT_TOKEN'));
    expect(warning?.msg).toMatch(/cannot be renewed/);
  });
});
